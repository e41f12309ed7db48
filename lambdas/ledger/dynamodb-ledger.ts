import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { SOURCE_KINDS, type SourceKind } from '../domain/canonical';
import type { Page } from '../domain/page';
import { DynamoDbTable, isConditionalCheckFailure } from '../shared/dynamodb';
import {
  decodeLogCursor,
  encodeLogCursor,
  LOG_ALL,
  type LogIndex,
  logAtOf,
  logIndexFor,
  logStartKey,
  sourceStatusOf,
} from './delivery-log';
import {
  type ApplyLedger,
  type ClaimOutcome,
  DEAD_LETTERABLE_STATUSES,
  type DeliveryCounts,
  type DeliveryCountsQuery,
  type DeliveryLedger,
  type DeliveryLog,
  type DeliveryLogQuery,
  type DeliveryLogRow,
  isRetainable,
  LEDGER_STATUSES,
  type LedgerEntry,
  type LedgerRef,
  type LedgerStatus,
  MAX_NOTE_LENGTH,
  RESETTLEABLE_STATUSES,
  type RetainedEvents,
  SETTLEABLE_STATUSES,
  type SettledStatus,
  type SettleOptions,
} from './ports';

type Item = Record<string, AttributeValue>;

/**
 * The delivery ledger in DynamoDB: one item per event, keyed by `pk` = eventId, holding every LedgerEntry field.
 * One class serves every role (the edge, apply, the read API); each depends only on its port. The claim never
 * touches `lastError` / `lastErrorAt`, so a takeover keeps the notes of attempts on the queued event.
 * Attribute values are mapped by hand: the item shape is fixed and small, and it keeps the ingest bundle free of
 * marshalling libraries.
 *
 * The delivery log's indexes (lambdas/shared/topology.ts) are kept by the item itself: the claim writes `logAll`
 * and `logAt`, and every write that changes `status` sets `sourceStatus` with it, in the same UpdateItem.
 */
