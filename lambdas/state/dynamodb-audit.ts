import { createHash } from 'node:crypto';
import { type DynamoDBClient, paginateQuery, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { Page } from '../domain/page';
import { FIELD_GROUPS, type FieldGroup } from '../domain/state';
import type { Clock } from '../shared/clock';
import { pageOf } from '../shared/cursor';
import {
  allItems,
  DynamoDbTable,
  firstItems,
  type Item,
  keyPart,
  optionalStrings,
  rangeCondition,
  requiredString,
  requiredStrings,
  retentionSeconds,
  sortKeyRange,
  stringAttributes,
} from '../shared/dynamodb';
import { InvalidRequestError } from '../shared/errors';
import {
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditLog,
  type AuditQuery,
  type AuditReader,
  type AuditRecord,
} from './audit';
import { ROOM_NIGHT_KEY_ATTRIBUTES } from './dynamodb-ari-store';
import { nightRange } from './night-range';

const DEFAULT_MAX_ATTEMPTS = 6;
const DEFAULT_BACKOFF_MS = 25;
/** The record's string fields besides its key, `group` and `action`, stored as attributes of the same names. */
const RECORD_TEXT = ['providerUpdatedAt', 'runId', 'at'] as const satisfies readonly (keyof AuditRecord)[];

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

/** An audit read whose date range or page size cannot be served. */
export class InvalidAuditQueryError extends InvalidRequestError {
  constructor(message: string) {
    super('invalid_audit_query', message);
  }
}

/**
 * The reconciliation audit in the RECONCILE_AUDIT table: one partition per internal property (`pk`), and
 * `sk` = `<date>#<roomTypeId>#<ratePlanId>#<channel>#<group>#<at>#<runId>#<digest>`, every component
 * percent-encoded so that a '#' inside an id cannot forge a separator. A night's history is therefore one
 * contiguous, time-ordered range. The digest (of the record's content) separates records that share all the
 * other components, which a run with a coarse clock can produce; an identical record appended twice lands on
 * the same item, so re-running a failed append cannot duplicate what already got through.
 * `before` and `after` are arbitrary JSON and are stored as JSON strings.
 */
export class DynamoDbAuditLog extends DynamoDbTable implements AuditLog, AuditReader {
  private readonly retentionSeconds: number;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(client: DynamoDBClient, tableName: string, options: DynamoDbAuditLogOptions) {
    super(client, tableName);
    this.retentionSeconds = retentionSeconds(options.retentionDays);
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
    await this.batchWriteAll(all, {
      maxAttempts: this.maxAttempts,
      backoffMs: this.backoffMs,
      giveUp: (unprocessed, notTried) =>
        new Error(
          `${unprocessed + notTried} of ${all.length} audit records were not written to ${this.tableName}: ` +
            `DynamoDB still returned ${unprocessed} unprocessed after ${this.maxAttempts} attempts (throttling), ` +
            `and ${notTried} were not tried. Appending the same records again is safe: those already written are ` +
            'overwritten with themselves.',
        ),
    });
  }

  /**
   * The audit of one property's nights from `from` to `to` inclusive, in night and then time order. Reads every
   * page: meant for an operator looking at a few nights, not for bulk export.
   */
  async listProperty(propertyId: string, from: string, to: string): Promise<StoredAuditRecord[]> {
    const pages = paginateQuery(
      { client: this.client },
      { TableName: this.tableName, ...rangeCondition(sortKeyRange(propertyId, keyPart(from), keyPart(to))) },
    );
    return (await allItems(pages)).map(fromItem);
  }

  /**
   * A page of one property's audit, nights from `from` to `to` inclusive, in night and then time order. With
   * `action`, DynamoDB still reads the other records and filters them out, so a page may take more than one
   * read to fill. The cursor is the key of the last record returned.
   */
  async list(query: AuditQuery): Promise<Page<StoredAuditRecord>> {
    const { range, startKey } = nightRange(
      query.propertyId,
      query,
      (message) => new InvalidAuditQueryError(message),
    );
    const condition = rangeCondition(range);
    const filter =
      query.action === undefined
        ? {}
        : {
            FilterExpression: '#action = :action',
            ExpressionAttributeNames: { ...condition.ExpressionAttributeNames, '#action': 'action' },
            ExpressionAttributeValues: {
              ...condition.ExpressionAttributeValues,
              ':action': { S: query.action },
            },
          };
    const pages = paginateQuery(
      { client: this.client, pageSize: query.limit + 1, startingToken: startKey },
      { TableName: this.tableName, ...condition, ...filter },
    );
    return pageOf(await firstItems(pages, query.limit), ['pk', 'sk'], fromItem);
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
    return {
      pk: { S: key.propertyId },
      sk: { S: auditSortKey(record) },
      ...stringAttributes(key, ROOM_NIGHT_KEY_ATTRIBUTES),
      ...stringAttributes(record, ['group', 'action', ...RECORD_TEXT, 'beforeVersion']),
      ...stringAttributes({ before: jsonOf(record.before), after: jsonOf(record.after) }, [
        'before',
        'after',
      ]),
      expiresAt: { N: String(expiresAt) },
    };
  }
}

/** A record's sort key in its property's partition (see DynamoDbAuditLog): identical records share it. */
export function auditSortKey(record: AuditRecord): string {
  const { key } = record;
  return [key.date, key.roomTypeId, key.ratePlanId, key.channel, record.group, record.at, record.runId]
    .map(keyPart)
    .concat(digestOf(record))
    .join('#');
}

function digestOf(record: AuditRecord): string {
  return createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 16);
}

/** JSON text of a value; undefined for a value JSON cannot hold at the top level (undefined, functions). */
function jsonOf(value: unknown): string | undefined {
  return value === undefined ? undefined : (JSON.stringify(value) as string | undefined);
}

function fromItem(item: Item): StoredAuditRecord {
  const group = requiredString(item, 'group', 'Audit');
  const action = requiredString(item, 'action', 'Audit');
  if (
    !(FIELD_GROUPS as readonly string[]).includes(group) ||
    !(AUDIT_ACTIONS as readonly string[]).includes(action)
  ) {
    throw new Error(
      `Audit item ${requiredString(item, 'sk', 'Audit')} has group "${group}" and action "${action}"`,
    );
  }
  const { before, after, beforeVersion } = optionalStrings(item, ['before', 'after', 'beforeVersion']);
  return {
    key: requiredStrings(item, ROOM_NIGHT_KEY_ATTRIBUTES, 'Audit'),
    group: group as FieldGroup,
    action: action as AuditAction,
    after: after === undefined ? undefined : JSON.parse(after),
    ...requiredStrings(item, RECORD_TEXT, 'Audit'),
    expiresAt: Number(item.expiresAt?.N),
    ...(before === undefined ? {} : { before: JSON.parse(before) }),
    ...(beforeVersion === undefined ? {} : { beforeVersion }),
  };
}
