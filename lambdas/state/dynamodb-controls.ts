import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbTable, type Item, isConditionalCheckFailure, requiredString } from '../shared/dynamodb';
import type { HoldStore, SourceHold } from './ports';

/** The Controls item of a source's hold. */
export function holdItemKey(sourceId: string): string {
  return `hold#${sourceId}`;
}

/**
 * Operator controls in the Controls table, one item per control; holds on sources here (`hold#<sourceId>`).
 * Every read is strongly consistent: a hold must take effect with the next batch the consumer starts, and a
 * resume with the next release.
 */
export class DynamoDbControlStore extends DynamoDbTable implements HoldStore {
  async hold(sourceId: string): Promise<SourceHold | undefined> {
    const item = await this.getItem(holdItemKey(sourceId));
    return item === undefined ? undefined : toHold(item);
  }

  async putHold(hold: SourceHold): Promise<{ readonly hold: SourceHold; readonly created: boolean }> {
    try {
      await this.putItem(
        {
          pk: { S: holdItemKey(hold.sourceId) },
          sourceId: { S: hold.sourceId },
          heldAt: { S: hold.heldAt },
          by: { S: hold.by },
          ...(hold.reason === undefined ? {} : { reason: { S: hold.reason } }),
        },
        { onlyNew: true },
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
