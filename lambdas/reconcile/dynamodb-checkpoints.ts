import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Checkpoint, CheckpointStore } from './run';

type Item = Record<string, AttributeValue>;

const OPTIONAL_FIELDS = ['resumeCursor', 'resumeUpdatedAfter', 'lastFullPassAt'] as const;

/**
 * Checkpoints in the RECONCILE_CHECKPOINTS table: one item per source id (`pk`), holding the checkpoint's fields
 * as string attributes.
 */
export class DynamoDbCheckpointStore implements CheckpointStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(sourceId: string): Promise<Checkpoint | undefined> {
    const { Item: item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: sourceId } }, ConsistentRead: true }),
    );
    if (item === undefined) return undefined;
    const watermark = item.watermark?.S;
    if (watermark === undefined) {
      throw new Error(
        `Checkpoint of source "${sourceId}" has no watermark; delete the item to start afresh.`,
      );
    }
    const checkpoint: { -readonly [K in keyof Checkpoint]: Checkpoint[K] } = { watermark };
    for (const field of OPTIONAL_FIELDS) {
      const value = item[field]?.S;
      if (value !== undefined) checkpoint[field] = value;
    }
    return checkpoint;
  }

  /**
   * A plain PutItem that replaces the whole item, so a field the new checkpoint leaves out (a resume cursor once
   * the scan completed) is removed. No condition guards it: a source's runs are serialised (the function's
   * reserved concurrency is 1), so no other writer can race this one. Should runs of one source ever overlap,
   * this needs a condition on the watermark it read.
   */
  async put(sourceId: string, checkpoint: Checkpoint): Promise<void> {
    const item: Item = { pk: { S: sourceId }, watermark: { S: checkpoint.watermark } };
    for (const field of OPTIONAL_FIELDS) {
      const value = checkpoint[field];
      if (value !== undefined) item[field] = { S: value };
    }
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
  }
}
