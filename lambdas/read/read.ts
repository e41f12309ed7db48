import type { LedgerEntry, LedgerReader } from '../ledger/ports';
import type { Clock } from '../shared/clock';
import { NotFoundError } from '../shared/errors';
import { type Requeue, requeueParked } from '../state/parked';
import type {
  AriStore,
  HoldStore,
  MappingRef,
  MappingTarget,
  ParityStore,
  ReservationRecord,
  ReservationStore,
  ReviewStore,
} from '../state/ports';
import { type MappingResolver, mappingKey } from '../state/resolver';
import type { DeadLetterQueues } from './dead-letters';
import type { ConfiguredSource } from './sources';

/** What GET /deliveries/{eventId} shows: the ledger entry, with the failure notes the consumer keeps on it. */
export type DeliveryRecord = LedgerEntry;

export interface ReadApiDependencies {
  readonly ari: Pick<AriStore, 'readNights'>;
  readonly reservations: Pick<ReservationStore, 'get'>;
  readonly deliveries: LedgerReader;
  readonly review: ReviewStore;
  /** Current rate-parity findings per room night, as the reconciliation's parity check left them. */
  readonly parity: Pick<ParityStore, 'list'>;
  readonly mappings: Pick<MappingResolver, 'put'>;
  readonly requeue: Requeue;
  readonly clock: Clock;
  /** The configured source ids: a mapping's scope is one of them, or `*` for every source. */
  readonly sourceIds: ReadonlySet<string>;
  /** Told how many parked events a new mapping sent back to the queue. */
  readonly signal?: (signal: { readonly kind: 'parked_released'; readonly count: number }) => void;
  /** The configured sources, in configuration order, for GET /sources and holds. */
  readonly sources: readonly ConfiguredSource[];
  /** Holds on sources (the Controls table). */
  readonly holds: HoldStore;
  /** The dead-letter queues of the events queue and of the scheduled reconciliation. */
  readonly deadLetters: DeadLetterQueues;
}

export async function getReservation(
  reservationId: string,
  deps: Pick<ReadApiDependencies, 'reservations'>,
): Promise<ReservationRecord> {
  const record = await deps.reservations.get(reservationId);
  if (!record) {
    throw new NotFoundError(
      'reservation_not_found',
      `No reservation ${JSON.stringify(reservationId)}. Reservation ids are <sourceId>:<the provider's reservation id>.`,
    );
  }
  return record;
}

export async function getDelivery(
  eventId: string,
  deps: Pick<ReadApiDependencies, 'deliveries'>,
): Promise<DeliveryRecord> {
  const entry = await deps.deliveries.get(eventId);
  if (!entry) {
    throw new NotFoundError(
      'delivery_not_found',
      `No delivery ledger entry for ${JSON.stringify(eventId)}. Event ids look like evt_… and are answered by the ` +
        'webhook endpoint; entries expire after the dedupe window.',
    );
  }
  return entry;
}

/**
 * Adds (or replaces) a mapping, then puts every event parked for want of it back on the queue.
 * Returns how many events went back.
 */
export async function putMapping(
  ref: MappingRef,
  target: MappingTarget,
  origin: string,
  deps: ReadApiDependencies,
): Promise<number> {
  await deps.mappings.put(ref, target, deps.clock.now().toISOString(), origin);
  const count = await requeueParked(deps.review, deps.requeue, mappingKey(ref.entity, ref.externalId));
  if (count > 0) deps.signal?.({ kind: 'parked_released', count });
  return count;
}
