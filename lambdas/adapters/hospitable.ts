import * as z from 'zod/mini';
import type { PropertyChange, ReservationChange, ReservationStatus } from '../domain/canonical';
import { IsoInstantSchema, isCalendarDate, isIsoDateTime, parsedTextSchema } from '../domain/dates';
import { hexBodyHmacScheme, parseWithSchema, unknownEventType } from './common';
import { ExternalIdSchema, TextSchema } from './rate-fields';
import type { ProviderAdapter } from './types';

/**
 * The short-term-rental property platform. It signs the raw body alone (hex HMAC-SHA256 in `Signature`)
 * and sends no timestamp header, so the edge bounds the envelope's own `created` instead. Its published
 * sender range is applied by configuration, not here. Messages and reviews carry guest personal data and
 * drive nothing in ParitySync: they are recorded as seen and never enqueued.
 */

const SIGNATURE_HEADER = 'Signature';

const RESERVATION_TYPES = ['reservation.created', 'reservation.updated'] as const;
const PROPERTY_TYPES = ['property.updated', 'property.merged'] as const;
const RECORD_TYPES = ['message.created', 'review.created'] as const;
const EVENT_TYPES = [...RESERVATION_TYPES, ...PROPERTY_TYPES, ...RECORD_TYPES] as const;
type HospitableEventType = (typeof EVENT_TYPES)[number];

/** 26 Crockford base32 characters; the first is at most 7 because a ULID is 128 bits. */
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;

const Id = ExternalIdSchema;
// The platform writes null for a value it does not have; that means "absent", not "invalid".
const OptionalId = z.nullish(Id);

const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/;

/**
 * A stay date, sent either as a date or as the check-in/out time in the property's zone. The date as
 * written is the stay date; converting the time to UTC first could move it to the neighbouring day.
 */
function stayDate(text: string): string | undefined {
  const date = text.slice(0, 10);
  const wellFormed =
    isCalendarDate(date) && (text.length === 10 || isIsoDateTime(text) || LOCAL_DATE_TIME.test(text));
  return wellFormed ? date : undefined;
}

const StayDate = parsedTextSchema(stayDate, 'must be a date YYYY-MM-DD or an ISO-8601 date-time');

const StatusText = z.nullish(z.string().check(z.maxLength(100)));

const ReservationData = z
  .object({
    id: Id,
    property_id: OptionalId,
    properties: z.nullish(z.array(z.object({ id: OptionalId }))),
    arrival_date: z.nullish(StayDate),
    departure_date: z.nullish(StayDate),
    reservation_status: z.nullish(
      z.object({
        current: z.nullish(
          z.union([
            z.string().check(z.maxLength(100)),
            z.object({ category: StatusText, sub_category: StatusText }),
          ]),
        ),
      }),
    ),
    status: StatusText,
    platform: z.nullish(TextSchema(50)),
  })
  .check(
    z.superRefine((data, ctx) => {
      if (data.arrival_date && data.departure_date && data.departure_date < data.arrival_date) {
        ctx.addIssue({
          code: 'custom',
          path: ['departure_date'],
          message: `must not be before arrival_date (${data.arrival_date}); received ${data.departure_date}`,
        });
      }
    }),
  );

const MERGED_FIELDS = ['merged_ids', 'merged_property_ids', 'merged'] as const;
const MergedIds = z.nullish(z.array(z.union([Id, z.object({ id: Id })])));

const PropertyData = z.object({ id: Id });
const MergedPropertyData = z.pipe(
  z.object({ id: Id, merged_ids: MergedIds, merged_property_ids: MergedIds, merged: MergedIds }),
  z.transform((data, ctx) => {
    const merged = new Set<string>();
    for (const field of MERGED_FIELDS) {
      for (const entry of data[field] ?? []) merged.add(typeof entry === 'string' ? entry : entry.id);
    }
    merged.delete(data.id);
    if (merged.size === 0) {
      ctx.issues.push({
        code: 'custom',
        path: ['merged_ids'],
        message:
          'a merge must name at least one property merged into data.id (merged_ids, merged_property_ids or merged)',
        input: data,
      });
      return z.NEVER;
    }
    return { id: data.id, mergedIds: [...merged] };
  }),
);

const AnyData = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]);

function envelope<T extends z.core.$ZodType>(action: HospitableEventType, data: T) {
  return z.object({
    id: z
      .string()
      .check(
        z.regex(ULID, 'must be a ULID: 26 Crockford base32 characters, e.g. 01GTKD6ZYFVQMR0RWP4HBBHNZC'),
      ),
    action: z.literal(action),
    data,
    created: IsoInstantSchema,
    version: z.string().check(z.minLength(1), z.maxLength(20)),
  });
}

