import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type PutRequest,
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

/** DynamoDB's most per BatchWriteItem. */
const ITEMS_PER_BATCH = 25;
/** Two at a time, so that the other test files sharing DynamoDB Local keep prompt answers meanwhile. */
const BATCHES_IN_FLIGHT = 2;
/** `#name = :value`: the only assignment a night's update may hold for it to be seeded as an item. */
const PLAIN_ASSIGNMENT = /^(#\w+) = (:\w+)$/;
/** A condition that holds on a night that holds nothing yet. */
const HOLDS_WHEN_ABSENT = /^\(attribute_not_exists\(#\w+\) OR [^()]*\)$/;

type Item = Record<string, AttributeValue>;

/**
 * Stores room nights that hold nothing yet exactly as DynamoDbAriStore.writeNight would: the store builds its
 * conditional update for each night, and the item that update creates on an absent night (its key and every
 * attribute it sets; each of its conditions holds there) goes to DynamoDB Local in batch writes. Thousands of
 * single writes cost the emulator (and the CPU the other test files share) more than the reconciliation a test
 * seeds them for, and transactions of the same updates three times as much as batch writes.
 */
export async function seedNights(
  client: DynamoDBClient,
  tableName: string,
  nights: readonly SeededNight[],
): Promise<void> {
  const items = new Map<string, Item>();
  const recorder = {
    send: async (command: unknown) => {
      if (!(command instanceof UpdateItemCommand)) {
        throw new Error(`seedNights expects writeNight to send one UpdateItem, not ${describe(command)}`);
      }
      const item = itemCreatedBy(command.input, tableName);
      const key = JSON.stringify([item.pk, item.sk]);
      if (items.has(key)) {
        throw new Error(`seedNights stores nights that hold nothing yet; ${key} is written twice`);
      }
      items.set(key, item);
      return {};
    },
  } as unknown as DynamoDBClient;
  const store = new DynamoDbAriStore(recorder, tableName);
  for (const night of nights) await store.writeNight(night.key, night.write, night.version, night.eventId);

  const puts: PutRequest[] = [...items.values()].map((Item) => ({ Item }));
  const batches: PutRequest[][] = [];
  for (let start = 0; start < puts.length; start += ITEMS_PER_BATCH) {
    batches.push(puts.slice(start, start + ITEMS_PER_BATCH));
  }
  let next = 0;
  const sender = async () => {
    while (next < batches.length) {
      let requests = (batches[next++] as PutRequest[]).map((PutRequest) => ({ PutRequest }));
      while (requests.length > 0) {
        const { UnprocessedItems } = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }),
        );
        requests = (UnprocessedItems?.[tableName] ?? []) as typeof requests;
      }
    }
  };
  await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, sender));
}

/**
 * The item an update creates when its key holds nothing: the key and every attribute it sets. Refuses any
 * update that does more than plain assignments, or whose condition could fail on an absent item.
 */
function itemCreatedBy(input: UpdateItemCommandInput, tableName: string): Item {
  const {
    TableName,
    Key,
    UpdateExpression,
    ConditionExpression,
    ExpressionAttributeNames = {},
    ExpressionAttributeValues = {},
    ReturnValuesOnConditionCheckFailure: _returnedOnFailure,
    ...rest
  } = input;
  const unsupported = Object.keys(rest).filter((name) => rest[name as keyof typeof rest] !== undefined);
  if (
    TableName !== tableName ||
    Key === undefined ||
    !UpdateExpression?.startsWith('SET ') ||
    unsupported.length
  ) {
    throw new Error(
      `seedNights cannot seed this update as an item (${unsupported.join(', ') || 'another table, no key or no SET'})`,
    );
  }
  const item: Item = { ...Key };
  for (const assignment of UpdateExpression.slice('SET '.length).split(', ')) {
    const [, name = '', value = ''] = PLAIN_ASSIGNMENT.exec(assignment) ?? [];
    const attribute = ExpressionAttributeNames[name];
    const attributeValue = ExpressionAttributeValues[value];
    if (attribute === undefined || attributeValue === undefined || attribute in Key) {
      throw new Error(`seedNights can seed plain assignments only, not "${assignment}"`);
    }
    item[attribute] = attributeValue;
  }
  for (const condition of (ConditionExpression ?? '').split(' AND ').filter(Boolean)) {
    if (!HOLDS_WHEN_ABSENT.test(condition)) {
      throw new Error(`seedNights cannot tell that "${condition}" holds on a night that holds nothing yet`);
    }
  }
  return item;
}

function describe(command: unknown): string {
  return command?.constructor?.name ?? typeof command;
}
