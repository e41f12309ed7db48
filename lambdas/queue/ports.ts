import type { CanonicalEvent } from '../domain/canonical';

/** Where the edge puts a verified event for the apply pipeline; SQS in AWS and locally. */
export interface EventQueue {
  enqueue(event: CanonicalEvent): Promise<{ readonly messageId: string }>;
}
