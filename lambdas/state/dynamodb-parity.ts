import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
} from '@aws-sdk/client-dynamodb';
import { addDays, isCalendarDate } from '../domain/dates';
import type { Page } from '../domain/page';
import { pageOf } from '../shared/cursor';
import {
  DynamoDbTable,
  firstItems,
  type Item,
  keyPart,
  rangeCondition,
  requiredString,
  requiredStrings,
  stringAttributes,
} from '../shared/dynamodb';
import { InvalidRequestError } from '../shared/errors';
import { nightRange } from './night-range';
import type { ParityFinding, ParityNightKey, ParityQuery, ParityRecord, ParityStore } from './ports';

/** Days a night's findings outlive its stay date unless it is checked again, which it no longer is once past. */
export const DEFAULT_PARITY_EXPIRY_DAYS = 30;
const KEY_FIELDS = [
  'propertyId',
  'roomTypeId',
  'ratePlanId',
  'date',
] as const satisfies readonly (keyof ParityNightKey)[];

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
 * `<date>#<roomTypeId>#<ratePlanId>`, ids percent-encoded (keyPart) as in the ARI table's keys: a property's nights
 * in date order, then by room type and rate plan.
 */
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
export class DynamoDbParityStore extends DynamoDbTable implements ParityStore {
  private readonly expireDaysAfterStay: number;

  constructor(client: DynamoDBClient, tableName: string, options: DynamoDbParityStoreOptions = {}) {
    super(client, tableName);
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
          ...stringAttributes(key, KEY_FIELDS),
          findings: { S: JSON.stringify(record.findings) },
          checkedAt: { S: record.checkedAt },
          expiresAt: { N: String(expiresAt) },
        },
      }),
    );
  }

  /** The night's current findings, or undefined when it has none. Strongly consistent: a check just wrote it. */
  async getNight(key: ParityNightKey): Promise<ParityRecord | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: key.propertyId }, sk: { S: paritySortKey(key) } },
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : toParityRecord(Item);
  }

  /**
   * Asks DynamoDB for one night more than the page holds, so a cursor is handed out only when another night
   * follows: the last page never comes back empty. The cursor is the key of the last night returned.
   */
  async list(query: ParityQuery): Promise<Page<ParityRecord>> {
    const { range, startKey } = nightRange(
      query.propertyId,
      query,
      (message) => new InvalidParityQueryError(message),
    );
    const pages = paginateQuery(
      { client: this.client, pageSize: query.limit + 1, startingToken: startKey },
      { TableName: this.tableName, ...rangeCondition(range), ConsistentRead: true },
    );
    return pageOf(await firstItems(pages, query.limit), ['pk', 'sk'], toParityRecord);
  }
}

function toParityRecord(item: Item): ParityRecord {
  const findings = JSON.parse(requiredString(item, 'findings', 'Parity')) as ParityFinding[];
  return {
    key: requiredStrings(item, KEY_FIELDS, 'Parity'),
    findings,
    checkedAt: requiredString(item, 'checkedAt', 'Parity'),
  };
}

/** Epoch seconds at which a night's item expires: midnight UTC, `expireDaysAfterStay` days after the stay date. */
export function parityExpiresAt(date: string, expireDaysAfterStay = DEFAULT_PARITY_EXPIRY_DAYS): number {
  return Date.parse(`${addDays(date, expireDaysAfterStay)}T00:00:00Z`) / 1000;
}
