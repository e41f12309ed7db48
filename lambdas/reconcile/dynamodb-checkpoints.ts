import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbTable, type Item, optionalStrings, stringAttributes } from '../shared/dynamodb';
import type { CircuitSnapshot } from './circuit-breaker';
import type { Checkpoint, CheckpointStore } from './run';

const OPTIONAL_FIELDS = ['resumeCursor', 'resumeUpdatedAfter', 'lastFullPassAt'] as const;

/**
 * Checkpoints in the RECONCILE_CHECKPOINTS table: one item per source id (`pk`), holding the checkpoint's fields
 * as string attributes.
 */
export class DynamoDbCheckpointStore extends DynamoDbTable implements CheckpointStore {
  async get(sourceId: string): Promise<Checkpoint | undefined> {
    const item = await this.getItem(sourceId);
    if (item === undefined) return undefined;
    const watermark = item.watermark?.S;
    if (watermark === undefined) {
      throw new Error(
        `Checkpoint of source "${sourceId}" has no watermark; delete the item to start afresh.`,
      );
    }
    return { watermark, ...optionalStrings(item, OPTIONAL_FIELDS) };
  }

  /**
   * A plain PutItem that replaces the whole item, so a field the new checkpoint leaves out (a resume cursor once
   * the scan completed) is removed. No condition guards it: a source's runs are serialised (the function's
   * reserved concurrency is 1), so no other writer can race this one. Should runs of one source ever overlap,
   * this needs a condition on the watermark it read.
   */
  async put(sourceId: string, checkpoint: Checkpoint): Promise<void> {
    const item = { pk: { S: sourceId }, ...stringAttributes(checkpoint, ['watermark', ...OPTIONAL_FIELDS]) };
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
  }
}

/** Where a source's circuit breaker is saved between runs. */
export interface CircuitStateStore {
  get(sourceId: string): Promise<CircuitSnapshot | undefined>;
  put(sourceId: string, snapshot: CircuitSnapshot): Promise<void>;
}

/**
 * Circuit breakers in the checkpoint table, one item per source under `circuit#<sourceId>`. A checkpoint key is
 * a source id (letters, digits, "-") or `<sourceId>#property=<id>`, and a source id holds no "=", so the two
 * kinds of key never meet.
 */
export class DynamoDbCircuitStateStore extends DynamoDbTable implements CircuitStateStore {
  async get(sourceId: string): Promise<CircuitSnapshot | undefined> {
    const item = await this.getItem(circuitKey(sourceId));
    if (item === undefined) return undefined;
    const state = item.state?.S;
    const failures = Number(item.failures?.N);
    // An unreadable item is ignored rather than thrown: the breaker then starts closed, as it would unsaved.
    if ((state !== 'open' && state !== 'closed') || !Number.isSafeInteger(failures)) return undefined;
    const openedAt = item.openedAt?.S;
    return { state, failures, ...(openedAt === undefined ? {} : { openedAt }) };
  }

  async put(sourceId: string, snapshot: CircuitSnapshot): Promise<void> {
    const item: Item = {
      pk: { S: circuitKey(sourceId) },
      state: { S: snapshot.state },
      failures: { N: String(snapshot.failures) },
    };
    if (snapshot.openedAt !== undefined) item.openedAt = { S: snapshot.openedAt };
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
  }
}

function circuitKey(sourceId: string): string {
  return `circuit#${sourceId}`;
}
