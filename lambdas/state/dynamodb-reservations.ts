import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { RESERVATION_STATUSES, type ReservationStatus } from '../domain/canonical';
import {
  conditionHeld,
  DynamoDbTable,
  describeItem,
  type Item,
  optionalStrings,
  requiredStrings,
  stringAttributes,
} from '../shared/dynamodb';
import type { ReservationRecord, ReservationStore } from './ports';

const REQUIRED_TEXT = [
  'id',
  'sourceId',
  'reservationExternalId',
  'status',
  'version',
  'eventId',
] as const satisfies readonly (keyof ReservationRecord)[];

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
export class DynamoDbReservationStore extends DynamoDbTable implements ReservationStore {
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
    return conditionHeld(
      this.client.send(
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
      ),
    );
  }

  async get(id: string): Promise<ReservationRecord | undefined> {
    const item = await this.getItem(id);
    return item === undefined ? undefined : toRecord(item);
  }

  /**
   * Conditional on the reference still naming this guest, so that the erasure neither creates items for
   * unknown ids nor removes a different guest that a later event attached.
   */
  async forgetGuest(reservationIds: readonly string[], guestExternalId: string): Promise<void> {
    await Promise.all(
      reservationIds.map((id) =>
        conditionHeld(
          this.client.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: { pk: { S: id } },
              UpdateExpression: 'REMOVE guestExternalId',
              ConditionExpression: 'guestExternalId = :guest',
              ExpressionAttributeValues: { ':guest': { S: guestExternalId } },
            }),
          ),
        ),
      ),
    );
  }
}

function toItem(record: ReservationRecord): Item {
  const item: Item = {
    pk: { S: record.id },
    ...stringAttributes(record, [...REQUIRED_TEXT, ...OPTIONAL_TEXT]),
  };
  if (record.total !== undefined) {
    item.total = {
      M: { amountMinor: { N: String(record.total.amountMinor) }, currency: { S: record.total.currency } },
    };
  }
  return item;
}

function toRecord(item: Item): ReservationRecord {
  const where = describeItem(item, 'Reservation');
  const text = requiredStrings(item, REQUIRED_TEXT, 'Reservation');
  if (!(RESERVATION_STATUSES as readonly string[]).includes(text.status)) {
    throw new Error(`${where} has unknown status "${text.status}"`);
  }
  const record: ReservationRecord = {
    ...text,
    status: text.status as ReservationStatus,
    ...optionalStrings(item, OPTIONAL_TEXT),
  };
  const total = item.total?.M;
  if (total === undefined) return record;
  const amountMinor = Number(total.amountMinor?.N);
  const currency = total.currency?.S;
  if (!Number.isSafeInteger(amountMinor) || currency === undefined) {
    throw new Error(`${where} has a total that is not integer minor units and a currency`);
  }
  return { ...record, total: { amountMinor, currency } };
}
