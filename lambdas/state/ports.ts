import type { CanonicalEvent, ReservationStatus } from '../domain/canonical';
import type { Money } from '../domain/money';
import type { Page } from '../domain/page';
import type { FieldGroup, NightWrite, RoomNightKey, RoomNightState, Version } from '../domain/room-night';

/** Rate / availability / restriction state, one item per room night and channel. */
export interface AriStore {
  /**
   * Writes each group of `write` whose stored version is older than `version`, or absent, in one conditional
   * write when nothing newer is stored. Returns the groups written; an already-applied event writes none.
   */
  writeNight(
    key: RoomNightKey,
    write: NightWrite,
    version: Version,
    eventId: string,
  ): Promise<readonly FieldGroup[]>;
  readNights(query: AriQuery): Promise<Page<RoomNightState>>;
  /**
   * The stored state of exactly these room nights (absent ones are left out), one strongly consistent read
   * per night: for callers whose keys are scattered over a property's calendar, such as reconciliation.
   */
  readNightsByKey(keys: readonly RoomNightKey[]): Promise<readonly RoomNightState[]>;
}

export interface AriQuery {
  readonly propertyId: string;
  readonly from: string;
  readonly to: string;
  readonly roomTypeId?: string;
  readonly ratePlanId?: string;
  readonly limit: number;
  readonly cursor?: string;
}

/** In the order a listing of every entity returns them. */
export const MAPPING_ENTITIES = ['property', 'roomType', 'ratePlan'] as const;
export type MappingEntity = (typeof MAPPING_ENTITIES)[number];

/** `scope` is a source id, or `*` for mappings every source shares (e.g. from the mapping service). */
export interface MappingRef {
  readonly scope: string;
  readonly entity: MappingEntity;
  readonly externalId: string;
}

export interface MappingTarget {
  readonly internalId: string;
  /** For a room type mapped without a property id in the event: the property it belongs to. */
  readonly propertyId?: string;
}

export interface StoredMapping {
  readonly ref: MappingRef;
  readonly target: MappingTarget;
}

export interface MappingQuery {
  readonly scope?: string;
  readonly entity?: MappingEntity;
  readonly limit: number;
  /** The previous page's cursor, for the same scope and entity. */
  readonly cursor?: string;
}

export interface MappingStore {
  get(ref: MappingRef): Promise<MappingTarget | undefined>;
  put(ref: MappingRef, target: MappingTarget, at: string, origin: string): Promise<void>;
  /**
   * One page of the stored mappings matching the query, entity by entity in MAPPING_ENTITIES order, then by
   * item key (`<scope>|<entity>|<externalId>`, compared as UTF-8 bytes).
   */
  list(query: MappingQuery): Promise<Page<StoredMapping>>;
}

export interface ParkedEvent {
  readonly event: CanonicalEvent;
  readonly reason: string;
  /**
   * What the event waits for: a mapping key (see mappingKey) whose arrival re-applies it, or its source's hold
   * key (see holdKey), whose resume does.
   */
  readonly waitingFor: string;
  readonly parkedAt: string;
}

export interface ReviewStore {
  park(entry: ParkedEvent): Promise<void>;
  waitingFor(mappingKey: string): Promise<readonly ParkedEvent[]>;
  /**
   * One page of the events waiting for `key`, in version order (occurredAt, then idempotency key: the order
   * last-writer-wins applies them in); `cursor` is the previous page's. Events parked before this ordering
   * existed are found by `waitingFor` only.
   */
  waitingInOrder(key: string, limit: number, cursor?: string): Promise<Page<ParkedEvent>>;
  remove(eventId: string): Promise<void>;
  list(limit: number, cursor?: string): Promise<Page<ParkedEvent>>;
}

export interface ReservationRecord {
  /** `sourceId:reservationExternalId`. */
  readonly id: string;
  readonly sourceId: string;
  readonly reservationExternalId: string;
  readonly propertyId?: string;
  readonly propertyExternalId?: string;
  readonly status: ReservationStatus;
  readonly arrivalDate?: string;
  readonly departureDate?: string;
  readonly roomTypeExternalId?: string;
  readonly roomNumber?: string;
  readonly channel?: string;
  readonly guestExternalId?: string;
  readonly total?: Money;
  readonly version: Version;
  readonly eventId: string;
}

