import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendInBatches } from './sqs-batches';

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
    const refused = await sendInBatches(
      this.client,
      this.queueUrl,
      bodies,
      (body) => ({ MessageBody: JSON.stringify(body) }),
      (_, position) => `#${position}`,
    );
    if (refused.length > 0) {
      throw new Error(
        `SQS refused ${refused.length} of ${bodies.length} work messages: ${refused.join(', ')}. Sending them ` +
          'all again is safe: a worker acknowledges work it already did.',
      );
    }
  }
}
