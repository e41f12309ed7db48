import type { CanonicalEvent } from '../domain/canonical';

/** Where the edge puts a verified event for the apply pipeline; SQS in AWS and locally. */
export interface EventQueue {
  /** Queues the event; answers with its message id and the body exactly as queued (the event's JSON). */
  enqueue(event: CanonicalEvent): Promise<{ readonly messageId: string; readonly body: string }>;
}
