import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { ReservationStatus } from '../domain/canonical';
import { isConditionalCheckFailure } from '../shared/dynamodb';
import type { ReservationRecord, ReservationStore } from './ports';

type Item = Record<string, AttributeValue>;

const RESERVATION_STATUSES: readonly ReservationStatus[] = [
  'confirmed',
  'modified',
  'cancelled',
  'checked_in',
  'checked_out',
];

const OPTIONAL_TEXT = [
  'propertyId',
  'propertyExternalId',
  'arrivalDate',
  'departureDate',
  'roomTypeExternalId',
  'roomNumber',
  'channel',
  'guestExternalId',
] as const satisfies readonly (keyof ReservationRecord)[];

/**
 * Reservations in DynamoDB, one item per `sourceId:reservationExternalId`, replaced whole by each newer event.
 * The version condition makes the outcome independent of delivery order; the only exception to
 * last-writer-wins is that a creation never brings a cancelled reservation back, whatever its timestamp: a
 * creation that arrives after the cancellation (delivered late, or re-sent and stamped anew) is no news.
 */
export class DynamoDbReservationStore implements ReservationStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async apply(record: ReservationRecord): Promise<boolean> {
    const values: Item = { ':version': { S: record.version } };
    let condition = 'attribute_not_exists(pk) OR (#version < :version';
    // Decided here rather than by comparing the new status inside the expression: the outcome is the same, and
    // an expression that compares two constants is one some DynamoDB implementations refuse.
    if (record.status === 'confirmed') {
      condition += ' AND #status <> :cancelled';
      values[':cancelled'] = { S: 'cancelled' };
    }
    condition += ')';
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(record),
          ConditionExpression: condition,
          ExpressionAttributeNames:
            record.status === 'confirmed'
              ? { '#version': 'version', '#status': 'status' }
              : { '#version': 'version' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  async get(id: string): Promise<ReservationRecord | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: id } }, ConsistentRead: true }),
    );
    return Item === undefined ? undefined : toRecord(Item);
  }

  /**
   * Conditional on the reference still naming this guest, so that the erasure neither creates items for
   * unknown ids nor removes a different guest that a later event attached.
   */
  async forgetGuest(reservationIds: readonly string[], guestExternalId: string): Promise<void> {
    await Promise.all(
      reservationIds.map(async (id) => {
        try {
          await this.client.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: { pk: { S: id } },
              UpdateExpression: 'REMOVE guestExternalId',
              ConditionExpression: 'guestExternalId = :guest',
              ExpressionAttributeValues: { ':guest': { S: guestExternalId } },
            }),
          );
        } catch (error) {
          if (!isConditionalCheckFailure(error)) throw error;
        }
      }),
    );
  }
}

function toItem(record: ReservationRecord): Item {
  const item: Item = {
    pk: { S: record.id },
    id: { S: record.id },
    sourceId: { S: record.sourceId },
    reservationExternalId: { S: record.reservationExternalId },
    status: { S: record.status },
    version: { S: record.version },
    eventId: { S: record.eventId },
  };
  for (const field of OPTIONAL_TEXT) {
    const value = record[field];
    if (value !== undefined) item[field] = { S: value };
  }
  if (record.total !== undefined) {
    item.total = {
      M: { amountMinor: { N: String(record.total.amountMinor) }, currency: { S: record.total.currency } },
    };
  }
  return item;
}

function toRecord(item: Item): ReservationRecord {
  const key = item.pk?.S ?? '(no pk)';
  const text = (name: string): string => {
    const value = item[name]?.S;
    if (value === undefined) throw new Error(`Reservation item ${key} has no string attribute "${name}"`);
    return value;
  };
  const status = text('status');
  if (!(RESERVATION_STATUSES as readonly string[]).includes(status)) {
    throw new Error(`Reservation item ${key} has unknown status "${status}"`);
  }
  const optional: Partial<Record<(typeof OPTIONAL_TEXT)[number], string>> = {};
  for (const field of OPTIONAL_TEXT) {
    const value = item[field]?.S;
    if (value !== undefined) optional[field] = value;
  }
  const record: ReservationRecord = {
    id: text('id'),
    sourceId: text('sourceId'),
    reservationExternalId: text('reservationExternalId'),
    status: status as ReservationStatus,
    version: text('version'),
    eventId: text('eventId'),
    ...optional,
  };
  const total = item.total?.M;
  if (total === undefined) return record;
  const amountMinor = Number(total.amountMinor?.N);
  const currency = total.currency?.S;
  if (!Number.isSafeInteger(amountMinor) || currency === undefined) {
    throw new Error(`Reservation item ${key} has a total that is not integer minor units and a currency`);
  }
  return { ...record, total: { amountMinor, currency } };
}
