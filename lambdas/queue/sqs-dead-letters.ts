import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { Clock } from '../shared/clock';
import { withoutUndefined } from '../shared/objects';
import {
  type DeadLetter,
  type DeadLetterChoice,
  type DeadLetterQueue,
  type DeadLetterScan,
  type MoveTask,
  REDRIVE_MARK,
  REPLAY_ATTRIBUTE,
  type RedrivableDeadLetterQueue,
  type RedriveAllResult,
} from './ports';
import { batches, SQS_BATCH_SIZE } from './sqs-batches';

/**
 * SQS caps a send batch at 1 MiB in all, as much as one message may be; kept a little below, for the attributes
 * and the batch's own framing.
 */
const SEND_BATCH_BYTES = 1_000_000;
/**
 * How long a message received for a look or a scan stays out of view: longer than any call that receives it
 * lasts (the read API's 10 s timeout, 29 s locally), so that a scan never meets the same message twice, and
 * short enough that a call that died before putting messages back leaves them hidden for a minute at most.
 */
const HIDE_SECONDS = 60;
/**
 * Long polling: a receive answers as soon as a message is there, and asks every SQS server, so an empty answer
 * means an empty queue (a short poll samples some servers and may answer empty while messages wait).
 */
const WAIT_SECONDS = 1;

interface Received {
  readonly letter: DeadLetter;
  readonly receiptHandle: string;
  readonly messageAttributes: Record<string, MessageAttributeValue>;
}

export interface SqsDeadLetterQueueOptions {
  readonly queueUrl: string;
  readonly clock: Clock;
  /**
   * Long-poll wait of each receive. A single-server emulator answers a short poll with every visible message,
   * so its tests need not wait a second to learn that a queue is empty. @default 1
   */
  readonly receiveWaitSeconds?: number;
}

/** A dead-letter queue nothing is sent back from: the failed reconciliation runs, kept to be read and deleted. */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  protected readonly queueUrl: string;
  protected readonly clock: Clock;
  private readonly receiveWaitSeconds: number;

  constructor(
    protected readonly client: SQSClient,
    options: SqsDeadLetterQueueOptions,
  ) {
    this.queueUrl = options.queueUrl;
    this.clock = options.clock;
    this.receiveWaitSeconds = options.receiveWaitSeconds ?? WAIT_SECONDS;
  }

  async approximateCount(): Promise<number> {
    const { Attributes = {} } = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  }

  async peek(limit: number, deadlineMs: number): Promise<readonly DeadLetter[]> {
    const seen = new Map<string, Received>();
    try {
      while (seen.size < limit && this.clock.now().getTime() < deadlineMs) {
        const received = await this.receive(Math.min(SQS_BATCH_SIZE, limit - seen.size));
        const fresh = received.filter((message) => !seen.has(message.letter.messageId));
        for (const message of received) seen.set(message.letter.messageId, message);
        if (fresh.length === 0) break;
      }
    } finally {
      await this.putBack([...seen.values()]);
    }
    return [...seen.values()].map((message) => message.letter);
  }

  async remove(choice: DeadLetterChoice, deadlineMs: number): Promise<DeadLetterScan> {
    return this.scan(choice, deadlineMs, async (chosen) => {
      await this.delete(chosen);
      return chosen;
    });
  }

  /**
   * Receives batch after batch, hands the chosen messages to `take` and keeps the others out of view until the
   * scan ends, so that each message is met once; then puts back what was not taken (also when `take` fails).
   */
  protected async scan(
    choice: DeadLetterChoice,
    deadlineMs: number,
    take: (chosen: readonly Received[]) => Promise<readonly Received[]>,
  ): Promise<DeadLetterScan> {
    const passed = new Map<string, Received>();
    const taken: DeadLetter[] = [];
    let complete = false;
    try {
      while (this.clock.now().getTime() < deadlineMs) {
        if (choice.satisfied?.()) {
          complete = true;
          break;
        }
        const received = await this.receive(SQS_BATCH_SIZE);
        const fresh = received.filter((message) => !passed.has(message.letter.messageId));
        if (fresh.length === 0) {
          complete = true;
          break;
        }
        const chosen = fresh.filter((message) => choice.wants(message.letter));
        for (const message of fresh)
          if (!chosen.includes(message)) passed.set(message.letter.messageId, message);
        if (chosen.length === 0) continue;
        const done = await take(chosen).catch(async (error: unknown) => {
          for (const message of chosen) passed.set(message.letter.messageId, message);
          throw error;
        });
        for (const message of chosen) {
          if (done.includes(message)) taken.push(message.letter);
          else passed.set(message.letter.messageId, message);
        }
      }
    } finally {
      await this.putBack([...passed.values()]);
    }
    return { taken, complete };
  }

  protected async receive(count: number): Promise<Received[]> {
    const { Messages = [] } = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: count,
        VisibilityTimeout: HIDE_SECONDS,
        WaitTimeSeconds: this.receiveWaitSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        MessageAttributeNames: ['All'],
      }),
    );
    return Messages.map((message) => toReceived(message, this.queueUrl));
  }

  protected async delete(messages: readonly Received[]): Promise<void> {
    for (const batch of batches(messages)) {
      const { Failed = [] } = await this.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batchEntries(batch, (message) => ({ ReceiptHandle: message.receiptHandle })),
        }),
      );
      if (Failed.length > 0) {
        throw new Error(
          `SQS did not delete ${Failed.length} message(s) from ${this.queueUrl}: ` +
            Failed.map((failure) => `${failure.Code}: ${failure.Message}`).join('; '),
        );
      }
    }
  }

  /**
   * Makes the messages visible again at once. A failure here is not the caller's: the messages come back by
   * themselves within HIDE_SECONDS, so it is swallowed rather than turned into a failed answer.
   */
  private async putBack(messages: readonly Received[]): Promise<void> {
    for (const batch of batches(messages)) {
      await this.client
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batchEntries(batch, (message) => ({
              ReceiptHandle: message.receiptHandle,
              VisibilityTimeout: 0,
            })),
          }),
        )
        .catch(() => undefined);
    }
  }
}

