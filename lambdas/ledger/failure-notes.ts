import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { isConditionalCheckFailure } from '../shared/dynamodb';

/** Long enough for an SDK error's name and message; the ledger item stays small. */
const MAX_NOTE_LENGTH = 1000;

export interface FailureNote {
  readonly lastError?: string;
  readonly lastErrorAt?: string;
}

/** Why the latest attempt to apply an event failed, kept next to its status in the delivery ledger. */
export interface FailureNotes {
  note(eventId: string, reason: string, at: string): Promise<void>;
}

/**
 * Failed apply attempts, written onto the event's delivery ledger entry as `lastError` / `lastErrorAt` without
 * touching its status: an event that ends in the DLQ keeps saying why, and a later redrive can still apply it.
 */
export class DynamoDbLedgerFailureNotes implements FailureNotes {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async note(eventId: string, reason: string, at: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: eventId } },
          UpdateExpression: 'SET lastError = :reason, lastErrorAt = :at',
          // An entry that has expired (or never existed) is not recreated as a stub holding only the error.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: {
            ':reason': { S: reason.slice(0, MAX_NOTE_LENGTH) },
            ':at': { S: at },
          },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }

  async read(eventId: string): Promise<FailureNote> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: eventId } },
        ProjectionExpression: 'lastError, lastErrorAt',
        ConsistentRead: true,
      }),
    );
    const lastError = Item?.lastError?.S;
    const lastErrorAt = Item?.lastErrorAt?.S;
    return {
      ...(lastError === undefined ? {} : { lastError }),
      ...(lastErrorAt === undefined ? {} : { lastErrorAt }),
    };
  }
}
