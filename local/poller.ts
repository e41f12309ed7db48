import { randomUUID } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSMessageAttributes,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';
import { localLambdaContext } from './lambda-context';

/** An SQS-triggered function, as the Lambda event source mapping invokes it. */
export type SqsConsumer = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface SqsPollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly consumer: SqsConsumer;
  /** Long-poll wait per receive, 0-20 s. @default 20 */
  readonly waitTimeSeconds?: number;
  /**
   * Visibility timeout requested on every receive, so that a failed record comes back within seconds rather
   * than after the queue's own timeout (180 s in AWS). @default 2
   */
  readonly visibilityTimeoutSeconds?: number;
  /** Records per invocation, 1-10. @default 10 */
  readonly batchSize?: number;
  /** Receive loops running side by side, as Lambda runs several pollers and invocations at once. @default 1 */
  readonly concurrency?: number;
  /** How long an invocation may run, reported through `getRemainingTimeInMillis`. @default 30000 */
  readonly timeoutMs?: number;
  /** Where poller and consumer failures are reported. @default console.error */
  readonly logError?: (message: string, error: unknown) => void;
  /**
   * Awaited before each receive: the local runtime holds the event source while an emulator restarts, so that
   * records do not fail their way to the DLQ meanwhile.
   */
  readonly ready?: () => Promise<void>;
}

export interface SqsPoller {
  /** Ends the loops: aborts a long poll in flight, and waits for a batch being processed to finish. */
  stop(): Promise<void>;
}

/**
 * The event source mapping's `Enabled` flag, which AWS lets an operator turn off and on again: while off,
 * nothing is received and messages wait on the queue. Starts enabled.
 */
export interface SwitchableSqsPoller {
  readonly enabled: boolean;
  /** Starts receiving again; a no-op while enabled, and once closed. */
  enable(): void;
  /** Stops receiving; resolves once a batch in flight has been settled. */
  disable(): Promise<void>;
  /** Disables it for good: the SQS client it polls with is about to go. */
  close(): Promise<void>;
}

export function startSwitchableSqsPoller(options: SqsPollerOptions): SwitchableSqsPoller {
  let current: SqsPoller | undefined = startSqsPoller(options);
  let closed = false;
  const disable = async () => {
    const stopping = current;
    current = undefined;
    await stopping?.stop();
  };
  return {
    get enabled() {
      return current !== undefined;
    },
    enable() {
      if (!closed) current ??= startSqsPoller(options);
    },
    disable,
    close() {
      closed = true;
      return disable();
    },
  };
}

const RETRY_AFTER_RECEIVE_ERROR_MS = 1000;

/**
 * Plays the Lambda SQS event source for the local runtime: long-polls the queue, invokes the consumer with the
 * SQSEvent Lambda would build, and deletes what succeeded. Records the consumer lists in `batchItemFailures`
 * (all of them if it throws, or if it names an id not in the batch, as Lambda does) stay on the queue and
 * come back after the visibility timeout; SQS moves them to the DLQ after the queue's maxReceiveCount.
 */
export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const controller = new AbortController();
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const loops = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, () =>
    pollLoop(options, controller.signal, logError),
  );
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        controller.abort();
        await Promise.all(loops);
      })();
      return stopping;
    },
  };
}

async function pollLoop(
  options: SqsPollerOptions,
  signal: AbortSignal,
  logError: (message: string, error: unknown) => void,
): Promise<void> {
  while (!signal.aborted) {
    if (options.ready) await readyOrAborted(options.ready(), signal);
    if (signal.aborted) return;
    let messages: Message[];
    try {
      ({ Messages: messages = [] } = await options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: options.batchSize ?? 10,
          WaitTimeSeconds: options.waitTimeSeconds ?? 20,
          VisibilityTimeout: options.visibilityTimeoutSeconds ?? 2,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: signal },
      ));
    } catch (error) {
      if (signal.aborted) return;
      logError(
        `Receiving from ${options.queueUrl} failed; retrying in ${RETRY_AFTER_RECEIVE_ERROR_MS} ms`,
        error,
      );
      await sleep(RETRY_AFTER_RECEIVE_ERROR_MS, signal);
      continue;
    }
    if (messages.length === 0) continue;
    await invokeAndSettle(options, messages, logError);
  }
}

async function invokeAndSettle(
  options: SqsPollerOptions,
  messages: readonly Message[],
  logError: (message: string, error: unknown) => void,
): Promise<void> {
  const event: SQSEvent = { Records: messages.map((message) => toRecord(message, options)) };
  const ids = new Set(event.Records.map((record) => record.messageId));
  let failed: ReadonlySet<string>;
  try {
    const response = await options.consumer(
      event,
      localLambdaContext('paritysync-local-apply', randomUUID(), Date.now() + (options.timeoutMs ?? 30_000)),
    );
    const listed = (response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier);
    const unknown = listed.filter((id) => !ids.has(id));
    // Lambda treats a failure it cannot match to a record as a failure of the whole batch.
    if (unknown.length > 0) {
      logError(
        'The consumer reported failures for messages not in the batch; all of it will be received again',
        unknown,
      );
      failed = ids;
    } else {
      failed = new Set(listed);
    }
  } catch (error) {
    logError('The consumer threw; every message of the batch will be received again', error);
    failed = ids;
  }
  const done = messages.filter((message) => !failed.has(message.MessageId ?? ''));
  if (done.length === 0) return;
  try {
    const { Failed = [] } = await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle ?? '',
        })),
      }),
    );
    if (Failed.length > 0)
      logError('Some processed messages could not be deleted and will be received again', Failed);
  } catch (error) {
    logError('Deleting processed messages failed; they will be received again', error);
  }
}

/** The record shape of the Lambda SQS event: camel-cased fields, attributes as strings. */
function toRecord(message: Message, options: SqsPollerOptions): SQSRecord {
  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: (message.Attributes ?? {}) as unknown as SQSRecordAttributes,
    messageAttributes: toMessageAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: options.region,
  };
  if (message.MD5OfMessageAttributes !== undefined)
    record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

function toMessageAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const converted: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    converted[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return converted;
}

/** Waits `ms`, or less if `signal` aborts first; never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return pause(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * Waits for the emulators, or less if `signal` aborts first: a poller being stopped must not wait for an emulator
 * that will never be back. Never rejects.
 */
export function readyOrAborted(ready: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    ready.then(done, done);
  });
}
