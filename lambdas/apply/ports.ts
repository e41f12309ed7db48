import type { CanonicalEvent, ReservationStatus } from '../domain/canonical';
import type { Money } from '../domain/money';
import type { FieldGroup, NightWrite, RoomNightKey, RoomNightState, Version } from './model';

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

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque; absent on the last page. */
  readonly cursor?: string;
}

export type MappingEntity = 'property' | 'roomType' | 'ratePlan';

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

export interface MappingStore {
  get(ref: MappingRef): Promise<MappingTarget | undefined>;
  put(ref: MappingRef, target: MappingTarget, at: string, origin: string): Promise<void>;
}

export interface ParkedEvent {
  readonly event: CanonicalEvent;
  readonly reason: string;
  /** The mapping key (see mappingKey) whose arrival re-applies the event. */
  readonly waitingFor: string;
  readonly parkedAt: string;
}

export interface ReviewStore {
  park(entry: ParkedEvent): Promise<void>;
  waitingFor(mappingKey: string): Promise<readonly ParkedEvent[]>;
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

/** The ledger's side of applying: records the outcome exactly once per event. */
export interface ApplyLedger {
  status(eventId: string): Promise<string | undefined>;
  /** True when this call recorded the outcome; false when the entry was already settled (or has expired). */
  settle(
    eventId: string,
    status: 'applied' | 'rejected' | 'parked',
    at: string,
    reason?: string,
  ): Promise<boolean>;
}
