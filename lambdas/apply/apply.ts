import type { PropertySettings } from '../config/schema';
import type {
  AriUpdate,
  CanonicalEvent,
  GuestChange,
  MappingChange,
  PropertyChange,
  ReservationChange,
} from '../domain/canonical';
import { roomNightChannel } from '../domain/channel';
import { addDays } from '../domain/dates';
import { decideAvailability } from '../domain/inventory';
import type { AvailabilityValue, FieldGroup, NightWrite, RoomNightKey } from '../domain/state';
import { versionOf } from '../domain/state';
import type { ApplyLedger, LedgerStatus, SettleOptions } from '../ledger/ports';
import type { Clock } from '../shared/clock';
import { NotFoundError, UnprocessableError } from '../shared/errors';
import { HELD_REASON, holdKey } from '../state/holds';
import { requeueParked } from '../state/parked';
import type { AriStore, GuestStore, MappingEntity, ReservationStore, ReviewStore } from '../state/ports';
import { type MappingResolver, mappingKey } from '../state/resolver';
import type { BatchHolds } from './holds';

/**
 * The event can never be applied as sent (a constraint conflict, an unsupported shape): recorded as rejected,
 * with its code as the reason.
 */
export class PermanentApplyError extends UnprocessableError {
  get reason(): string {
    return this.code;
  }
}

/** An id did not map: the event waits in the review table until the mapping arrives. */
export class MappingMissingError extends NotFoundError {
  constructor(
    readonly entity: MappingEntity,
    readonly externalId: string,
  ) {
    super('mapping_missing', `no ${entity} mapping for external id ${JSON.stringify(externalId)}`);
  }
}

export type ApplyOutcome =
  | { readonly status: 'applied'; readonly detail: Record<string, unknown> }
  | { readonly status: 'rejected'; readonly reason: string; readonly message: string }
  | { readonly status: 'parked'; readonly reason: string; readonly waitingFor: string }
  | { readonly status: 'skipped'; readonly reason: string };

/** Counters the handler turns into metrics; the domain stays free of any metrics library. */
export type ApplySignal =
  | { readonly kind: 'service_notice'; readonly notice: string; readonly sourceId: string }
  | { readonly kind: 'inventory_capped'; readonly sourceId: string }
  | { readonly kind: 'parked_released'; readonly count: number };

export interface ApplyDependencies {
  readonly ari: AriStore;
  readonly mappings: MappingResolver;
  readonly review: ReviewStore;
  readonly reservations: ReservationStore;
  readonly guests: GuestStore;
  readonly ledger: ApplyLedger;
  /** The holds on sources as the current batch sees them: a held source's events are parked, not applied. */
  readonly holds: BatchHolds;
  /** Puts a parked event back on the queue once its mapping exists. */
  readonly requeue: (event: CanonicalEvent) => Promise<void>;
  readonly properties: ReadonlyMap<string, PropertySettings>;
  readonly clock: Clock;
  /** Room-night writes in flight per event. */
  readonly nightConcurrency: number;
  readonly signal?: (signal: ApplySignal) => void;
}

/**
 * Applies one canonical event exactly once, whatever order and however often SQS delivers it.
 *
 * Idempotency comes from two conditional writes rather than a separate idempotency record: every state item
 * is written only if the event's version is newer than the stored one, so a redelivered event changes nothing;
 * and the ledger moves to applied / rejected / parked under a condition on its current status, so the outcome
 * is recorded once. Errors other than the two classified ones are transient: they propagate, SQS redelivers,
 * and the DLQ takes the event once receives are exhausted.
 *
 * An event a replay job sent again (`replay`, the job's id) runs through apply even when its entry is already
 * applied or rejected: the same conditional writes leave state as it is for a version already stored, and the
 * entry records this attempt's outcome, so an event rejected before a configuration fix is applied now. Once
 * per job: a second delivery of the same replayed message settles nothing and is reported skipped.
 */
export async function applyEvent(
  event: CanonicalEvent,
  deps: ApplyDependencies,
  options: { readonly replay?: string } = {},
): Promise<ApplyOutcome> {
  const status = await deps.ledger.status(event.eventId);
  if (options.replay === undefined && (status === 'applied' || status === 'rejected')) {
    return { status: 'skipped', reason: `already ${status}` };
  }
  const settling: SettleOptions = options.replay === undefined ? {} : { replay: options.replay };
  const at = deps.clock.now().toISOString();
  if ((await deps.holds.of(event.sourceId)) !== undefined) return hold(event, status, at, deps, settling);
  try {
    const detail = await dispatch(event, deps);
    // A released event leaves review before its ledger entry says applied, so that nobody reading `applied`
    // still finds it listed; also when the entry expired while it waited (nothing to settle then). Should the
    // settle below fail, SQS delivers the event again and it applies without a review item, as intended.
    if (status === 'parked' || status === 'held' || status === undefined) {
      await deps.review.remove(event.eventId);
    }
    // A concurrent delivery of the same event may have settled first: its writes and ours were the same
    // conditional writes, so only the count differs, and only one of the two reports `applied`.
    const settled = await deps.ledger.settle(event, 'applied', at, undefined, settling);
    if (!settled && status !== undefined) return { status: 'skipped', reason: 'applied concurrently' };
    return { status: 'applied', detail };
  } catch (error) {
    if (error instanceof PermanentApplyError) {
      await deps.ledger.settle(event, 'rejected', at, `${error.reason}: ${error.message}`, settling);
      return { status: 'rejected', reason: error.reason, message: error.message };
    }
    if (error instanceof MappingMissingError) {
      const waitingFor = mappingKey(error.entity, error.externalId);
      await deps.review.park({ event, reason: error.message, waitingFor, parkedAt: at });
      await deps.ledger.settle(event, 'parked', at, `unmapped: ${error.message}`, settling);
      return { status: 'parked', reason: error.message, waitingFor };
    }
    throw error;
  }
}

