import { createHash } from 'node:crypto';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  QueryCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { FIELD_GROUPS, type FieldGroup } from '../domain/state';
import type { Clock } from '../shared/clock';
import { requiredString } from '../shared/dynamodb';
import { keyPart } from '../state/dynamodb-parity';
import type { AuditAction, AuditLog, AuditRecord } from './ports';

type Item = Record<string, AttributeValue>;

/** BatchWriteItem's limit per request. */
const BATCH_WRITE_LIMIT = 25;
const DEFAULT_MAX_ATTEMPTS = 6;
const DEFAULT_BACKOFF_MS = 25;
const DAY_SECONDS = 86_400;
/** Sorts after every sort-key suffix, which is all ASCII: every component is percent-encoded. */
const AFTER_EVERY_SUFFIX = '#\uffff';
const AUDIT_ACTIONS: readonly string[] = ['overwritten', 'observed'] satisfies readonly AuditAction[];

export interface DynamoDbAuditLogOptions {
  /** Days a record is kept, counted from when it was recorded. */
  readonly retentionDays: number;
  readonly clock: Clock;
  /** BatchWriteItem calls per chunk of 25 before giving up on items DynamoDB keeps returning unprocessed. */
  readonly maxAttempts?: number;
  /** Wait before the first retry of unprocessed items; doubles with each further retry. */
  readonly backoffMs?: number;
}

/** An audit record as stored, with the instant (epoch seconds) DynamoDB's TTL removes it. */
export type StoredAuditRecord = AuditRecord & { readonly expiresAt: number };

/**
 * The reconciliation audit in the RECONCILE_AUDIT table: one partition per internal property (`pk`), and
 * `sk` = `<date>#<roomTypeId>#<ratePlanId>#<channel>#<group>#<at>#<runId>#<digest>`, every component
 * percent-encoded so that a '#' inside an id cannot forge a separator. A night's history is therefore one
 * contiguous, time-ordered range. The digest (of the record's content) separates records that share all the
 * other components, which a run with a coarse clock can produce; an identical record appended twice lands on
 * the same item, so re-running a failed append cannot duplicate what already got through.
 * `before` and `after` are arbitrary JSON and are stored as JSON strings.
 */
