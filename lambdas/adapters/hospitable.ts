import * as z from 'zod/mini';
import type { PropertyChange, ReservationChange, ReservationStatus } from '../domain/canonical';
import { IsoInstantSchema, isCalendarDate, isIsoDateTime, parseIsoDateTime } from '../domain/dates';
import {
  type FastPath,
  isRecord,
  isStringOfLength,
  jitObject,
  parseWithSchema,
  schemaOutput,
  unknownEventType,
  verifyHexBodyHmac,
} from './common';
import { ExternalIdSchema, isExternalId } from './rate-fields';
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

const StayDate = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    const date = stayDate(text);
    if (date === undefined) {
      ctx.issues.push({
        code: 'custom',
        message: 'must be a date YYYY-MM-DD or an ISO-8601 date-time',
        input: text,
      });
      return z.NEVER;
    }
    return date;
  }),
);

const StatusText = z.nullish(z.string().check(z.maxLength(100)));

const ReservationData = jitObject(
  z.object({
    id: Id,
    property_id: OptionalId,
    properties: z.nullish(z.array(jitObject(z.object({ id: OptionalId })))),
    arrival_date: z.nullish(StayDate),
    departure_date: z.nullish(StayDate),
    reservation_status: z.nullish(
      jitObject(
        z.object({
          current: z.nullish(
            z.union([
              z.string().check(z.maxLength(100)),
              jitObject(z.object({ category: StatusText, sub_category: StatusText })),
            ]),
          ),
        }),
      ),
    ),
    status: StatusText,
    platform: z.nullish(z.string().check(z.minLength(1), z.maxLength(50))),
  }),
).check(
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
const MergedIds = z.nullish(z.array(z.union([Id, jitObject(z.object({ id: Id }))])));

const PropertyData = jitObject(z.object({ id: Id }));
const MergedPropertyData = z.pipe(
  jitObject(z.object({ id: Id, merged_ids: MergedIds, merged_property_ids: MergedIds, merged: MergedIds })),
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
  return jitObject(
    z.object({
      id: z
        .string()
        .check(
          z.regex(ULID, 'must be a ULID: 26 Crockford base32 characters, e.g. 01GTKD6ZYFVQMR0RWP4HBBHNZC'),
        ),
      action: z.literal(action),
      data,
      created: IsoInstantSchema,
      version: z.string().check(z.minLength(1), z.maxLength(20)),
    }),
  );
}

const ReservationCreated = envelope('reservation.created', ReservationData);
const ReservationUpdated = envelope('reservation.updated', ReservationData);
const PropertyUpdated = envelope('property.updated', PropertyData);
const PropertyMerged = envelope('property.merged', MergedPropertyData);
const MessageCreated = envelope('message.created', AnyData);
const ReviewCreated = envelope('review.created', AnyData);
const AnyEnvelope = jitObject(z.object({ action: z.enum(EVENT_TYPES) }));

type ReservationFields = z.output<typeof ReservationData>;

// Fast path (see common.ts): the same rules as ReservationCreated and ReservationUpdated, without zod.

const isNullishId = (value: unknown): value is string | null | undefined =>
  value == null || isExternalId(value);
const isStatusText = (value: unknown): value is string | null | undefined =>
  value == null || isStringOfLength(value, 0, 100);

/** StayDate's output; null and absent pass through; `false` when it would refuse the value. */
function fastNullishStayDate(value: unknown): string | null | undefined | false {
  if (value == null) return value;
  return (typeof value === 'string' && stayDate(value)) || false;
}

function fastReservationData(value: unknown): ReservationFields | undefined {
  if (!isRecord(value)) return undefined;
  const { id, property_id, properties, reservation_status, status, platform } = value;
  const arrivalDate = fastNullishStayDate(value.arrival_date);
  const departureDate = fastNullishStayDate(value.departure_date);
  if (
    !isExternalId(id) ||
    !isNullishId(property_id) ||
    arrivalDate === false ||
    departureDate === false ||
    !isStatusText(status) ||
    (platform != null && !isStringOfLength(platform, 1, 50))
  ) {
    return undefined;
  }
  let propertyRefs: { id: string | null | undefined }[] | null | undefined;
  if (properties == null) {
    propertyRefs = properties;
  } else {
    if (!Array.isArray(properties)) return undefined;
    propertyRefs = [];
    for (const property of properties) {
      if (!isRecord(property) || !isNullishId(property.id)) return undefined;
      propertyRefs.push({ id: property.id });
    }
  }
  let reservationStatus: ReservationFields['reservation_status'];
  if (reservation_status == null) {
    reservationStatus = reservation_status;
  } else {
    if (!isRecord(reservation_status)) return undefined;
    const { current } = reservation_status;
    if (current == null || typeof current === 'string') {
      if (typeof current === 'string' && current.length > 100) return undefined;
      reservationStatus = { current };
    } else {
      if (!isRecord(current) || !isStatusText(current.category) || !isStatusText(current.sub_category)) {
        return undefined;
      }
      reservationStatus = { current: { category: current.category, sub_category: current.sub_category } };
    }
  }
  if (arrivalDate && departureDate && departureDate < arrivalDate) return undefined;
  return {
    id,
    property_id,
    properties: propertyRefs,
    arrival_date: arrivalDate,
    departure_date: departureDate,
    reservation_status: reservationStatus,
    status,
    platform,
  };
}

/** The envelope's own fields hold: its key (the ULID) and send time. */
function fastEnvelope(body: Record<string, unknown>): { id: string; created: Date } | undefined {
  const { id, created, version } = body;
  if (typeof id !== 'string' || !ULID.test(id) || !isStringOfLength(version, 1, 20)) return undefined;
  const at = typeof created === 'string' ? parseIsoDateTime(created) : undefined;
  return at === undefined ? undefined : { id, created: at };
}

interface ReservationEvent {
  readonly id: string;
  readonly created: Date;
  readonly data: ReservationFields;
}

function fastReservationEvent(body: Record<string, unknown>): ReservationEvent | undefined {
  const envelope = fastEnvelope(body);
  const data = envelope && fastReservationData(body.data);
  return data && { id: envelope.id, created: envelope.created, data };
}

/** What the adapter reads of an envelope; the action and version are not part of the output. */
const reservationEvent = (event: ReservationEvent): ReservationEvent => ({
  id: event.id,
  created: event.created,
  data: event.data,
});

/** The fast paths beside their schema paths, for the tests that hold them to agreement. */
export const FAST_PATHS: readonly FastPath[] = [
  {
    name: 'hospitable reservation.created',
    // The adapter takes the fast path only for the action the body names.
    fast: (body) =>
      isRecord(body) && body.action === 'reservation.created' ? fastReservationEvent(body) : undefined,
    schema: (body) => schemaOutput(ReservationCreated, body, reservationEvent),
  },
  {
    name: 'hospitable reservation.updated',
    fast: (body) =>
      isRecord(body) && body.action === 'reservation.updated' ? fastReservationEvent(body) : undefined,
    schema: (body) => schemaOutput(ReservationUpdated, body, reservationEvent),
  },
];

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
  signsTimestamp: false,

  verify(request, context) {
    verifyHexBodyHmac(request, context, SIGNATURE_HEADER);
    return {};
  },

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
        const event =
          fastReservationEvent(body as Record<string, unknown>) ??
          parseWithSchema(
            action === 'reservation.created' ? ReservationCreated : ReservationUpdated,
            body,
            what,
          );
        return {
          disposition: 'apply',
          providerEventType: action,
          idempotencyKey: event.id.toUpperCase(),
          occurredAt: event.created,
          payload: { type: 'reservation.change', data: reservationChange(action, event.data) },
        };
      }
      case 'property.updated': {
        const event = parseWithSchema(PropertyUpdated, body, what);
        const data: PropertyChange = { change: 'updated', propertyExternalId: event.data.id };
        return {
          disposition: 'apply',
          providerEventType: action,
          idempotencyKey: event.id.toUpperCase(),
          occurredAt: event.created,
          payload: { type: 'property.change', data },
        };
      }
      case 'property.merged': {
        const event = parseWithSchema(PropertyMerged, body, what);
        const data: PropertyChange = {
          change: 'merged',
          propertyExternalId: event.data.id,
          mergedExternalIds: event.data.mergedIds,
        };
        return {
          disposition: 'apply',
          providerEventType: action,
          idempotencyKey: event.id.toUpperCase(),
          occurredAt: event.created,
          payload: { type: 'property.change', data },
        };
      }
      case 'message.created':
      case 'review.created': {
        const event = parseWithSchema(
          action === 'message.created' ? MessageCreated : ReviewCreated,
          body,
          what,
        );
        return {
          disposition: 'record',
          providerEventType: action,
          idempotencyKey: event.id.toUpperCase(),
          occurredAt: event.created,
        };
      }
      default:
        throw unknownEventType('action', action, EVENT_TYPES);
    }
  },
};
