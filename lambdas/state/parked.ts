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

export interface OrderedRelease {
  /** Events put back on the queue by this call. */
  readonly released: number;
  /** Where the next call continues; absent once every waiting event has been put back. */
  readonly cursor?: string;
}

export interface OrderedReleaseOptions {
  /** Events read, and put back, per page. */
  readonly pageSize: number;
  /** A previous call's cursor. */
  readonly cursor?: string;
  /** Asked before each page after the first: false stops the release at a page boundary. */
  readonly timeLeft: () => boolean;
}

/**
 * Puts the events waiting for `key` back on the queue in version order (the order their changes happened in),
 * one at a time, a page after another until none is left or time is up. A hold may have parked more events than
 * one request can send, so the answer carries a cursor to continue from. Released events stay in the review
 * table until they apply, so the cursor, not their absence, is what moves the release on.
 */
export async function requeueInOrder(
  review: Pick<ReviewStore, 'waitingInOrder'>,
  requeue: Requeue,
  key: string,
  options: OrderedReleaseOptions,
): Promise<OrderedRelease> {
  let released = 0;
  let cursor = options.cursor;
  do {
    const page = await review.waitingInOrder(key, options.pageSize, cursor);
    for (const entry of page.items) {
      await requeue(entry.event);
      released++;
    }
    cursor = page.cursor;
  } while (cursor !== undefined && options.timeLeft());
  return cursor === undefined ? { released } : { released, cursor };
}