export class DynamoDbAuditLog implements AuditLog {
  private readonly retentionSeconds: number;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: DynamoDbAuditLogOptions,
  ) {
    if (!Number.isInteger(options.retentionDays) || options.retentionDays < 1) {
      throw new RangeError(
        `retentionDays must be a whole number of days, 1 or more; received ${options.retentionDays}.`,
      );
    }
    this.retentionSeconds = options.retentionDays * DAY_SECONDS;
    this.clock = options.clock;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  }

  async append(records: readonly AuditRecord[]): Promise<void> {
    // BatchWriteItem refuses a request naming one key twice; the same key means the same record here.
    const requests = new Map<string, WriteRequest>();
    for (const record of records) {
      const item = this.toItem(record);
      requests.set(item.sk?.S ?? '', { PutRequest: { Item: item } });
    }
    const all = [...requests.values()];
    for (let start = 0; start < all.length; start += BATCH_WRITE_LIMIT) {
      let pending = all.slice(start, start + BATCH_WRITE_LIMIT);
      for (let attempt = 1; pending.length > 0; attempt += 1) {
        if (attempt > this.maxAttempts) {
          const notWritten = pending.length + Math.max(0, all.length - start - BATCH_WRITE_LIMIT);
          throw new Error(
            `${notWritten} of ${all.length} audit records were not written to ${this.tableName}: DynamoDB still ` +
              `returned ${pending.length} unprocessed after ${this.maxAttempts} attempts (throttling), and ` +
              `${notWritten - pending.length} were not tried. Appending the same records again is safe: those ` +
              'already written are overwritten with themselves.',
          );
        }
        if (attempt > 1) await sleep(this.backoffMs * 2 ** (attempt - 2));
        const response = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }),
        );
        pending = response.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }

  /**
   * The audit of one property's nights from `from` to `to` inclusive, in night and then time order. Reads every
   * page: meant for an operator looking at a few nights, not for bulk export.
   */
  async listProperty(propertyId: string, from: string, to: string): Promise<StoredAuditRecord[]> {
    const records: StoredAuditRecord[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: {
            ':pk': { S: propertyId },
            ':from': { S: keyPart(from) },
            ':to': { S: `${keyPart(to)}${AFTER_EVERY_SUFFIX}` },
          },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) records.push(fromItem(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return records;
  }

  private toItem(record: AuditRecord): Item {
    const { key } = record;
    const recordedAt = Date.parse(record.at);
    if (Number.isNaN(recordedAt)) {
      throw new Error(
        `Audit record of run ${record.runId} has "at" ${JSON.stringify(record.at)}; expected ISO-8601.`,
      );
    }
    // Counted from the later of `at` and now, so a record appended late is never written already expired.
    const expiresAt =
      Math.floor(Math.max(recordedAt, this.clock.now().getTime()) / 1000) + this.retentionSeconds;
    const sk = [key.date, key.roomTypeId, key.ratePlanId, key.channel, record.group, record.at, record.runId]
      .map(keyPart)
      .concat(digestOf(record))
      .join('#');
    const item: Item = {
      pk: { S: key.propertyId },
      sk: { S: sk },
      propertyId: { S: key.propertyId },
      roomTypeId: { S: key.roomTypeId },
      ratePlanId: { S: key.ratePlanId },
      channel: { S: key.channel },
      date: { S: key.date },
      group: { S: record.group },
      action: { S: record.action },
      providerUpdatedAt: { S: record.providerUpdatedAt },
      runId: { S: record.runId },
      at: { S: record.at },
      expiresAt: { N: String(expiresAt) },
    };
    const before = jsonOf(record.before);
    if (before !== undefined) item.before = { S: before };
    const after = jsonOf(record.after);
    if (after !== undefined) item.after = { S: after };
    if (record.beforeVersion !== undefined) item.beforeVersion = { S: record.beforeVersion };
    return item;
  }
}

function digestOf(record: AuditRecord): string {
  return createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 16);
}

/** JSON text of a value; undefined for a value JSON cannot hold at the top level (undefined, functions). */
function jsonOf(value: unknown): string | undefined {
  return value === undefined ? undefined : (JSON.stringify(value) as string | undefined);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function textOf(item: Item, name: string): string {
  return requiredString(item, name, 'Audit');
}

function fromItem(item: Item): StoredAuditRecord {
  const group = textOf(item, 'group');
  const action = textOf(item, 'action');
  if (!(FIELD_GROUPS as readonly string[]).includes(group) || !AUDIT_ACTIONS.includes(action)) {
    throw new Error(`Audit item ${textOf(item, 'sk')} has group "${group}" and action "${action}"`);
  }
  const record: { -readonly [K in keyof StoredAuditRecord]: StoredAuditRecord[K] } = {
    key: {
      propertyId: textOf(item, 'propertyId'),
      roomTypeId: textOf(item, 'roomTypeId'),
      ratePlanId: textOf(item, 'ratePlanId'),
      channel: textOf(item, 'channel'),
      date: textOf(item, 'date'),
    },
    group: group as FieldGroup,
    action: action as AuditAction,
    after: item.after?.S === undefined ? undefined : JSON.parse(item.after.S),
    providerUpdatedAt: textOf(item, 'providerUpdatedAt'),
    runId: textOf(item, 'runId'),
    at: textOf(item, 'at'),
    expiresAt: Number(item.expiresAt?.N),
  };
  if (item.before?.S !== undefined) record.before = JSON.parse(item.before.S);
  if (item.beforeVersion?.S !== undefined) record.beforeVersion = item.beforeVersion.S;
  return record;
}