export interface ReservationStore {
  /** Stores the record if its version is newer than the stored one; a cancellation is never undone by an older event. */
  apply(record: ReservationRecord): Promise<boolean>;
  get(id: string): Promise<ReservationRecord | undefined>;
  /** Removes the guest reference from these reservations (guest erasure). */
  forgetGuest(reservationIds: readonly string[], guestExternalId: string): Promise<void>;
}

export interface GuestStore {
  /**
   * Links the guest to a reservation. Refused (false) when the guest was erased by an event at least as new:
   * a late, older event must not bring an erased guest back.
   */
  link(
    sourceId: string,
    guestExternalId: string,
    reservationId: string | undefined,
    version: Version,
  ): Promise<boolean>;
  /**
   * Erases the guest as of `version`, leaving only a tombstone of its id, and returns the reservations it was
   * linked to.
   */
  erase(sourceId: string, guestExternalId: string, version: Version): Promise<readonly string[]>;
}

/** A room night across channels: the unit rate parity compares. */
export interface ParityNightKey {
  readonly propertyId: string;
  readonly roomTypeId: string;
  readonly ratePlanId: string;
  /** Stay date, YYYY-MM-DD. */
  readonly date: string;
}

export interface PriceViolation {
  readonly kind: 'price';
  readonly key: ParityNightKey;
  readonly truthChannel: string;
  readonly channel: string;
  readonly truthRate: Money;
  readonly channelRate: Money;
  /** channel − truth, in minor units: negative when the channel undercuts the source of truth. */
  readonly difference: number;
  /** |difference| as a percentage of the truth rate; absent when the truth rate is zero. */
  readonly percent?: number;
}

/** The rates cannot be compared at all; kept apart from price violations so currency setup errors stand out. */
export interface CurrencyMismatch {
  readonly kind: 'currency_mismatch';
  readonly key: ParityNightKey;
  readonly truthChannel: string;
  readonly channel: string;
  readonly truthRate: Money;
  readonly channelRate: Money;
}

export type ParityFinding = PriceViolation | CurrencyMismatch;

export interface ParityRecord {
  readonly key: ParityNightKey;
  readonly findings: readonly ParityFinding[];
  /** When the night was last checked, ISO-8601. */
  readonly checkedAt: string;
}

export interface ParityQuery {
  readonly propertyId: string;
  readonly from: string;
  readonly to: string;
  readonly limit: number;
  readonly cursor?: string;
}

/** Current parity findings per room night, for the read API (`GET /parity`). */
export interface ParityStore {
  /**
   * Replaces the night's findings. An empty list is stored too (or the night removed), so a violation that was
   * fixed disappears from the read API on the next check instead of lingering.
   */
  putNight(record: ParityRecord): Promise<void>;
  /** Nights of one property from `from` to `to` inclusive, in date order, that have at least one finding. */
  list(query: ParityQuery): Promise<Page<ParityRecord>>;
}

/** A source on hold: its events are verified, recorded and queued, but apply parks them until it is resumed. */
export interface SourceHold {
  readonly sourceId: string;
  /** When the hold began, ISO-8601. */
  readonly heldAt: string;
  /** Who put it on hold: the caller's IAM identity in AWS. */
  readonly by: string;
  readonly reason?: string;
}

/** What apply needs of the holds: one strongly consistent read, so that a hold just set is seen. */
export interface HoldReader {
  hold(sourceId: string): Promise<SourceHold | undefined>;
}

/** The holds on sources, in the Controls table. */
export interface HoldStore extends HoldReader {
  /**
   * Puts the source on hold. A source already held keeps its hold as it was (when, by whom and why it began):
   * the answer is that hold, with `created` false.
   */
  putHold(hold: SourceHold): Promise<{ readonly hold: SourceHold; readonly created: boolean }>;
  /** Ends the hold and answers it, or undefined when the source was not held. */
  deleteHold(sourceId: string): Promise<SourceHold | undefined>;
}
