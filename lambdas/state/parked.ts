import type { CanonicalEvent } from '../domain/canonical';
import type { ReviewStore } from './ports';

/** Puts an event back on the event queue, where the consumer applies it again. */
export type Requeue = (event: CanonicalEvent) => Promise<void>;

/**
 * Puts every event waiting for this mapping key back on the queue and returns how many went. The ledger still
 * says `parked` for them until the consumer settles them; the review entry goes when the event applies.
 */
export async function requeueParked(review: Pick<ReviewStore, 'waitingFor'>, requeue: Requeue, key: string) {
  const parked = await review.waitingFor(key);
  for (const entry of parked) await requeue(entry.event);
  return parked.length;
}
