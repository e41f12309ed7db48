import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type IndexDefinition,
  type KeyAttribute,
  localName,
  QUEUES,
  type QueueDefinition,
  type StreamView,
  TABLES,
  type TableDefinition,
} from '../lambdas/shared/topology';

export interface ProvisionTargets {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** Prepended to every name, so that several copies of the topology can share one emulator. */
  readonly prefix: string;
}

export interface ProvisionedQueue {
  readonly url: string;
  readonly arn: string;
}

export interface ProvisionedTopology {
  /** Table name by definition id (`DeliveryLedger` → `<prefix>-delivery-ledger`). */
  readonly tables: Readonly<Record<string, string>>;
  readonly queues: Readonly<Record<string, ProvisionedQueue>>;
}

/**
 * Creates every table and queue of lambdas/shared/topology.ts in the emulators, shaped exactly as the definitions say.
 * Idempotent: existing tables are kept and existing queues are brought to the defined attributes.
 */
export async function provision(targets: ProvisionTargets): Promise<ProvisionedTopology> {
  const [tables, queues] = await Promise.all([provisionTables(targets), provisionQueues(targets)]);
  return { tables, queues };
}

async function provisionTables({ dynamodb, prefix }: ProvisionTargets): Promise<Record<string, string>> {
  const entries = await Promise.all(
    TABLES.map(async (definition) => {
      const name = localName(definition, prefix);
      await ensureTable(dynamodb, name, definition);
      return [definition.id, name] as const;
    }),
  );
  return Object.fromEntries(entries);
}

async function ensureTable(client: DynamoDBClient, name: string, definition: TableDefinition): Promise<void> {
  const indexes = definition.globalSecondaryIndexes ?? [];
  const attributes = new Map<string, KeyAttribute>();
  for (const key of [definition.partitionKey, definition.sortKey, ...indexes.flatMap(indexKeys)]) {
    if (key === undefined) continue;
    const known = attributes.get(key.name);
    if (known !== undefined && known.type !== key.type) {
      throw new Error(
        `Table ${definition.id} uses attribute ${key.name} as both ${known.type} and ${key.type} in its keys ` +
          '(lambdas/shared/topology.ts): DynamoDB allows one type per attribute',
      );
    }
    attributes.set(key.name, key);
  }
  const attributeDefinitions: AttributeDefinition[] = [...attributes.values()].map((key) => ({
    AttributeName: key.name,
    AttributeType: key.type,
  }));
  const globalSecondaryIndexes: GlobalSecondaryIndex[] = indexes.map((index) => ({
    IndexName: index.indexName,
    KeySchema: keySchema(index),
    Projection:
      index.projection === undefined
        ? { ProjectionType: 'ALL' }
        : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection] },
  }));
  let existed = false;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: attributeDefinitions,
        KeySchema: keySchema(definition),
        // On demand: indexes then take no provisioned throughput of their own either.
        BillingMode: 'PAY_PER_REQUEST',
        ...(globalSecondaryIndexes.length > 0 ? { GlobalSecondaryIndexes: globalSecondaryIndexes } : {}),
        ...(definition.stream
          ? { StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream } }
          : {}),
      }),
    );
  } catch (error) {
    if (!hasName(error, 'ResourceInUseException')) throw error;
    existed = true;
  }
  await waitUntilActive(client, name);
  if (existed) {
    await addMissingIndexes(client, name, attributeDefinitions, globalSecondaryIndexes);
    if (definition.stream !== undefined) await ensureStream(client, name, definition.stream);
  }
  if (definition.timeToLiveAttribute !== undefined) {
    await ensureTimeToLive(client, name, definition.timeToLiveAttribute);
  }
}

/**
 * A table kept in a data directory from an older topology lacks the indexes added since: they are added the way
 * CloudFormation adds them to a deployed table, one at a time, each waited for.
 */
async function addMissingIndexes(
  client: DynamoDBClient,
  name: string,
  attributeDefinitions: AttributeDefinition[],
  indexes: readonly GlobalSecondaryIndex[],
): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of indexes.filter((candidate) => !present.has(candidate.IndexName))) {
    await client.send(
      new UpdateTableCommand({
        TableName: name,
        AttributeDefinitions: attributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    );
    await waitUntilActive(client, name);
  }
}

/** A table kept from a topology before its stream gets one, as CloudFormation adds it to a deployed table. */
async function ensureStream(client: DynamoDBClient, name: string, view: StreamView): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
  const current = Table?.StreamSpecification;
  if (current?.StreamEnabled && current.StreamViewType === view) return;
  if (current?.StreamEnabled) {
    // DynamoDB changes a stream's view only by turning it off and on again.
    await client.send(
      new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: false } }),
    );
    await waitUntilActive(client, name);
  }
  await client.send(
    new UpdateTableCommand({
      TableName: name,
      StreamSpecification: { StreamEnabled: true, StreamViewType: view },
    }),
  );
  await waitUntilActive(client, name);
}