export class DynamoDbDeliveryLedger
  extends DynamoDbTable
  implements DeliveryLedger, ApplyLedger, DeliveryLog, RetainedEvents
{
  constructor(
    client: DynamoDBClient,
    tableName: string,
    /** Names each claim, so that a claim can recognise itself; see `claim`. */
    private readonly newClaimToken: () => string = randomUUID,
  ) {
    super(client, tableName);
  }

  /**
   * One conditional UpdateItem: it succeeds when the event is new, or when it is still `received` and its lease
   * has expired (the earlier claimant failed to enqueue). On a takeover the first `receivedAt` is kept and
   * `deliveryCount` goes up by one; the entry's own `deliveryCount` is ignored, DynamoDB counts the claims.
   */
  async claim(entry: LedgerEntry, nowMs: number): Promise<ClaimOutcome> {
    const names: Record<string, string> = { '#status': 'status', '#kind': 'kind' };
    const values: Item = {
      ':eventId': { S: entry.eventId },
      ':sourceId': { S: entry.sourceId },
      ':kind': { S: entry.kind },
      ':idempotencyKey': { S: entry.idempotencyKey },
      ':providerEventType': { S: entry.providerEventType },
      ':status': { S: entry.status },
      ':occurredAt': { S: entry.occurredAt },
      ':receivedAt': { S: entry.receivedAt },
      ':updatedAt': { S: entry.updatedAt },
      ':expiresAt': { N: String(entry.expiresAt) },
      ':one': { N: '1' },
      ':received': { S: 'received' },
      ':now': { N: String(nowMs) },
      ':logAll': { S: LOG_ALL },
      ':logAt': { S: logAtOf(entry.receivedAt, entry.eventId) },
      ':sourceStatus': { S: sourceStatusOf(entry.sourceId, entry.status) },
      ':claimToken': { S: this.newClaimToken() },
    };
    const set = [
      'eventId = :eventId',
      'sourceId = :sourceId',
      '#kind = :kind',
      'idempotencyKey = :idempotencyKey',
      'providerEventType = :providerEventType',
      '#status = :status',
      'occurredAt = :occurredAt',
      'receivedAt = if_not_exists(receivedAt, :receivedAt)',
      'updatedAt = :updatedAt',
      'expiresAt = :expiresAt',
      'logAll = :logAll',
      // As receivedAt: a takeover keeps the entry where the first delivery put it in the log.
      'logAt = if_not_exists(logAt, :logAt)',
      'sourceStatus = :sourceStatus',
      'claimToken = :claimToken',
    ];
    const remove: string[] = [];
    const optional: ReadonlyArray<readonly [string, AttributeValue | undefined]> = [
      ['leaseUntil', entry.leaseUntil === undefined ? undefined : { N: String(entry.leaseUntil) }],
      ['canonicalType', entry.canonicalType === undefined ? undefined : { S: entry.canonicalType }],
      ['messageId', entry.messageId === undefined ? undefined : { S: entry.messageId }],
      ['reason', entry.reason === undefined ? undefined : { S: entry.reason }],
    ];
    // Optional fields are written when the entry has them and removed when not, so a takeover leaves nothing stale.
    for (const [field, value] of optional) {
      if (value === undefined) {
        remove.push(field);
      } else {
        set.push(`${field} = :${field}`);
        values[`:${field}`] = value;
      }
    }
    const updateExpression = [
      `SET ${set.join(', ')}`,
      'ADD deliveryCount :one',
      remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
    ].join(' ');

    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: entry.eventId } },
          UpdateExpression: updateExpression.trim(),
          // A `received` entry without a lease belongs to nobody, so it may be taken over like an expired one.
          ConditionExpression:
            'attribute_not_exists(pk) OR (#status = :received AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now))',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (Attributes === undefined)
        throw new Error(`DynamoDB returned no item after claiming ${entry.eventId}`);
      return { outcome: 'claimed', entry: toLedgerEntry(Attributes) };
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      // The SDK retries a write whose answer timed out; when the first attempt had landed, the retry finds this
      // very claim in place. It is ours: answering "in progress" would refuse the delivery that made it.
      if (error.Item !== undefined && error.Item.claimToken?.S === values[':claimToken']?.S) {
        return { outcome: 'claimed', entry: toLedgerEntry(error.Item) };
      }
      const existing = error.Item ? toLedgerEntry(error.Item) : await this.get(entry.eventId);
      if (existing === undefined) {
        throw new Error(`Claim of ${entry.eventId} was refused, yet no ledger entry exists for it`, {
          cause: error,
        });
      }
      return { outcome: existing.status === 'received' ? 'in_progress' : 'duplicate', entry: existing };
    }
  }

  async confirm(
    ref: LedgerRef,
    status: 'enqueued' | 'recorded',
    at: string,
    messageId?: string,
    event?: string,
  ): Promise<void> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Item = {
      ':status': { S: status },
      ':at': { S: at },
      ':received': { S: 'received' },
      ':sourceStatus': { S: sourceStatusOf(ref.sourceId, status) },
    };
    let set = '#status = :status, updatedAt = :at, sourceStatus = :sourceStatus';
    if (messageId !== undefined) {
      set += ', messageId = :messageId';
      values[':messageId'] = { S: messageId };
    }
    if (status === 'enqueued' && event !== undefined) {
      names['#retained'] = 'retained';
      if (isRetainable(event)) {
        set += ', #event = :event, #retained = :retained';
        names['#event'] = 'event';
        values[':event'] = { S: event };
        values[':retained'] = { BOOL: true };
      } else {
        set += ', #retained = :retained';
        values[':retained'] = { BOOL: false };
      }
    }
    await this.updateUnlessMovedOn(ref.eventId, {
      UpdateExpression: `SET ${set} REMOVE leaseUntil`,
      // Another request that took over an expired lease may have confirmed first; its confirmation stands.
      ConditionExpression: '#status = :received',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  async release(eventId: string, leaseUntil: number): Promise<void> {
    await this.updateUnlessMovedOn(eventId, {
      UpdateExpression: 'SET leaseUntil = :expired',
      // A takeover writes its own lease, so a stale release matches nothing.
      ConditionExpression: '#status = :received AND leaseUntil = :lease',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':expired': { N: '0' },
        ':received': { S: 'received' },
        ':lease': { N: String(leaseUntil) },
      },
    });
  }

  async get(eventId: string): Promise<LedgerEntry | undefined> {
    const item = await this.getItem(eventId);
    return item === undefined ? undefined : toLedgerEntry(item);
  }

  async getWithEvent(
    eventId: string,
  ): Promise<{ readonly entry: LedgerEntry; readonly event?: string } | undefined> {
    const item = await this.getItem(eventId);
    if (item === undefined) return undefined;
    const event = item.event?.S;
    return { entry: toLedgerEntry(item), ...(event === undefined ? {} : { event }) };
  }

  async retainedEvent(eventId: string): Promise<string | undefined> {
    return (await this.getItem(eventId, ['event']))?.event?.S;
  }

  async status(eventId: string): Promise<LedgerStatus | undefined> {
    const item = await this.getItem(eventId, ['status']);
    if (item === undefined) return undefined;
    const status = item.status?.S;
    if (status === undefined || !(LEDGER_STATUSES as readonly string[]).includes(status)) {
      throw new Error(`Delivery ledger item ${eventId} has unknown status "${status ?? '(none)'}"`);
    }
    return status as LedgerStatus;
  }

  /**
   * Records the apply pipeline's outcome once: an event still `received` (applied before the edge confirmed it),
   * `enqueued`, `parked`, `held` or `dead-lettered` moves on; an applied or rejected one keeps its outcome,
   * whatever redelivery asks. The condition also fails for an entry that no longer exists, so settling never
   * recreates an expired entry (which would lack the fields the edge writes). A replayed event (`replay`) may
   * also move on from applied or rejected, once per replay job.
   */
  async settle(
    ref: LedgerRef,
    status: SettledStatus,
    at: string,
    reason?: string,
    options: SettleOptions = {},
  ): Promise<boolean> {
    // The lease only matters while `received`; once settled, the edge has nothing left to take over.
    let update = 'SET #status = :status, sourceStatus = :sourceStatus, updatedAt = :at, settledAt = :at';
    const values: Item = {};
    if (reason === undefined) {
      update += ' REMOVE reason, leaseUntil';
    } else {
      update += ', reason = :reason REMOVE leaseUntil';
      values[':reason'] = { S: reason };
    }
    if (options.replay === undefined) {
      return this.changeStatus(ref, status, at, SETTLEABLE_STATUSES, update, values);
    }
    values[':replay'] = { S: options.replay };
    return this.changeStatus(
      ref,
      status,
      at,
      RESETTLEABLE_STATUSES,
      update.replace('SET ', 'SET replayedBy = :replay, '),
      values,
      'attribute_not_exists(replayedBy) OR replayedBy <> :replay',
    );
  }

  async deadLetter(ref: LedgerRef, reason: string, at: string): Promise<boolean> {
    const note = reason.slice(0, MAX_NOTE_LENGTH);
    const marked = await this.changeStatus(
      ref,
      'dead-lettered',
      at,
      DEAD_LETTERABLE_STATUSES,
      'SET #status = :status, sourceStatus = :sourceStatus, updatedAt = :at, reason = :note, ' +
        'lastError = :note, lastErrorAt = :at REMOVE leaseUntil',
      { ':note': { S: note } },
    );
    // Settled meanwhile, or never queued: the note still says what the last attempt met.
    if (!marked) await this.note(ref.eventId, reason, at);
    return marked;
  }

  /** One conditional UpdateItem moving the entry from one of `from` to `status`, `sourceStatus` in step. */
  private async changeStatus(
    ref: LedgerRef,
    status: LedgerStatus,
    at: string,
    from: readonly LedgerStatus[],
    update: string,
    extraValues: Item,
    /** A further condition, for replays: the job has not settled this entry yet. */
    also?: string,
  ): Promise<boolean> {
    const values: Item = {
      ...extraValues,
      ':status': { S: status },
      ':sourceStatus': { S: sourceStatusOf(ref.sourceId, status) },
      ':at': { S: at },
    };
    const placeholders = from.map((allowed, i) => {
      values[`:from${i}`] = { S: allowed };
      return `:from${i}`;
    });
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: ref.eventId } },
          UpdateExpression: update,
          ConditionExpression: `#status IN (${placeholders.join(', ')})${also ? ` AND (${also})` : ''}`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  async note(eventId: string, reason: string, at: string): Promise<void> {
    await this.updateUnlessMovedOn(eventId, {
      UpdateExpression: 'SET lastError = :reason, lastErrorAt = :at',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: {
        ':reason': { S: reason.slice(0, MAX_NOTE_LENGTH) },
        ':at': { S: at },
      },
    });
  }

  /**
   * One Query of the index the filters pick, newest first. It reads one entry more than the page holds, so that
   * without `type` a cursor is handed out only when another entry follows; the cursor is then the key of the
   * page's last row. With `type`, DynamoDB's Limit counts entries read before the filter, and the cursor is
   * where the read stopped.
   */
  async list(query: DeliveryLogQuery): Promise<Page<DeliveryLogRow>> {
    const index = logIndexFor(query);
    const window = { from: query.from, to: query.to };
    const start =
      query.cursor === undefined ? undefined : decodeLogCursor(query.cursor, index, window).position;
    const values: Item = {
      ':key': { S: index.keyValue },
      ':from': { S: query.from },
      ':to': { S: query.to },
    };
    if (query.type !== undefined) values[':type'] = { S: query.type };
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.indexName,
        ...this.windowCondition(index, values),
        ...(query.type === undefined
          ? {}
          : { FilterExpression: 'providerEventType = :type OR canonicalType = :type' }),
        ScanIndexForward: false,
        Limit: query.limit + 1,
        ...(start === undefined ? {} : { ExclusiveStartKey: stringKey(logStartKey(index, start)) }),
      }),
    );
    const rows = Items.map(toLogRow);
    if (rows.length > query.limit) {
      const last = Items[query.limit - 1] ?? {};
      return {
        items: rows.slice(0, query.limit),
        cursor: encodeLogCursor(index, window, { eventId: textOf(last, 'pk'), logAt: textOf(last, 'logAt') }),
      };
    }
    if (LastEvaluatedKey === undefined) return { items: rows };
    return {
      items: rows,
      cursor: encodeLogCursor(index, window, {
        eventId: textOf(LastEvaluatedKey, 'pk'),
        logAt: textOf(LastEvaluatedKey, 'logAt'),
      }),
    };
  }

  /** A count per status: one partition of an index each, read in parallel to the end of the window. */
  async counts(query: DeliveryCountsQuery): Promise<DeliveryCounts> {
    const counted = await Promise.all(
      LEDGER_STATUSES.map(async (status) => {
        const index = logIndexFor({ sourceId: query.sourceId, status });
        const values: Item = {
          ':key': { S: index.keyValue },
          ':from': { S: query.from },
          ':to': { S: query.to },
        };
        let count = 0;
        let start: Item | undefined;
        do {
          const page = await this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: index.indexName,
              ...this.windowCondition(index, values),
              Select: 'COUNT',
              ExclusiveStartKey: start,
            }),
          );
          count += page.Count ?? 0;
          start = page.LastEvaluatedKey;
        } while (start !== undefined);
        return [status, count] as const;
      }),
    );
    return Object.fromEntries(counted) as DeliveryCounts;
  }

  /**
   * The index's partition, between `from` and `to` on `logAt`. `logAt` is `<receivedAt>#<eventId>`, so a bare
   * instant sorts before every entry received at it: BETWEEN takes `from` in and leaves `to` out.
   */
  private windowCondition(index: LogIndex, values: Item) {
    return {
      KeyConditionExpression: '#key = :key AND logAt BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#key': index.keyName },
      ExpressionAttributeValues: values,
    };
  }

  /** Updates one entry where its condition still holds; where the entry has moved on, the update stands down. */
  private async updateUnlessMovedOn(
    eventId: string,
    update: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>,
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({ TableName: this.tableName, Key: { pk: { S: eventId } }, ...update }),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }
}

