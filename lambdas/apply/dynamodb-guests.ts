import { type AttributeValue, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Clock } from '../shared/clock';
import { isConditionalCheckFailure } from '../shared/dynamodb';
import type { Version } from './model';
import type { GuestStore } from './ports';

/** The item key of a guest: guest ids are only unique within the source that issued them. */
export function guestItemKey(sourceId: string, guestExternalId: string): string {
  return `${sourceId}|${guestExternalId}`;
}

/**
 * Guest id → the reservations it is linked to, so that an erasure request can reach every reservation. Holds
 * references only: names, contact details and dates of birth never reach this table. An erased guest keeps a
 * tombstone (its id and the erasure's version, nothing else), so that a late event older than the erasure
 * cannot link the guest again.
 */
export class DynamoDbGuestStore implements GuestStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

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
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: guestItemKey(sourceId, guestExternalId) } },
          UpdateExpression: update,
          ConditionExpression: 'attribute_not_exists(erasedVersion) OR erasedVersion < :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  async erase(sourceId: string, guestExternalId: string, version: Version): Promise<readonly string[]> {
    const { Attributes } = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: guestItemKey(sourceId, guestExternalId) } },
        UpdateExpression:
          'SET erasedVersion = :version, updatedAt = :updatedAt REMOVE reservationIds, #version',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: {
          ':version': { S: version },
          ':updatedAt': { S: this.clock.now().toISOString() },
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes?.reservationIds?.SS ?? [];
  }
}
