import {
  CreateTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type LocalSecondaryIndex,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { CfnTemplate, DeployedFunction } from './deployed-stack';

/** An environment variable of a function that cannot be given a local value; the message names them all. */
export class UnresolvableEnvironmentError extends Error {
  constructor(
    readonly functionId: string,
    readonly problems: readonly { readonly variable: string; readonly reason: string }[],
  ) {
    super(
      `${functionId}'s environment cannot be resolved locally:\n` +
        problems.map((p) => `  - ${p.variable}: ${p.reason}`).join('\n'),
    );
    this.name = 'UnresolvableEnvironmentError';
  }
}

class Unresolvable extends Error {}

export interface EmulatedQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

const TABLE_TYPES = new Set(['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable']);
const QUEUE_TYPE = 'AWS::SQS::Queue';
/** Queue properties that are SQS attributes of the same name and value. */
const PLAIN_QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
] as const satisfies readonly QueueAttributeName[];

/**
 * Plays CloudFormation's part for the resources functions are told about: a table or queue an environment
 * variable references is created in DynamoDB Local or fauxqs from the template's own definition (keys,
 * indexes, stream, TTL; queue attributes and redrive policy) under a name unique to this run, and the
 * reference resolves to it. Anything else referenced is refused, naming the variable.
 */
export class EmulatedResources {
  private readonly tables = new Map<string, Promise<string>>();
  private readonly queues = new Map<string, Promise<EmulatedQueue>>();

  constructor(
    private readonly template: CfnTemplate,
    private readonly clients: { readonly dynamodb: DynamoDBClient; readonly sqs: SQSClient },
    private readonly options: {
      readonly prefix: string;
      readonly region: string;
      readonly accountId: string;
      readonly stackName: string;
    },
  ) {}

  /** The function's Environment.Variables with every value resolved, or an error naming each that is not. */
  async environmentOf(
    fn: Pick<DeployedFunction, 'logicalId' | 'variables'>,
  ): Promise<Record<string, string>> {
    const resolved: Record<string, string> = {};
    const problems: { variable: string; reason: string }[] = [];
    await Promise.all(
      Object.entries(fn.variables).map(async ([variable, value]) => {
        try {
          resolved[variable] = await this.resolve(value);
        } catch (error) {
          if (!(error instanceof Unresolvable)) throw error;
          problems.push({ variable, reason: error.message });
        }
      }),
    );
    if (problems.length > 0) throw new UnresolvableEnvironmentError(fn.logicalId, problems);
    return resolved;
  }

  /** The local table standing in for a template table (created on first use). */
  table(logicalId: string): Promise<string> {
    let table = this.tables.get(logicalId);
    if (!table) {
      table = this.createTable(logicalId);
      this.tables.set(logicalId, table);
    }
    return table;
  }

  /** The local queue standing in for a template queue (created on first use). */
  queue(logicalId: string): Promise<EmulatedQueue> {
    let queue = this.queues.get(logicalId);
    if (!queue) {
      queue = this.createQueue(logicalId);
      this.queues.set(logicalId, queue);
    }
    return queue;
  }

