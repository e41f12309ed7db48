import type { Money } from './money';

/**
 * The canonical event: the single shape every provider's delivery is normalised to before it is enqueued.
 * Consumers, reconciliation and the ops tooling only ever see this shape, never a provider's envelope.
 * Bump CANONICAL_SCHEMA_VERSION on any breaking change; consumers reject versions they do not know.
 */
export const CANONICAL_SCHEMA_VERSION = 1;

export const SOURCE_KINDS = [
  'channel-manager',
  'ota',
  'pms',
  'mapping',
  'hospitable',
  'standard-webhooks',
] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** ISO calendar date, YYYY-MM-DD, in the property's local calendar (stay dates have no time zone). */
export type IsoDate = string;

export interface Restrictions {
  readonly minLengthOfStay?: number;
  readonly maxLengthOfStay?: number;
  readonly closedToArrival?: boolean;
  readonly closedToDeparture?: boolean;
  readonly stopSell?: boolean;
}

/**
 * A rate / availability / restriction update for a range of stay dates. Every field group is optional so
 * that a partial update (availability only, say) never implies a value for the others.
 */
export interface AriUpdate {
  readonly channelId?: string;
  readonly propertyExternalId?: string;
  readonly roomTypeExternalId?: string;
  readonly ratePlanExternalId: string;
  /** First stay date, inclusive. */
  readonly dateFrom: IsoDate;
  /** Last stay date, inclusive. */
  readonly dateTo: IsoDate;
  readonly rate?: Money;
  /** Rooms available to sell, an integer ≥ 0. */
  readonly availability?: number;
  readonly restrictions?: Restrictions;
}

export const RESERVATION_STATUSES = [
  'confirmed',
  'modified',
  'cancelled',
  'checked_in',
  'checked_out',
] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** A reservation's state as of `occurredAt`. No guest personal data: only references. */
export interface ReservationChange {
  readonly reservationExternalId: string;
  readonly propertyExternalId?: string;
  readonly status: ReservationStatus;
  readonly arrivalDate?: IsoDate;
  readonly departureDate?: IsoDate;
  readonly roomTypeExternalId?: string;
  readonly roomNumber?: string;
  readonly channel?: string;
  readonly guestExternalId?: string;
  readonly total?: Money;
}

/** A guest profile changed or was deleted. Names, contact details and dates of birth are dropped at the edge. */
export interface GuestChange {
  readonly guestExternalId: string;
  readonly change: 'created' | 'updated' | 'deleted';
  readonly propertyExternalId?: string;
  readonly reservationExternalId?: string;
}

export interface MappingChange {
  readonly change: 'error_resolved' | 'duplicate_resolved' | 'completed';
  readonly partnerHotelId?: string;
  readonly partnerInventoryId?: string;
  readonly referenceHotelId?: string;
  readonly reportId?: string;
  readonly resolution?: string;
}

export interface PropertyChange {
  readonly change: 'updated' | 'merged';
  readonly propertyExternalId: string;
  /** For a merge: the ids folded into `propertyExternalId`. */
  readonly mergedExternalIds?: readonly string[];
}

export interface ServiceNotice {
  readonly notice: 'token_expired' | 'access_revoked';
  readonly detail?: string;
}

/** The part of a canonical event that varies with what happened, discriminated by `type`. */
export type CanonicalPayload =
  | { readonly type: 'ari.update'; readonly data: AriUpdate }
  | { readonly type: 'reservation.change'; readonly data: ReservationChange }
  | { readonly type: 'guest.change'; readonly data: GuestChange }
  | { readonly type: 'mapping.change'; readonly data: MappingChange }
  | { readonly type: 'property.change'; readonly data: PropertyChange }
  | { readonly type: 'service.notice'; readonly data: ServiceNotice };

export type CanonicalEventType = CanonicalPayload['type'];

export type CanonicalEvent = {
  readonly schemaVersion: typeof CANONICAL_SCHEMA_VERSION;
  /** ParitySync's id: deterministic from source and idempotency key, so every retry answers the same id. */
  readonly eventId: string;
  readonly sourceId: string;
  readonly kind: SourceKind;
  /** The event name in the provider's vocabulary (`reservation.created`, `rate_update`, …). */
  readonly providerEventType: string;
  /** The provider's key for "the same event" across retries, scoped to the source. */
  readonly idempotencyKey: string;
  /** The provider's delivery attempt id, where it sends one (changes on every retry). */
  readonly deliveryId?: string;
  /** When the change happened at the provider: orders events for last-writer-wins. ISO-8601 UTC. */
  readonly occurredAt: string;
  /** When ParitySync accepted the first delivery of it. ISO-8601 UTC. */
  readonly receivedAt: string;
} & CanonicalPayload;
