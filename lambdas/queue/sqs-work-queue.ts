import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** SendMessageBatch's limit per request. */
const SQS_BATCH_SIZE = 10;

/** A work queue whose messages are JSON bodies a worker reads one at a time. */
export interface WorkQueue<T> {
  /** Sends every body, ten per request; throws once all were tried if SQS refused any. */
  send(bodies: readonly T[]): Promise<void>;
}

/**
 * A work queue in SQS. The bodies are sent ten per SendMessageBatch; an entry SQS refuses fails the call once
 * the others are sent, so that the caller sends them all again: a worker takes a body it already did as a
 * redelivery.
 */
export class SqsWorkQueue<T> implements WorkQueue<T> {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(bodies: readonly T[]): Promise<void> {
    const refused: string[] = [];
    for (let start = 0; start < bodies.length; start += SQS_BATCH_SIZE) {
      const batch = bodies.slice(start, start + SQS_BATCH_SIZE);
      const { Failed = [] } = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((body, index) => ({ Id: String(index), MessageBody: JSON.stringify(body) })),
        }),
      );
      for (const failure of Failed) {
        refused.push(`#${start + Number(failure.Id)} (${failure.Code ?? 'error'}: ${failure.Message ?? ''})`);
      }
    }
    if (refused.length > 0) {
      throw new Error(
        `SQS refused ${refused.length} of ${bodies.length} work messages: ${refused.join(', ')}. Sending them ` +
          'all again is safe: a worker acknowledges work it already did.',
      );
    }
  }
}
