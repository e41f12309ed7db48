import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { addDays, isCalendarDate } from '../domain/dates';
import type { Page } from '../domain/page';
import { decodeRangeCursor, encodeCursor } from '../shared/cursor';
import { requiredString } from '../shared/dynamodb';
import { InvalidRequestError } from '../shared/errors';
import type { ParityFinding, ParityNightKey, ParityQuery, ParityRecord, ParityStore } from './ports';

type Item = Record<string, AttributeValue>;

/** Days a night's findings outlive its stay date unless it is checked again, which it no longer is once past. */
export const DEFAULT_PARITY_EXPIRY_DAYS = 30;
const MAX_PAGE_SIZE = 1000;
/** Sorts after every sort-key suffix, which is all ASCII: the ids in it are percent-encoded. */
const AFTER_EVERY_SUFFIX = '#\uffff';

export interface DynamoDbParityStoreOptions {
  /** A night's item expires this many days after its stay date. @default 30 */
  readonly expireDaysAfterStay?: number;
}

/** A parity read whose date range or page size cannot be served. */
export class InvalidParityQueryError extends InvalidRequestError {
  constructor(message: string) {
    super('invalid_parity_query', message);
  }
}

/**
 * One sort-key component. Percent-encoding turns every '#' inside an id into "%23" and every character into
 * ASCII, so the separator cannot be forged, two different id tuples never share a key, and '\uffff' bounds
 * every suffix. The same encoding as the ARI table's keys.
 */
export function keyPart(id: string): string {
  return encodeURIComponent(id);
}

/** `<date>#<roomTypeId>#<ratePlanId>`: a property's nights in date order, then by room type and rate plan. */
export function paritySortKey(key: Pick<ParityNightKey, 'date' | 'roomTypeId' | 'ratePlanId'>): string {
  return `${key.date}#${keyPart(key.roomTypeId)}#${keyPart(key.ratePlanId)}`;
}

/**
 * Current parity findings in the PARITY_FINDINGS table: one item per night with findings, in the property's
 * partition (`pk` = property id) under `sk` = paritySortKey. Findings are kept as one JSON string: they are
 * only ever read back whole, and JSON keeps integer minor units and percentages exactly as they were put.
 * A night that became clean is deleted rather than stored empty, so `list` needs no filter and never reads
 * clean nights. Each item expires a configurable number of days after its stay date, so past nights, which no
 * check revisits, clean themselves up.
 */
export class DynamoDbParityStore implements ParityStore {
  private readonly expireDaysAfterStay: number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: DynamoDbParityStoreOptions = {},
  ) {
    const days = options.expireDaysAfterStay ?? DEFAULT_PARITY_EXPIRY_DAYS;
    if (!Number.isInteger(days) || days < 0) {
      throw new RangeError(
        `expireDaysAfterStay must be a whole number of days, 0 or more; received ${days}.`,
      );
    }
    this.expireDaysAfterStay = days;
  }

  /**
   * Unconditional: a night is checked by one reconciliation run at a time, and the latest check is the truth.
   */
  async putNight(record: ParityRecord): Promise<void> {
    const { key } = record;
    if (!isCalendarDate(key.date)) {
      // Range reads rely on the sort key starting with a fixed-width date.
      throw new Error(
        `Parity night ${key.propertyId}/${key.roomTypeId}/${key.ratePlanId} has date "${key.date}"; expected YYYY-MM-DD.`,
      );
    }
    const itemKey = { pk: { S: key.propertyId }, sk: { S: paritySortKey(key) } };
    if (record.findings.length === 0) {
      await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: itemKey }));
      return;
    }
    const expiresAt = parityExpiresAt(key.date, this.expireDaysAfterStay);
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...itemKey,
          propertyId: { S: key.propertyId },
          roomTypeId: { S: key.roomTypeId },
          ratePlanId: { S: key.ratePlanId },
          date: { S: key.date },
          findings: { S: JSON.stringify(record.findings) },
          checkedAt: { S: record.checkedAt },
          expiresAt: { N: String(expiresAt) },
        },
      }),
    );
  }

  /**
   * Asks DynamoDB for one night more than the page holds, so a cursor is handed out only when another night
   * follows: the last page never comes back empty. The cursor is the key of the last night returned.
   */
  async list(query: ParityQuery): Promise<Page<ParityRecord>> {
    assertDate(query.from, '"from" date');
    assertDate(query.to, '"to" date');
    if (query.from > query.to) {
      throw new InvalidParityQueryError(
        `The date range runs backwards ("from" ${query.from} is after "to" ${query.to}); swap them.`,
      );
    }
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PAGE_SIZE) {
      throw new InvalidParityQueryError(
        `The page size must be a whole number from 1 to ${MAX_PAGE_SIZE}; received ${query.limit}.`,
      );
    }
    const pk = query.propertyId;
    const upper = `${query.to}${AFTER_EVERY_SUFFIX}`;
    let startKey =
      query.cursor === undefined ? undefined : decodeRangeCursor(query.cursor, pk, query.from, upper);
    const items: Item[] = [];
    // More than one round trip only when DynamoDB stops at its 1 MB page size before the requested count.
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: { ':pk': { S: pk }, ':from': { S: query.from }, ':to': { S: upper } },
          ExclusiveStartKey: startKey,
          Limit: query.limit + 1 - items.length,
          ConsistentRead: true,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && items.length <= query.limit);

    const records = items.slice(0, query.limit).map(toParityRecord);
    if (items.length <= query.limit) return { items: records };
    const last = items[query.limit - 1];
    return { items: records, cursor: encodeCursor({ pk, sk: textOf(last ?? {}, 'sk') }) };
  }
}

function assertDate(value: string, what: string): void {
  if (!isCalendarDate(value)) {
    throw new InvalidParityQueryError(`The ${what} must be a calendar date YYYY-MM-DD; received "${value}".`);
  }
}

function textOf(item: Item, name: string): string {
  return requiredString(item, name, 'Parity');
}

function toParityRecord(item: Item): ParityRecord {
  const findings = JSON.parse(textOf(item, 'findings')) as ParityFinding[];
  return {
    key: {
      propertyId: textOf(item, 'propertyId'),
      roomTypeId: textOf(item, 'roomTypeId'),
      ratePlanId: textOf(item, 'ratePlanId'),
      date: textOf(item, 'date'),
    },
    findings,
    checkedAt: textOf(item, 'checkedAt'),
  };
}

/** Epoch seconds at which a night's item expires: midnight UTC, `expireDaysAfterStay` days after the stay date. */
export function parityExpiresAt(date: string, expireDaysAfterStay = DEFAULT_PARITY_EXPIRY_DAYS): number {
  return Date.parse(`${addDays(date, expireDaysAfterStay)}T00:00:00Z`) / 1000;
}
