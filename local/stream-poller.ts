import { randomUUID } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  AttributeValue,
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import type { StreamBatchFailure } from '../lambdas/queue/stream-failures';
import { localLambdaContext } from './lambda-context';
import { readyOrAborted, sleep } from './poller';

/** A stream-triggered function, as the Lambda event source mapping invokes it. */
export type StreamConsumer = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | undefined>;

export type { StreamBatchFailure };

/** The function name the local invocations report, as `context.functionName` and in a failure record. */
const FUNCTION_NAME = 'paritysync-local-parity';

export interface StreamPollerOptions {
  readonly streams: DynamoDBStreamsClient;
  /**
   * The stream's current ARN, asked again when the stream is not found: a table created anew (an emulator
   * restarted without a data directory) has a new stream, read from its beginning since all of it is new.
   */
  readonly streamArn: () => Promise<string>;
  readonly region: string;
  readonly consumer: StreamConsumer;
  /** Records per invocation. @default 100 */
  readonly batchSize?: number;
  /** Retries of a failing batch before its remaining records go to `onFailure`. @default 3 */
  readonly retryAttempts?: number;
  /**
   * Where a batch given up on goes, in the shape Lambda sends its on-failure destination (requestContext,
   * responseContext, DDBStreamBatchInfo), so that the operations tools read it alike. @default logged only
   */
  readonly onFailure?: (failure: StreamBatchFailure) => Promise<void>;
  /** Pause between reads of a shard that had nothing new. @default 250 */
  readonly idleMs?: number;
  /**
   * How often the stream's shards are listed again to find new ones; a shard read to its end has them listed at
   * once. Listing on every idle read was most of an idle poller's requests. @default 5000
   */
  readonly shardDiscoveryMs?: number;
  /**
   * Where new shards start: LATEST as the event source mapping starts, or TRIM_HORIZON for everything the
   * stream still holds. Shards split off later always start at their beginning. @default 'LATEST'
   */
  readonly startingPosition?: 'LATEST' | 'TRIM_HORIZON';
  /** How long an invocation may run, reported through `getRemainingTimeInMillis`. @default 30000 */
  readonly timeoutMs?: number;
  readonly logError?: (message: string, error: unknown) => void;
  /** Awaited before each read: the local runtime holds the event source while an emulator restarts. */
  readonly ready?: () => Promise<void>;
}

export interface StreamPoller {
  /** Stops reading; resolves once a batch in flight has been settled. */
  stop(): Promise<void>;
  /** Resolves once every shard known at start has an iterator: changes written after this are seen. */
  readonly started: Promise<void>;
}

/**
 * Plays the Lambda DynamoDB stream event source for the local runtime: reads each shard of the stream in order,
 * invokes the consumer with the DynamoDBStreamEvent Lambda would build, and, as `reportBatchItemFailures` does,
 * resumes a batch from the lowest sequence number the consumer reported (all of it if it throws). After
 * `retryAttempts` retries the rest of the batch is handed to `onFailure` and the shard moves on.
 */
export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const controller = new AbortController();
  const { signal } = controller;
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const loop = (async () => {
    /** Open iterators by shard id; a shard read to its end is kept with `undefined`, so it is not opened again. */
    const iterators = new Map<string, string | undefined>();
    let first = true;
    /** The stream read last, and undefined while it is to be looked up again. */
    let known: string | undefined;
    let streamArn: string | undefined;
    /** When the shards were last listed; 0 to list them before the next read. */
    let discoveredAt = 0;
    while (!signal.aborted) {
      try {
        if (options.ready) await readyOrAborted(options.ready(), signal);
        if (signal.aborted) break;
        if (streamArn === undefined) {
          streamArn = await options.streamArn();
          if (streamArn !== known) iterators.clear();
          known = streamArn;
          discoveredAt = 0;
        }
        const stream: ResolvedOptions = { ...options, streamArn };
        if (Date.now() - discoveredAt >= (options.shardDiscoveryMs ?? 5000)) {
          await discoverShards(
            stream,
            iterators,
            first ? (options.startingPosition ?? 'LATEST') : 'TRIM_HORIZON',
          );
          discoveredAt = Date.now();
        }
        if (first) markStarted();
        first = false;
        let read = 0;
        for (const [shardId, iterator] of iterators) {
          if (iterator === undefined || signal.aborted) continue;
          const { Records = [], NextShardIterator } = await options.streams.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: options.batchSize ?? 100 }),
          );
          iterators.set(shardId, NextShardIterator);
          // A closed shard has children to read next: list the shards again before the next read.
          if (NextShardIterator === undefined) discoveredAt = 0;
          if (Records.length === 0) continue;
          read += Records.length;
          await invokeWithRetries(
            stream,
            shardId,
            Records.map((record) => toLambdaRecord(record, stream)),
            logError,
          );
        }
        if (read === 0) await sleep(options.idleMs ?? 250, signal);
      } catch (error) {
        if (signal.aborted) break;
        logError(
          `Reading the stream ${streamArn ?? '(its ARN could not be looked up)'} failed; retrying in 1 s`,
          error,
        );
        const name = error instanceof Error ? error.name : '';
        // A stream that no longer exists (its table was created anew) is looked up again before the next read.
        if (name === 'ResourceNotFoundException') streamArn = undefined;
        // An iterator DynamoDB no longer serves: its shard is read again from its beginning, which only repeats
        // checks, where starting at the latest record could skip changes.
        if (EXPIRED.has(name)) iterators.clear();
        discoveredAt = 0;
        await sleep(1000, signal);
      }
    }
    markStarted();
  })();
  return {
    started,
    async stop() {
      controller.abort();
      await loop;
    },
  };
}

/** Errors after which a shard's iterator can no longer be used. */
const EXPIRED = new Set(['ExpiredIteratorException', 'TrimmedDataAccessException']);

