import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { SOURCE_KINDS, type SourceKind } from '../domain/canonical';
import { isConditionalCheckFailure } from '../shared/dynamodb';
import {
  type ApplyLedger,
  type ClaimOutcome,
  type DeliveryLedger,
  LEDGER_STATUSES,
  type LedgerEntry,
  type LedgerStatus,
  MAX_NOTE_LENGTH,
  SETTLEABLE_STATUSES,
  type SettledStatus,
} from './ports';

type Item = Record<string, AttributeValue>;

/**
 * The delivery ledger in DynamoDB: one item per event, keyed by `pk` = eventId, holding every LedgerEntry field.
 * One class serves every role (the edge, apply, the read API); each depends only on its port. The claim never
 * touches `lastError` / `lastErrorAt`, so a takeover keeps the notes of attempts on the queued event.
 * Attribute values are mapped by hand: the item shape is fixed and small, and it keeps the ingest bundle free of
 * marshalling libraries.
 */
export class DynamoDbDeliveryLedger implements DeliveryLedger, ApplyLedger {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

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
    eventId: string,
    status: 'enqueued' | 'recorded',
    at: string,
    messageId?: string,
  ): Promise<void> {
    const values: Item = { ':status': { S: status }, ':at': { S: at }, ':received': { S: 'received' } };
    let set = '#status = :status, updatedAt = :at';
    if (messageId !== undefined) {
      set += ', messageId = :messageId';
      values[':messageId'] = { S: messageId };
    }
    await this.ignoringConditionFailure(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: eventId } },
        UpdateExpression: `SET ${set} REMOVE leaseUntil`,
        // Another request that took over an expired lease may have confirmed first; its confirmation stands.
        ConditionExpression: '#status = :received',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
  }

  async release(eventId: string, leaseUntil: number): Promise<void> {
    await this.ignoringConditionFailure(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: eventId } },
        UpdateExpression: 'SET leaseUntil = :expired',
        // A takeover writes its own lease, so a stale release matches nothing.
        ConditionExpression: '#status = :received AND leaseUntil = :lease',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':expired': { N: '0' },
          ':received': { S: 'received' },
          ':lease': { N: String(leaseUntil) },
        },
      }),
    );
  }

  async get(eventId: string): Promise<LedgerEntry | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: eventId } }, ConsistentRead: true }),
    );
    return Item === undefined ? undefined : toLedgerEntry(Item);
  }

  async status(eventId: string): Promise<LedgerStatus | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: eventId } },
        ProjectionExpression: '#status',
        ExpressionAttributeNames: { '#status': 'status' },
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) return undefined;
    const status = Item.status?.S;
    if (status === undefined || !(LEDGER_STATUSES as readonly string[]).includes(status)) {
      throw new Error(`Delivery ledger item ${eventId} has unknown status "${status ?? '(none)'}"`);
    }
    return status as LedgerStatus;
  }

  /**
   * Records the apply pipeline's outcome once: an event still `received` (applied before the edge confirmed it),
   * `enqueued`, or `parked` moves on; an applied or rejected one keeps its outcome, whatever redelivery asks.
   * The condition also fails for an entry that no longer exists, so settling never recreates an expired entry
   * (which would lack the fields the edge writes).
   */
  async settle(eventId: string, status: SettledStatus, at: string, reason?: string): Promise<boolean> {
    const values: Item = { ':status': { S: status }, ':at': { S: at } };
    const from = SETTLEABLE_STATUSES.map((settleable, i) => {
      values[`:from${i}`] = { S: settleable };
      return `:from${i}`;
    });
    // The lease only matters while `received`; once settled, the edge has nothing left to take over.
    let update = 'SET #status = :status, updatedAt = :at, settledAt = :at';
    if (reason === undefined) {
      update += ' REMOVE reason, leaseUntil';
    } else {
      update += ', reason = :reason REMOVE leaseUntil';
      values[':reason'] = { S: reason };
    }
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: eventId } },
          UpdateExpression: update,
          ConditionExpression: `#status IN (${from.join(', ')})`,
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
    await this.ignoringConditionFailure(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: eventId } },
        UpdateExpression: 'SET lastError = :reason, lastErrorAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: {
          ':reason': { S: reason.slice(0, MAX_NOTE_LENGTH) },
          ':at': { S: at },
        },
      }),
    );
  }

  private async ignoringConditionFailure(command: UpdateItemCommand): Promise<void> {
    try {
      await this.client.send(command);
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
    expiresAt: number('expiresAt'),
  };
  // Absent optional fields are left out rather than set to undefined, so entries compare equal to what was written.
  return Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined)) as LedgerEntry;
}