const ENVELOPES = {
  'reservation.created': envelope('reservation.created', ReservationData),
  'reservation.updated': envelope('reservation.updated', ReservationData),
  'property.updated': envelope('property.updated', PropertyData),
  'property.merged': envelope('property.merged', MergedPropertyData),
  'message.created': envelope('message.created', AnyData),
  'review.created': envelope('review.created', AnyData),
} satisfies Record<HospitableEventType, z.core.$ZodType>;
const AnyEnvelope = z.object({ action: z.enum(EVENT_TYPES) });

/** What every event's envelope settles: its ULID, in either case, is the idempotency key; `created`, its time. */
function fromEnvelope(event: { id: string; action: HospitableEventType; created: Date }) {
  return {
    providerEventType: event.action,
    idempotencyKey: event.id.toUpperCase(),
    occurredAt: event.created,
  };
}

type ReservationFields = z.output<typeof ReservationData>;

// A request that was declined, withdrawn or expired never holds the dates, like a cancellation.
const RELEASED = /cancel|declin|denied|expired|reject|withdrawn|not[ _-]?accepted/;

function reservationStatus(
  action: (typeof RESERVATION_TYPES)[number],
  data: ReservationFields,
): ReservationStatus {
  const current = data.reservation_status?.current;
  const text = (
    typeof current === 'object' && current !== null
      ? `${current.category ?? ''} ${current.sub_category ?? ''}`
      : (current ?? data.status ?? '')
  ).toLowerCase();
  if (RELEASED.test(text)) return 'cancelled';
  if (text.includes('checked_out')) return 'checked_out';
  if (text.includes('checked_in')) return 'checked_in';
  return action === 'reservation.created' ? 'confirmed' : 'modified';
}

/** Picks references only: guest names, contacts and messages in the payload are never copied. */
function reservationChange(
  action: (typeof RESERVATION_TYPES)[number],
  data: ReservationFields,
): ReservationChange {
  const change: { -readonly [K in keyof ReservationChange]: ReservationChange[K] } = {
    reservationExternalId: data.id,
    status: reservationStatus(action, data),
  };
  const propertyId = data.property_id ?? data.properties?.[0]?.id;
  if (propertyId) change.propertyExternalId = propertyId;
  if (data.arrival_date) change.arrivalDate = data.arrival_date;
  if (data.departure_date) change.departureDate = data.departure_date;
  if (data.platform) change.channel = data.platform;
  return change;
}

export const hospitableAdapter: ProviderAdapter = {
  kind: 'hospitable',
  eventTypes: EVENT_TYPES,
  ...hexBodyHmacScheme(SIGNATURE_HEADER),

  normalise(body) {
    const action =
      typeof body === 'object' && body !== null ? (body as { action?: unknown }).action : undefined;
    if (typeof action !== 'string') {
      parseWithSchema(AnyEnvelope, body, 'Hospitable webhook');
      throw unknownEventType('action', String(action), EVENT_TYPES);
    }
    const what = `${action} webhook`;
    switch (action) {
      case 'reservation.created':
      case 'reservation.updated': {
        const event = parseWithSchema(ENVELOPES[action], body, what);
        const data = reservationChange(action, event.data);
        return {
          disposition: 'apply',
          ...fromEnvelope(event),
          payload: { type: 'reservation.change', data },
        };
      }
      case 'property.updated': {
        const event = parseWithSchema(ENVELOPES[action], body, what);
        const data: PropertyChange = { change: 'updated', propertyExternalId: event.data.id };
        return { disposition: 'apply', ...fromEnvelope(event), payload: { type: 'property.change', data } };
      }
      case 'property.merged': {
        const event = parseWithSchema(ENVELOPES[action], body, what);
        const { id, mergedIds } = event.data;
        const data: PropertyChange = {
          change: 'merged',
          propertyExternalId: id,
          mergedExternalIds: mergedIds,
        };
        return { disposition: 'apply', ...fromEnvelope(event), payload: { type: 'property.change', data } };
      }
      case 'message.created':
      case 'review.created':
        return { disposition: 'record', ...fromEnvelope(parseWithSchema(ENVELOPES[action], body, what)) };
      default:
        throw unknownEventType('action', action, EVENT_TYPES);
    }
  },
};