export interface SqsRedrivableDeadLetterQueueOptions extends SqsDeadLetterQueueOptions {
  /** The queue the dead letters came from, where a redrive sends them. */
  readonly sourceQueueUrl: string;
  /**
   * Where SQS's StartMessageMoveTask is available (in AWS; the local emulator lacks it): a whole-queue redrive
   * then starts a move task instead of receiving and resending. The stack sets it; the local runtime does not.
   */
  readonly moveTask?: { readonly deadLetterQueueArn: string; readonly sourceQueueArn: string };
}

/** The events queue's dead-letter queue: its messages go back to the events queue to be applied again. */
export class SqsRedrivableDeadLetterQueue extends SqsDeadLetterQueue implements RedrivableDeadLetterQueue {
  private readonly sourceQueueUrl: string;
  private readonly moveTask: SqsRedrivableDeadLetterQueueOptions['moveTask'];

  constructor(client: SQSClient, options: SqsRedrivableDeadLetterQueueOptions) {
    super(client, options);
    this.sourceQueueUrl = options.sourceQueueUrl;
    this.moveTask = options.moveTask;
  }

  async redrive(choice: DeadLetterChoice, deadlineMs: number): Promise<DeadLetterScan> {
    return this.scan(choice, deadlineMs, (chosen) => this.resend(chosen));
  }

  async redriveAll(deadlineMs: number): Promise<RedriveAllResult> {
    if (this.moveTask !== undefined) {
      const { TaskHandle } = await this.client.send(
        new StartMessageMoveTaskCommand({
          SourceArn: this.moveTask.deadLetterQueueArn,
          DestinationArn: this.moveTask.sourceQueueArn,
        }),
      );
      if (TaskHandle === undefined) throw new Error('SQS started a message move task but returned no handle');
      return { via: 'move-task', taskHandle: TaskHandle };
    }
    const { taken, complete } = await this.redrive({ wants: () => true }, deadlineMs);
    return { via: 'resend', moved: taken.length, complete };
  }

  async latestMoveTask(): Promise<MoveTask | undefined> {
    if (this.moveTask === undefined) return undefined;
    const { Results = [] } = await this.client.send(
      new ListMessageMoveTasksCommand({ SourceArn: this.moveTask.deadLetterQueueArn, MaxResults: 1 }),
    );
    const [latest] = Results;
    if (latest === undefined) return undefined;
    return withoutUndefined({
      taskHandle: latest.TaskHandle,
      status: latest.Status ?? 'UNKNOWN',
      moved: latest.ApproximateNumberOfMessagesMoved ?? 0,
      toMove: latest.ApproximateNumberOfMessagesToMove,
      startedAt: new Date(latest.StartedTimestamp ?? 0).toISOString(),
      failureReason: latest.FailureReason,
    });
  }

  /** Sends the messages to the source queue and deletes those SQS accepted; answers those. */
  private async resend(messages: readonly Received[]): Promise<readonly Received[]> {
    const sent: Received[] = [];
    for (const batch of sendBatches(messages)) {
      const { Successful = [] } = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.sourceQueueUrl,
          Entries: batchEntries(batch, (message) => ({
            MessageBody: message.letter.body,
            MessageAttributes: {
              ...message.messageAttributes,
              [REPLAY_ATTRIBUTE]: { DataType: 'String', StringValue: REDRIVE_MARK },
            },
          })),
        }),
      );
      const accepted = Successful.flatMap((entry) => {
        const message = batch[Number(entry.Id)];
        return message === undefined ? [] : [message];
      });
      await this.delete(accepted);
      sent.push(...accepted);
    }
    return sent;
  }
}

/** A batch request's entries: each is known by its message's position in the batch, in the answer too. */
function batchEntries<E>(
  batch: readonly Received[],
  entry: (message: Received) => E,
): (E & { Id: string })[] {
  return batch.map((message, index) => ({ Id: String(index), ...entry(message) }));
}

function toReceived(message: Message, queueUrl: string): Received {
  const { MessageId, ReceiptHandle, Body } = message;
  if (MessageId === undefined || ReceiptHandle === undefined) {
    throw new Error(`SQS returned a message without an id or receipt handle from ${queueUrl}`);
  }
  const system = message.Attributes ?? {};
  const messageAttributes = message.MessageAttributes ?? {};
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(messageAttributes)) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  return {
    letter: {
      messageId: MessageId,
      body: Body ?? '',
      attributes,
      receiveCount: Number(system.ApproximateReceiveCount ?? 0),
      sentAt: new Date(Number(system.SentTimestamp ?? 0)).toISOString(),
    },
    receiptHandle: ReceiptHandle,
    messageAttributes,
  };
}

/**
 * Batches of at most SQS_BATCH_SIZE messages and SEND_BATCH_BYTES of bodies and attributes; a large message goes
 * alone.
 */
function* sendBatches(messages: readonly Received[]): Generator<Received[]> {
  let batch: Received[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message);
    if (batch.length > 0 && (batch.length === SQS_BATCH_SIZE || bytes + size > SEND_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

function messageBytes(message: Received): number {
  let bytes = Buffer.byteLength(message.letter.body);
  for (const [name, value] of Object.entries(message.messageAttributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    bytes += Buffer.byteLength(value.StringValue ?? '') + (value.BinaryValue?.byteLength ?? 0);
  }
  return bytes;
}