function indexKeys(index: IndexDefinition): readonly (KeyAttribute | undefined)[] {
  return [index.partitionKey, index.sortKey];
}

function keySchema(keys: {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}): KeySchemaElement[] {
  return [
    { AttributeName: keys.partitionKey.name, KeyType: 'HASH' },
    ...(keys.sortKey ? [{ AttributeName: keys.sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}

/**
 * How long a table, or an index being added to one, may take to become ACTIVE. DynamoDB Local usually needs well
 * under a second, but has been seen to take over 30 s to make an added index ACTIVE on a busy machine.
 */
const ACTIVE_WITHIN_MS = 90_000;

async function waitUntilActive(client: DynamoDBClient, name: string): Promise<void> {
  const deadline = Date.now() + ACTIVE_WITHIN_MS;
  while (true) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    const indexes = Table?.GlobalSecondaryIndexes ?? [];
    if (Table?.TableStatus === 'ACTIVE' && indexes.every((index) => index.IndexStatus === 'ACTIVE')) return;
    if (Date.now() > deadline) {
      const states = indexes.map((index) => `${index.IndexName} ${index.IndexStatus}`).join(', ');
      throw new Error(
        `Table ${name} is ${Table?.TableStatus}${states ? ` (indexes: ${states})` : ''} after ` +
          `${ACTIVE_WITHIN_MS / 1000} s, not ACTIVE. Restart the local runtime; if it recurs, delete the table ` +
          'and let the runtime create it again.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ensureTimeToLive(client: DynamoDBClient, name: string, attribute: string): Promise<void> {
  const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
  const status = TimeToLiveDescription?.TimeToLiveStatus;
  if ((status === 'ENABLED' || status === 'ENABLING') && TimeToLiveDescription?.AttributeName === attribute)
    return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
    }),
  );
}

async function provisionQueues({ sqs, prefix }: ProvisionTargets): Promise<Record<string, ProvisionedQueue>> {
  const provisioned: Record<string, ProvisionedQueue> = {};
  // Sequential, in definition order: a queue's dead-letter queue must exist before its redrive policy names it.
  for (const definition of QUEUES) {
    provisioned[definition.id] = await ensureQueue(
      sqs,
      localName(definition, prefix),
      definition,
      provisioned,
    );
  }
  return provisioned;
}

async function ensureQueue(
  client: SQSClient,
  name: string,
  definition: QueueDefinition,
  earlier: Readonly<Record<string, ProvisionedQueue>>,
): Promise<ProvisionedQueue> {
  const attributes = queueAttributes(definition, earlier);
  let url: string | undefined;
  try {
    ({ QueueUrl: url } = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    ));
  } catch (error) {
    // The queue exists with other attributes (an older topology): bring it up to date.
    if (!hasName(error, 'QueueNameExists')) throw error;
    ({ QueueUrl: url } = await client.send(new GetQueueUrlCommand({ QueueName: name })));
    if (url !== undefined)
      await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  }
  if (url === undefined) throw new Error(`SQS returned no URL for queue ${name}`);
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`SQS returned no ARN for queue ${name}`);
  return { url, arn };
}

function queueAttributes(
  definition: QueueDefinition,
  earlier: Readonly<Record<string, ProvisionedQueue>>,
): Partial<Record<QueueAttributeName, string>> {
  const attributes: Partial<Record<QueueAttributeName, string>> = {
    MaximumMessageSize: String(definition.maximumMessageSizeBytes),
    MessageRetentionPeriod: String(definition.retentionSeconds),
    VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
  };
  if (definition.deadLetterQueue !== undefined) {
    const deadLetterQueue = earlier[definition.deadLetterQueue];
    if (deadLetterQueue === undefined) {
      throw new Error(
        `Queue ${definition.id} names dead-letter queue ${definition.deadLetterQueue}, which is not defined ` +
          'before it in QUEUES (lambdas/shared/topology.ts)',
      );
    }
    if (definition.maxReceiveCount === undefined) {
      throw new Error(
        `Queue ${definition.id} has a dead-letter queue but no maxReceiveCount (lambdas/shared/topology.ts)`,
      );
    }
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: deadLetterQueue.arn,
      maxReceiveCount: definition.maxReceiveCount,
    });
  }
  return attributes;
}

function hasName(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}
