import {
  type AriUpdate,
  CANONICAL_SCHEMA_VERSION,
  type CanonicalEvent,
  type CanonicalEventType,
  type GuestChange,
  type IsoDate,
  type MappingChange,
  type PropertyChange,
  type ReservationChange,
  type ServiceNotice,
  type SourceKind,
} from '../../lambdas/domain/canonical';
import { addDays } from '../../lambdas/domain/dates';
import { eventIdFor } from '../../lambdas/ingest/ingest';
import { nodeCrypto } from '../../lambdas/shared/crypto';

/**
 * Canonical events for tests, one builder per canonical type. Every field has a default, and the defaults make an
 * event that passes `checkApplicable` at the edge's limits: times and stay dates follow `receivedAt`, so an
 * event built for another clock stays applicable by passing that clock's time as `receivedAt`. Overrides replace
 * envelope fields, and are merged into `data` field by field. A payload's defaults are the least it must carry,
 * so a test names every value it relies on.
 */

/** When events are received unless a test says otherwise: the time the unit tests' fixed clocks read. */
export const EVENT_RECEIVED_AT = '2026-06-01T12:00:00.000Z';

export type EventOf<T extends CanonicalEventType> = Extract<CanonicalEvent, { readonly type: T }>;
type Envelope = Omit<EventOf<'ari.update'>, 'type' | 'data'>;

/** Envelope fields to replace, and `data` fields to merge over the payload's defaults. */
export type EventOverrides<D> = Partial<Envelope> & { readonly data?: Partial<D> };

/**
 * Idempotency keys in the order events are built, zero-padded so that they also sort in that order: two events
 * of the same `occurredAt` rank as built, and every run builds the same keys (and so the same event ids).
 */
let built = 0;
const nextKey = () => `key-${String(++built).padStart(6, '0')}`;

/** The first of the month after the one `receivedAt` falls in: well inside the stay-date window. */
function nextMonthStart(receivedAt: string): IsoDate {
  const at = new Date(receivedAt);
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
}

function build<T extends CanonicalEventType>(
  type: T,
  kind: SourceKind,
  overrides: Partial<Envelope>,
  data: EventOf<T>['data'],
  providerEventType: string,
): EventOf<T> {
  const receivedAt = overrides.receivedAt ?? EVENT_RECEIVED_AT;
  const sourceKind = overrides.kind ?? kind;
  const sourceId = overrides.sourceId ?? `${sourceKind}-demo`;
  const idempotencyKey = overrides.idempotencyKey ?? nextKey();
  // Field by field, in the order the edge writes them, so that a serialised event reads as a queued one.
  return {
    schemaVersion: CANONICAL_SCHEMA_VERSION,
    eventId: overrides.eventId ?? eventIdFor(nodeCrypto, sourceId, idempotencyKey),
    sourceId,
    kind: sourceKind,
    providerEventType: overrides.providerEventType ?? providerEventType,
    idempotencyKey,
    ...(overrides.deliveryId !== undefined ? { deliveryId: overrides.deliveryId } : {}),
    // The provider's change a moment before its delivery arrives.
    occurredAt: overrides.occurredAt ?? new Date(Date.parse(receivedAt) - 2_000).toISOString(),
    receivedAt,
    type,
    data,
  } as EventOf<T>;
}

const FIELD_GROUPS = ['rate', 'availability', 'restrictions'] as const;

/**
 * A rate update from a channel manager: room type DBL, rate plan BAR, the first three nights of the month after
 * receipt. It carries a rate of 129.50 EUR only when the overrides name none of rate, availability and
 * restrictions: naming one, even as undefined, sends exactly the field groups named.
 */
export function ariUpdate(overrides: EventOverrides<AriUpdate> = {}): EventOf<'ari.update'> {
  const { data: given = {}, ...envelope } = overrides;
  const dateFrom = nextMonthStart(envelope.receivedAt ?? EVENT_RECEIVED_AT);
  const namesAGroup = FIELD_GROUPS.some((group) => group in given);
  const data: AriUpdate = {
    roomTypeExternalId: 'DBL',
    ratePlanExternalId: 'BAR',
    dateFrom,
    dateTo: addDays(dateFrom, 2),
    ...(namesAGroup ? {} : { rate: { amountMinor: 12_950, currency: 'EUR' } }),
    ...given,
  };
  return build('ari.update', 'channel-manager', envelope, data, 'rate_update');
}

const RESERVATION_EVENT_TYPES: Readonly<Record<ReservationChange['status'], string>> = {
  confirmed: 'reservation.created',
  modified: 'reservation.updated',
  cancelled: 'reservation.cancelled',
  checked_in: 'reservation.checked_in',
  checked_out: 'reservation.checked_out',
};

/** A reservation from a PMS: R-1, confirmed, with no dates, guest or money unless the overrides give them. */
export function reservationChange(
  overrides: EventOverrides<ReservationChange> = {},
): EventOf<'reservation.change'> {
  const { data: given = {}, ...envelope } = overrides;
  const data: ReservationChange = { reservationExternalId: 'R-1', status: 'confirmed', ...given };
  return build('reservation.change', 'pms', envelope, data, RESERVATION_EVENT_TYPES[data.status]);
}

/** A guest change from a PMS; an erasure of guest G-1 unless the overrides say otherwise. */
export function guestChange(overrides: EventOverrides<GuestChange> = {}): EventOf<'guest.change'> {
  const { data: given = {}, ...envelope } = overrides;
  const data: GuestChange = { guestExternalId: 'G-1', change: 'deleted', ...given };
  return build('guest.change', 'pms', envelope, data, `guest.${data.change}`);
}

const MAPPING_EVENT_TYPES: Readonly<Record<MappingChange['change'], string>> = {
  error_resolved: 'mapping.error.resolved',
  duplicate_resolved: 'inventory.duplicate.resolved',
  completed: 'mapping.completed',
};

/** A mapping-service change: a completed mapping naming no ids unless the overrides give them. */
export function mappingChange(overrides: EventOverrides<MappingChange> = {}): EventOf<'mapping.change'> {
  const { data: given = {}, ...envelope } = overrides;
  const data: MappingChange = { change: 'completed', ...given };
  return build('mapping.change', 'mapping', envelope, data, MAPPING_EVENT_TYPES[data.change]);
}

/** A property change from a short-let platform: property PROP-1 updated. */
export function propertyChange(overrides: EventOverrides<PropertyChange> = {}): EventOf<'property.change'> {
  const { data: given = {}, ...envelope } = overrides;
  const data: PropertyChange = { change: 'updated', propertyExternalId: 'PROP-1', ...given };
  return build('property.change', 'hospitable', envelope, data, `property.${data.change}`);
}

/** A service notice from a PMS: its token expired. */
export function serviceNotice(overrides: EventOverrides<ServiceNotice> = {}): EventOf<'service.notice'> {
  const { data: given = {}, ...envelope } = overrides;
  const data: ServiceNotice = { notice: 'token_expired', ...given };
  return build('service.notice', 'pms', envelope, data, `service.${data.notice}`);
}