function toLedgerEntry(item: Item): LedgerEntry {
  const key = item.pk?.S ?? '(no pk)';
  const text = (name: string): string => {
    const value = item[name]?.S;
    if (value === undefined) throw new Error(`Delivery ledger item ${key} has no string attribute "${name}"`);
    return value;
  };
  const optionalText = (name: string): string | undefined => item[name]?.S;
  const number = (name: string): number => {
    const value = optionalNumber(name);
    if (value === undefined) throw new Error(`Delivery ledger item ${key} has no number attribute "${name}"`);
    return value;
  };
  const optionalNumber = (name: string): number | undefined => {
    const value = item[name]?.N;
    return value === undefined ? undefined : Number(value);
  };
  const kind = text('kind');
  if (!(SOURCE_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`Delivery ledger item ${key} has unknown kind "${kind}"`);
  }
  const status = text('status');
  if (!(LEDGER_STATUSES as readonly string[]).includes(status)) {
    throw new Error(`Delivery ledger item ${key} has unknown status "${status}"`);
  }
  const entry: LedgerEntry = {
    eventId: text('eventId'),
    sourceId: text('sourceId'),
    kind: kind as SourceKind,
    idempotencyKey: text('idempotencyKey'),
    providerEventType: text('providerEventType'),
    canonicalType: optionalText('canonicalType'),
    status: status as LedgerStatus,
    occurredAt: text('occurredAt'),
    receivedAt: text('receivedAt'),
    updatedAt: text('updatedAt'),
    leaseUntil: optionalNumber('leaseUntil'),
    deliveryCount: number('deliveryCount'),
    messageId: optionalText('messageId'),
    reason: optionalText('reason'),
    lastError: optionalText('lastError'),
    lastErrorAt: optionalText('lastErrorAt'),
    retained: item.retained?.BOOL,
    expiresAt: number('expiresAt'),
  };
  // Absent optional fields are left out rather than set to undefined, so entries compare equal to what was written.
  return Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined)) as LedgerEntry;
}

