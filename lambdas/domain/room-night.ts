import type { Restrictions } from './canonical';
import type { Money } from './money';

/*
 * The shape of a room night's state: its key, its field groups and the versions that wrote them. Declarations
 * alone, with nothing that needs Node: whatever reads the read API's answers, the console's page in a browser
 * included, reads these. How versions are made and ordered is state.ts's.
 */

/**
 * Last-writer-wins version of a change: the provider's occurredAt (ISO-8601, fixed width, so it sorts as text)
 * then the idempotency key to break ties deterministically. Every replica of the apply pipeline derives the
 * same version for the same event, so the order in which SQS delivers events cannot change the outcome.
 */
export type Version = string;

/** The three field groups of a room night; each is written, and versioned, independently of the others. */
export const FIELD_GROUPS = ['rate', 'availability', 'restrictions'] as const;
export type FieldGroup = (typeof FIELD_GROUPS)[number];

/** Internal ids: what the mapping table resolves a provider's external ids to. */
export interface RoomNightKey {
  readonly propertyId: string;
  readonly roomTypeId: string;
  readonly ratePlanId: string;
  /** Whose view of the room night this is: the source id, plus the channel a channel manager names. */
  readonly channel: string;
  /** Stay date, YYYY-MM-DD. */
  readonly date: string;
}

export interface AvailabilityValue {
  /** Rooms to sell after inventory constraints. */
  readonly rooms: number;
  /** What the provider asked for, when a constraint capped it. */
  readonly requested?: number;
  /** Why it was capped, e.g. "physical 20 × buffer 0.95 = 19". */
  readonly cappedBy?: string;
}

/** The groups an event writes for one room night; absent groups are left untouched. */
export interface NightWrite {
  readonly rate?: Money;
  readonly availability?: AvailabilityValue;
  readonly restrictions?: Restrictions;
}

export interface VersionedGroup<T> {
  readonly value: T;
  readonly version: Version;
  /** The event that wrote it, for audit and the read API. */
  readonly eventId: string;
}

export interface RoomNightState {
  readonly key: RoomNightKey;
  readonly rate?: VersionedGroup<Money>;
  readonly availability?: VersionedGroup<AvailabilityValue>;
  readonly restrictions?: VersionedGroup<Restrictions>;
}
