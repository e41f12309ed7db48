import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../lambdas/shared/aws-clients';
import { type StreamConsumer, type StreamPoller, startStreamPoller } from './stream-poller';

export interface ParityStreamOptions {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly dynamodbEndpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The ARI table, whose stream is played. */
  readonly ariTableName: string;
  /** Where batches given up on go, as the stack's on-failure destination. */
  readonly deadLetterQueueUrl: string;
  readonly consumer: StreamConsumer;
  readonly startingPosition?: 'LATEST' | 'TRIM_HORIZON';
  readonly ready?: () => Promise<void>;
  readonly logError?: (message: string, error: unknown) => void;
}

/**
 * Parity on change locally: the ARI table's stream in DynamoDB Local drives the parity function, with the event
 * source settings the stack gives it (ParityOnChange) and its dead-letter queue in the SQS emulator.
 */
export async function startParityStream(options: ParityStreamOptions): Promise<StreamPoller> {
  const streamArn = async () => {
    const { Table } = await options.dynamodb.send(
      new DescribeTableCommand({ TableName: options.ariTableName }),
    );
    const arn = Table?.LatestStreamArn;
    if (arn === undefined || Table?.StreamSpecification?.StreamEnabled !== true) {
      throw new Error(
        `Table ${options.ariTableName} has no stream; provisioning (local/provision.ts) turns it on from the topology`,
      );
    }
    return arn;
  };
  // Refused at start rather than logged every second: a table without a stream is a provisioning bug.
  await streamArn();
  // Bounded as the function's own clients are: a stalled emulator fails a read, which the poller retries.
  const streams = new DynamoDBStreamsClient({
    ...awsClientConfig('parity'),
    endpoint: options.dynamodbEndpoint,
    region: options.region,
    credentials: options.credentials,
  });
  const poller = startStreamPoller({
    streams,
    streamArn,
    region: options.region,
    consumer: options.consumer,
    batchSize: 100,
    retryAttempts: 3,
    onFailure: async (failure) => {
      await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.deadLetterQueueUrl,
          MessageBody: JSON.stringify(failure),
        }),
      );
    },
    ...(options.startingPosition ? { startingPosition: options.startingPosition } : {}),
    ...(options.ready ? { ready: options.ready } : {}),
    ...(options.logError ? { logError: options.logError } : {}),
  });
  return {
    started: poller.started,
    async stop() {
      await poller.stop();
      streams.destroy();
    },
  };
}
