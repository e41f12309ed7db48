import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { isConditionalCheckFailure, requiredString } from '../shared/dynamodb';
import type { HoldStore, SourceHold } from './ports';

type Item = Record<string, AttributeValue>;

/** The Controls item of a source's hold. */
export function holdItemKey(sourceId: string): string {
  return `hold#${sourceId}`;
}

/**
 * Operator controls in the Controls table, one item per control; holds on sources here (`hold#<sourceId>`).
 * Every read is strongly consistent: a hold must take effect with the next batch the consumer starts, and a
 * resume with the next release.
 */
export class DynamoDbControlStore implements HoldStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async hold(sourceId: string): Promise<SourceHold | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: holdItemKey(sourceId) } },
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : toHold(Item);
  }

  async putHold(hold: SourceHold): Promise<{ readonly hold: SourceHold; readonly created: boolean }> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: holdItemKey(hold.sourceId) },
            sourceId: { S: hold.sourceId },
            heldAt: { S: hold.heldAt },
            by: { S: hold.by },
            ...(hold.reason === undefined ? {} : { reason: { S: hold.reason } }),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { hold, created: true };
    } catch (error) {
      if (!isConditionalCheckFailure(error) || error.Item === undefined) throw error;
      return { hold: toHold(error.Item), created: false };
    }
  }

  async deleteHold(sourceId: string): Promise<SourceHold | undefined> {
    const { Attributes } = await this.client.send(
      new DeleteItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: holdItemKey(sourceId) } },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes === undefined ? undefined : toHold(Attributes);
  }
}

function toHold(item: Item): SourceHold {
  const reason = item.reason?.S;
  return {
    sourceId: requiredString(item, 'sourceId', 'Controls'),
    heldAt: requiredString(item, 'heldAt', 'Controls'),
    by: requiredString(item, 'by', 'Controls'),
    ...(reason === undefined ? {} : { reason }),
  };
}