/** The poller's options with the stream's ARN as it is now. */
type ResolvedOptions = Omit<StreamPollerOptions, 'streamArn'> & { readonly streamArn: string };

async function discoverShards(
  options: ResolvedOptions,
  iterators: Map<string, string | undefined>,
  position: 'LATEST' | 'TRIM_HORIZON',
): Promise<void> {
  let exclusiveStartShardId: string | undefined;
  do {
    const { StreamDescription } = await options.streams.send(
      new DescribeStreamCommand({
        StreamArn: options.streamArn,
        ExclusiveStartShardId: exclusiveStartShardId,
      }),
    );
    for (const shard of StreamDescription?.Shards ?? []) {
      const shardId = shard.ShardId;
      if (shardId === undefined || iterators.has(shardId)) continue;
      const { ShardIterator } = await options.streams.send(
        new GetShardIteratorCommand({
          StreamArn: options.streamArn,
          ShardId: shardId,
          ShardIteratorType: position,
        }),
      );
      iterators.set(shardId, ShardIterator);
    }
    exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
  } while (exclusiveStartShardId !== undefined);
}

async function invokeWithRetries(
  options: ResolvedOptions,
  shardId: string,
  records: readonly DynamoDBRecord[],
  logError: (message: string, error: unknown) => void,
): Promise<void> {
  const retries = options.retryAttempts ?? 3;
  let remaining = records;
  for (let attempt = 0; remaining.length > 0; attempt += 1) {
    const result = await invoke(options, remaining, logError);
    if (result.failedFrom === undefined) return;
    remaining = remaining.slice(result.failedFrom);
    if (attempt >= retries) {
      const failure = batchFailure(options, shardId, remaining, attempt + 1, result);
      logError(`Giving up on ${remaining.length} stream record(s) after ${retries} retries`, failure);
      await options.onFailure?.(failure);
      return;
    }
    await pause(100 * 2 ** attempt);
  }
}

function batchFailure(
  options: ResolvedOptions,
  shardId: string,
  remaining: readonly DynamoDBRecord[],
  invocations: number,
  last: Invocation,
): StreamBatchFailure {
  // Lambda gives the arrival times to the second.
  const arrival = (record: DynamoDBRecord | undefined) => {
    const seconds = record?.dynamodb?.ApproximateCreationDateTime;
    return seconds === undefined
      ? undefined
      : new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  };
  const first = arrival(remaining[0]);
  const lastArrival = arrival(remaining.at(-1));
  return {
    requestContext: {
      requestId: last.requestId,
      functionArn: `arn:aws:lambda:${options.region}:000000000000:function:${FUNCTION_NAME}`,
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: invocations,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: '$LATEST',
      ...(last.threw ? { functionError: 'Unhandled' } : {}),
    },
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId,
      startSequenceNumber: remaining[0]?.dynamodb?.SequenceNumber ?? '',
      endSequenceNumber: remaining.at(-1)?.dynamodb?.SequenceNumber ?? '',
      ...(first === undefined ? {} : { approximateArrivalOfFirstRecord: first }),
      ...(lastArrival === undefined ? {} : { approximateArrivalOfLastRecord: lastArrival }),
      batchSize: remaining.length,
      streamArn: options.streamArn,
    },
  };
}

/** One invocation: the index of the first record to retry from (undefined when the whole batch succeeded). */
interface Invocation {
  readonly failedFrom: number | undefined;
  readonly threw: boolean;
  readonly requestId: string;
}

async function invoke(
  options: ResolvedOptions,
  records: readonly DynamoDBRecord[],
  logError: (message: string, error: unknown) => void,
): Promise<Invocation> {
  const requestId = randomUUID();
  const answered = (failedFrom: number | undefined): Invocation => ({ failedFrom, threw: false, requestId });
  try {
    const response = await options.consumer(
      { Records: [...records] },
      localLambdaContext(FUNCTION_NAME, requestId, Date.now() + (options.timeoutMs ?? 30_000)),
    );
    const failed = (response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier);
    if (failed.length === 0) return answered(undefined);
    const indexes = failed.map((sequence) =>
      records.findIndex((record) => record.dynamodb?.SequenceNumber === sequence),
    );
    // Lambda retries the whole batch when a reported failure names no record of it.
    if (indexes.some((index) => index < 0)) {
      logError('The consumer reported failures for records not in the batch; retrying all of it', failed);
      return answered(0);
    }
    return answered(Math.min(...indexes));
  } catch (error) {
    logError('The consumer threw; retrying the whole batch', error);
    return { failedFrom: 0, threw: true, requestId };
  }
}

/** The record shape of the Lambda event: epoch seconds for the time, binary attributes in base64. */
function toLambdaRecord(record: StreamRecord, options: ResolvedOptions): DynamoDBRecord {
  const change = record.dynamodb;
  const attributes = (map: object | undefined) =>
    map === undefined
      ? undefined
      : (JSON.parse(
          JSON.stringify(map, (_key, value: unknown) =>
            value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value,
          ),
        ) as Record<string, AttributeValue>);
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: options.region,
    eventSourceARN: options.streamArn,
    dynamodb: JSON.parse(
      JSON.stringify({
        ApproximateCreationDateTime:
          change?.ApproximateCreationDateTime === undefined
            ? undefined
            : Math.floor(change.ApproximateCreationDateTime.getTime() / 1000),
        Keys: attributes(change?.Keys),
        NewImage: attributes(change?.NewImage),
        OldImage: attributes(change?.OldImage),
        SequenceNumber: change?.SequenceNumber,
        SizeBytes: change?.SizeBytes,
        StreamViewType: change?.StreamViewType,
      }),
    ),
  };
}