/**
 * Parks an event of a held source under its hold key, whatever it is: nothing of it applies until the source is
 * resumed, which puts it back on the queue. A copy of the event that another batch (one that read no hold)
 * applied meanwhile leaves nothing parked behind.
 */
async function hold(
  event: CanonicalEvent,
  status: LedgerStatus | undefined,
  at: string,
  deps: ApplyDependencies,
  settling: SettleOptions,
): Promise<ApplyOutcome> {
  const waitingFor = holdKey(event.sourceId);
  await deps.review.park({ event, reason: HELD_REASON, waitingFor, parkedAt: at });
  const settled = await deps.ledger.settle(event, 'held', at, HELD_REASON, settling);
  if (!settled && status !== undefined) {
    await deps.review.remove(event.eventId);
    return { status: 'skipped', reason: 'settled concurrently' };
  }
  deps.holds.parked(event);
  return { status: 'parked', reason: HELD_REASON, waitingFor };
}

async function dispatch(event: CanonicalEvent, deps: ApplyDependencies): Promise<Record<string, unknown>> {
  switch (event.type) {
    case 'ari.update':
      return applyAri(event, event.data, deps);
    case 'reservation.change':
      return applyReservation(event, event.data, deps);
    case 'guest.change':
      return applyGuest(event, event.data, deps);
    case 'mapping.change':
      return applyMappingChange(event, event.data, deps);
    case 'property.change':
      return applyPropertyChange(event, event.data, deps);
    case 'service.notice':
      deps.signal?.({ kind: 'service_notice', notice: event.data.notice, sourceId: event.sourceId });
      return { notice: event.data.notice };
  }
}

async function resolveOrPark(
  deps: ApplyDependencies,
  sourceId: string,
  entity: MappingEntity,
  externalId: string,
) {
  const target = await deps.mappings.resolve(sourceId, entity, externalId);
  if (!target) throw new MappingMissingError(entity, externalId);
  return target;
}

/** Maps external ids to internal ones; the first id that does not map parks the event. */
async function roomNightKeyBase(event: CanonicalEvent, ari: AriUpdate, deps: ApplyDependencies) {
  const property = ari.propertyExternalId
    ? await resolveOrPark(deps, event.sourceId, 'property', ari.propertyExternalId)
    : undefined;
  if (!ari.roomTypeExternalId) {
    throw new PermanentApplyError(
      'missing_room_type',
      'an ARI update must name a room type to be stored per room night',
    );
  }
  const roomType = await resolveOrPark(deps, event.sourceId, 'roomType', ari.roomTypeExternalId);
  const ratePlan = await resolveOrPark(deps, event.sourceId, 'ratePlan', ari.ratePlanExternalId);
  const propertyId = property?.internalId ?? roomType.propertyId;
  if (!propertyId) {
    // Neither the event nor the room type mapping says which property this is.
    throw new MappingMissingError(
      'property',
      ari.propertyExternalId ?? `(room type ${ari.roomTypeExternalId})`,
    );
  }
  const channel = roomNightChannel(event.sourceId, ari.channelId);
  return { propertyId, roomTypeId: roomType.internalId, ratePlanId: ratePlan.internalId, channel };
}

/** decideAvailability for an event: a refusal rejects the event for good. */
export function constrainAvailability(
  requested: number,
  settings: PropertySettings | undefined,
  roomTypeId: string,
  channel: string,
  sourceId: string,
): AvailabilityValue {
  const decision = decideAvailability(requested, settings, roomTypeId, channel, sourceId);
  if ('refused' in decision) throw new PermanentApplyError('inventory_conflict', decision.refused);
  return decision.allowed;
}

