import {
  type DynamoDBClient,
  TransactWriteItemsCommand,
  type Update,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { NightWrite, RoomNightKey, Version } from '../../lambdas/domain/state';
import { DynamoDbAriStore } from '../../lambdas/state/dynamodb-ari-store';

export interface SeededNight {
  readonly key: RoomNightKey;
  readonly write: NightWrite;
  readonly version: Version;
  readonly eventId: string;
}

/**
 * DynamoDB Local applies a transaction while every other request waits: at 25 actions, two at a time, the other
 * test files sharing the emulator see their requests answered as promptly as beside single writes (a hundred at
 * a time multiplies their latency tenfold, past the functions' request timeouts on a busy machine).
 */
const ACTIONS_PER_TRANSACTION = 25;
const TRANSACTIONS_IN_FLIGHT = 2;

/**
 * Stores room nights that hold nothing yet exactly as DynamoDbAriStore.writeNight would: the store builds its
 * conditional update for each night, and the updates go to DynamoDB Local in transactions. Thousands of single
 * writes cost the emulator (and the CPU the other test files share) more than the reconciliation a test seeds
 * them for; the items and their conditions are the same.
 */
export async function seedNights(
  client: DynamoDBClient,
  tableName: string,
  nights: readonly SeededNight[],
): Promise<void> {
  const updates: Update[] = [];
  const recorder = {
    send: async (command: unknown) => {
      if (!(command instanceof UpdateItemCommand)) {
        throw new Error(`seedNights expects writeNight to send one UpdateItem, not ${describe(command)}`);
      }
      updates.push(asTransactionUpdate(command.input));
      return {};
    },
  } as unknown as DynamoDBClient;
  const store = new DynamoDbAriStore(recorder, tableName);
  for (const night of nights) await store.writeNight(night.key, night.write, night.version, night.eventId);

  const transactions: Update[][] = [];
  for (let start = 0; start < updates.length; start += ACTIONS_PER_TRANSACTION) {
    transactions.push(updates.slice(start, start + ACTIONS_PER_TRANSACTION));
  }
  let next = 0;
  const sender = async () => {
    while (next < transactions.length) {
      const batch = transactions[next++] as Update[];
      await client.send(
        new TransactWriteItemsCommand({ TransactItems: batch.map((Update) => ({ Update })) }),
      );
    }
  };
  await Promise.all(Array.from({ length: TRANSACTIONS_IN_FLIGHT }, sender));
}

function asTransactionUpdate(input: UpdateItemCommandInput): Update {
  const {
    TableName,
    Key,
    UpdateExpression,
    ConditionExpression,
    ExpressionAttributeNames,
    ExpressionAttributeValues,
    ReturnValuesOnConditionCheckFailure,
    ...rest
  } = input;
  const unsupported = Object.keys(rest).filter((name) => rest[name as keyof typeof rest] !== undefined);
  if (
    TableName === undefined ||
    Key === undefined ||
    UpdateExpression === undefined ||
    unsupported.length > 0
  ) {
    throw new Error(
      `seedNights cannot send this update in a transaction (${unsupported.join(', ') || 'no table, key or expression'})`,
    );
  }
  return {
    TableName,
    Key,
    UpdateExpression,
    ConditionExpression,
    ExpressionAttributeNames,
    ExpressionAttributeValues,
    ReturnValuesOnConditionCheckFailure,
  };
}

function describe(command: unknown): string {
  return command?.constructor?.name ?? typeof command;
}