  private async resolve(value: unknown): Promise<string> {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (value !== null && typeof value === 'object' && Object.keys(value).length === 1) {
      const record = value as Record<string, unknown>;
      if (typeof record.Ref === 'string') return this.ref(record.Ref);
      const getAtt = record['Fn::GetAtt'];
      const [id, attribute] =
        typeof getAtt === 'string' ? getAtt.split('.') : Array.isArray(getAtt) ? getAtt : [];
      if (typeof id === 'string' && typeof attribute === 'string') return this.getAtt(id, attribute);
      const join = record['Fn::Join'];
      if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
        const parts = await Promise.all(join[1].map((part: unknown) => this.resolve(part)));
        return parts.join(join[0]);
      }
    }
    throw new Unresolvable(
      `${JSON.stringify(value)} is neither a literal nor a Ref, Fn::GetAtt or Fn::Join this test can resolve`,
    );
  }

  private async ref(id: string): Promise<string> {
    switch (id) {
      case 'AWS::Region':
        return this.options.region;
      case 'AWS::AccountId':
        return this.options.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.options.stackName;
    }
    const type = this.typeOf(id);
    if (TABLE_TYPES.has(type)) return this.table(id);
    if (type === QUEUE_TYPE) return (await this.queue(id)).url;
    throw new Unresolvable(`Ref to ${id} (${type}) has no local stand-in`);
  }

  private async getAtt(id: string, attribute: string): Promise<string> {
    const type = this.typeOf(id);
    if (TABLE_TYPES.has(type) && attribute === 'Arn') {
      return `arn:aws:dynamodb:${this.options.region}:${this.options.accountId}:table/${await this.table(id)}`;
    }
    if (type === QUEUE_TYPE) {
      const queue = await this.queue(id);
      if (attribute === 'Arn') return queue.arn;
      if (attribute === 'QueueUrl') return queue.url;
      if (attribute === 'QueueName') return queue.name;
    }
    throw new Unresolvable(`Fn::GetAtt ${id}.${attribute} (${type}) has no local stand-in`);
  }

  private typeOf(id: string): string {
    const resource = this.template.Resources[id];
    if (!resource) throw new Unresolvable(`the template has no resource ${id}`);
    return resource.Type;
  }

  private localName(id: string): string {
    // 80 is SQS's limit for a queue name, with room for a `.fifo` suffix.
    return `${this.options.prefix}-${id}`.slice(0, 75);
  }

  private async createTable(id: string): Promise<string> {
    const props = this.template.Resources[id]?.Properties ?? {};
    const name = this.localName(id);
    const indexes = (props.GlobalSecondaryIndexes ?? []) as GlobalSecondaryIndex[];
    const localIndexes = (props.LocalSecondaryIndexes ?? []) as LocalSecondaryIndex[];
    const stream = props.StreamSpecification as { StreamViewType?: string } | undefined;
    await this.clients.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: props.KeySchema as CreateTableCommand['input']['KeySchema'],
        AttributeDefinitions:
          props.AttributeDefinitions as CreateTableCommand['input']['AttributeDefinitions'],
        // Capacity settings mean nothing locally; keys, indexes and streams are what code depends on.
        BillingMode: 'PAY_PER_REQUEST',
        ...(indexes.length > 0
          ? {
              GlobalSecondaryIndexes: indexes.map(({ IndexName, KeySchema, Projection }) => ({
                IndexName,
                KeySchema,
                Projection,
              })),
            }
          : {}),
        ...(localIndexes.length > 0
          ? {
              LocalSecondaryIndexes: localIndexes.map(({ IndexName, KeySchema, Projection }) => ({
                IndexName,
                KeySchema,
                Projection,
              })),
            }
          : {}),
        ...(stream?.StreamViewType
          ? {
              StreamSpecification: {
                StreamEnabled: true,
                StreamViewType: stream.StreamViewType as 'NEW_AND_OLD_IMAGES',
              },
            }
          : {}),
      }),
    );
    await waitUntilTableExists(
      { client: this.clients.dynamodb, maxWaitTime: 30, minDelay: 1, maxDelay: 1 },
      { TableName: name },
    );
    const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    if (ttl?.Enabled && ttl.AttributeName) {
      await this.clients.dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      );
    }
    return name;
  }

  private async createQueue(id: string): Promise<EmulatedQueue> {
    const props = this.template.Resources[id]?.Properties ?? {};
    const fifo = String(props.FifoQueue) === 'true';
    const name = `${this.localName(id)}${fifo ? '.fifo' : ''}`;
    const attributes: Partial<Record<QueueAttributeName, string>> = {};
    for (const attribute of PLAIN_QUEUE_ATTRIBUTES) {
      if (props[attribute] !== undefined) attributes[attribute] = await this.resolve(props[attribute]);
    }
    if (props.RedrivePolicy !== undefined) {
      const policy = (
        typeof props.RedrivePolicy === 'string' ? JSON.parse(props.RedrivePolicy) : props.RedrivePolicy
      ) as { deadLetterTargetArn: unknown; maxReceiveCount: unknown };
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: await this.resolve(policy.deadLetterTargetArn),
        maxReceiveCount: policy.maxReceiveCount,
      });
    }
    // Encryption settings are left out: the emulator does not encrypt, and no code depends on it.
    const { QueueUrl: url } = await this.clients.sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    if (url === undefined) throw new Error(`fauxqs returned no URL for ${name}`);
    const { Attributes } = await this.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    const arn = Attributes?.QueueArn;
    if (arn === undefined) throw new Error(`fauxqs returned no ARN for ${name}`);
    return { name, url, arn };
  }
}