/** A row of the log, from the attributes every log index projects. */
function toLogRow(item: Item): DeliveryLogRow {
  const eventId = textOf(item, 'pk');
  const kind = textOf(item, 'kind');
  if (!(SOURCE_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`Delivery ledger item ${eventId} has unknown kind "${kind}"`);
  }
  const status = textOf(item, 'status');
  if (!(LEDGER_STATUSES as readonly string[]).includes(status)) {
    throw new Error(`Delivery ledger item ${eventId} has unknown status "${status}"`);
  }
  const deliveryCount = item.deliveryCount?.N;
  if (deliveryCount === undefined) {
    throw new Error(`Delivery ledger item ${eventId} has no number attribute "deliveryCount"`);
  }
  const row: DeliveryLogRow = {
    eventId,
    sourceId: textOf(item, 'sourceId'),
    kind: kind as SourceKind,
    providerEventType: textOf(item, 'providerEventType'),
    canonicalType: item.canonicalType?.S,
    status: status as LedgerStatus,
    reason: item.reason?.S,
    occurredAt: textOf(item, 'occurredAt'),
    receivedAt: textOf(item, 'receivedAt'),
    updatedAt: textOf(item, 'updatedAt'),
    deliveryCount: Number(deliveryCount),
    retained: item.retained?.BOOL,
  };
  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== undefined)) as DeliveryLogRow;
}

function textOf(item: Item, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) {
    throw new Error(`Delivery ledger item ${item.pk?.S ?? '(no pk)'} has no string attribute "${name}"`);
  }
  return value;
}

function stringKey(key: Readonly<Record<string, string>>): Item {
  return Object.fromEntries(Object.entries(key).map(([name, value]) => [name, { S: value }]));
}
