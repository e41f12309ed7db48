import { type AttributeValue, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Version } from '../domain/state';
import type { Clock } from '../shared/clock';
import { conditionHeld, DynamoDbTable, unlessConditionFails } from '../shared/dynamodb';
import type { GuestStore } from './ports';

/** The item key of a guest: guest ids are only unique within the source that issued them. */
export function guestItemKey(sourceId: string, guestExternalId: string): string {
  return `${sourceId}|${guestExternalId}`;
}

/** Refuses a write older than the guest's erasure, if any. */
const NOT_ERASED_SINCE = 'attribute_not_exists(erasedVersion) OR erasedVersion < :version';

/**
 * Guest id → the reservations it is linked to, so that an erasure request can reach every reservation. Holds
 * references only: names, contact details and dates of birth never reach this table. An erased guest keeps a
 * tombstone (its id and the erasure's version, nothing else), so that a late event older than the erasure
 * cannot link the guest again.
 */
export class DynamoDbGuestStore extends DynamoDbTable implements GuestStore {
  constructor(
    client: DynamoDBClient,
    tableName: string,
    private readonly clock: Clock,
  ) {
    super(client, tableName);
  }

  /** Links accumulate in a string set, so concurrent links from different reservations never overwrite each other. */
  async link(
    sourceId: string,
    guestExternalId: string,
    reservationId: string | undefined,
    version: Version,
  ): Promise<boolean> {
    const values: Record<string, AttributeValue> = {
      ':updatedAt': { S: this.clock.now().toISOString() },
      ':version': { S: version },
    };
    let update = 'SET updatedAt = :updatedAt, #version = :version';
    if (reservationId !== undefined) {
      update += ' ADD reservationIds :reservationIds';
      values[':reservationIds'] = { SS: [reservationId] };
    }
    return conditionHeld(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: guestItemKey(sourceId, guestExternalId) } },
          UpdateExpression: update,
          ConditionExpression: NOT_ERASED_SINCE,
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /**
   * Removes every link and keeps the newest erasure's version as the tombstone. An older erasure arriving late
   * still removes whatever is linked, but must not lower the tombstone: links from events between the two
   * erasures would then be accepted.
   */
  async erase(sourceId: string, guestExternalId: string, version: Version): Promise<readonly string[]> {
    const key = { pk: { S: guestItemKey(sourceId, guestExternalId) } };
    const updatedAt = { S: this.clock.now().toISOString() };
    const erased = await unlessConditionFails(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression:
            'SET erasedVersion = :version, updatedAt = :updatedAt REMOVE reservationIds, #version',
          ConditionExpression: NOT_ERASED_SINCE,
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':version': { S: version }, ':updatedAt': updatedAt },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    if (erased !== undefined) return erased.Attributes?.reservationIds?.SS ?? [];
    const { Attributes } = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET updatedAt = :updatedAt REMOVE reservationIds, #version',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':updatedAt': updatedAt },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes?.reservationIds?.SS ?? [];
  }
}