async function applyAri(event: CanonicalEvent, ari: AriUpdate, deps: ApplyDependencies) {
  const base = await roomNightKeyBase(event, ari, deps);
  const availability =
    ari.availability === undefined
      ? undefined
      : constrainAvailability(
          ari.availability,
          deps.properties.get(base.propertyId),
          base.roomTypeId,
          base.channel,
          event.sourceId,
        );
  if (availability?.cappedBy) deps.signal?.({ kind: 'inventory_capped', sourceId: event.sourceId });
  const write: NightWrite = {
    ...(ari.rate ? { rate: ari.rate } : {}),
    ...(availability ? { availability } : {}),
    ...(ari.restrictions ? { restrictions: ari.restrictions } : {}),
  };
  const version = versionOf(event);
  const dates: string[] = [];
  for (let date = ari.dateFrom; date <= ari.dateTo; date = addDays(date, 1)) dates.push(date);

  const written: Record<FieldGroup, number> = { rate: 0, availability: 0, restrictions: 0 };
  let next = 0;
  const worker = async () => {
    while (next < dates.length) {
      const date = dates[next++] as string;
      const key: RoomNightKey = { ...base, date };
      for (const group of await deps.ari.writeNight(key, write, version, event.eventId)) written[group]++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.nightConcurrency, dates.length) }, worker));
  return {
    roomNights: dates.length,
    written,
    ...(availability?.cappedBy ? { availabilityCapped: availability } : {}),
  };
}

async function applyReservation(event: CanonicalEvent, change: ReservationChange, deps: ApplyDependencies) {
  const property = change.propertyExternalId
    ? await deps.mappings.resolve(event.sourceId, 'property', change.propertyExternalId)
    : undefined;
  const id = `${event.sourceId}:${change.reservationExternalId}`;
  const written = await deps.reservations.apply({
    id,
    sourceId: event.sourceId,
    reservationExternalId: change.reservationExternalId,
    ...(property ? { propertyId: property.internalId } : {}),
    ...(change.propertyExternalId ? { propertyExternalId: change.propertyExternalId } : {}),
    status: change.status,
    ...(change.arrivalDate ? { arrivalDate: change.arrivalDate } : {}),
    ...(change.departureDate ? { departureDate: change.departureDate } : {}),
    ...(change.roomTypeExternalId ? { roomTypeExternalId: change.roomTypeExternalId } : {}),
    ...(change.roomNumber ? { roomNumber: change.roomNumber } : {}),
    ...(change.channel ? { channel: change.channel } : {}),
    ...(change.guestExternalId ? { guestExternalId: change.guestExternalId } : {}),
    ...(change.total ? { total: change.total } : {}),
    version: versionOf(event),
    eventId: event.eventId,
  });
  // Linking after storing closes every interleaving with an erasure: an erasure that ran first refuses the link
  // (and the reference just stored is removed); one that runs later finds the link and removes it itself.
  if (change.guestExternalId) {
    const linked = await deps.guests.link(event.sourceId, change.guestExternalId, id, versionOf(event));
    if (!linked) await deps.reservations.forgetGuest([id], change.guestExternalId);
  }
  return { reservationId: id, written };
}

async function applyGuest(event: CanonicalEvent, change: GuestChange, deps: ApplyDependencies) {
  if (change.change === 'deleted') {
    const reservationIds = await deps.guests.erase(event.sourceId, change.guestExternalId, versionOf(event));
    await deps.reservations.forgetGuest(reservationIds, change.guestExternalId);
    return { erased: true, reservationsUnlinked: reservationIds.length };
  }
  const reservationId = change.reservationExternalId
    ? `${event.sourceId}:${change.reservationExternalId}`
    : undefined;
  await deps.guests.link(event.sourceId, change.guestExternalId, reservationId, versionOf(event));
  return { linked: reservationId ?? null };
}

async function addMapping(
  deps: ApplyDependencies,
  scope: string,
  entity: MappingEntity,
  externalId: string,
  internalId: string,
  origin: string,
): Promise<number> {
  await deps.mappings.put(
    { scope, entity, externalId },
    { internalId },
    deps.clock.now().toISOString(),
    origin,
  );
  return releaseParked(deps, mappingKey(entity, externalId));
}

async function releaseParked(deps: Pick<ApplyDependencies, 'review' | 'requeue' | 'signal'>, key: string) {
  const count = await requeueParked(deps.review, deps.requeue, key);
  if (count > 0) deps.signal?.({ kind: 'parked_released', count });
  return count;
}

async function applyMappingChange(event: CanonicalEvent, change: MappingChange, deps: ApplyDependencies) {
  switch (change.change) {
    case 'error_resolved': {
      if (!change.partnerHotelId || !change.referenceHotelId) return { ignored: 'no hotel ids to map' };
      const released = await addMapping(
        deps,
        '*',
        'property',
        change.partnerHotelId,
        change.referenceHotelId,
        `mapping-service ${event.eventId}`,
      );
      return { mapped: change.partnerHotelId, to: change.referenceHotelId, released };
    }
    case 'duplicate_resolved':
      deps.mappings.invalidateProperties();
      return { invalidated: change.referenceHotelId ?? null };
    case 'completed':
      return { recorded: true };
  }
}

async function applyPropertyChange(event: CanonicalEvent, change: PropertyChange, deps: ApplyDependencies) {
  if (change.change === 'updated') return { recorded: true };
  const surviving = await resolveOrPark(deps, event.sourceId, 'property', change.propertyExternalId);
  let released = 0;
  for (const merged of change.mergedExternalIds ?? []) {
    released += await addMapping(
      deps,
      event.sourceId,
      'property',
      merged,
      surviving.internalId,
      `merge ${event.eventId}`,
    );
  }
  return { mergedInto: surviving.internalId, merged: change.mergedExternalIds ?? [], released };
}
