import * as z from 'zod/mini';
import { toApplicableText } from '../domain/applicable';
import type {
  CanonicalPayload,
  GuestChange,
  ReservationChange,
  ReservationStatus,
} from '../domain/canonical';
import { daysBetween, IsoDateSchema, IsoInstantSchema } from '../domain/dates';
import { hexBodyHmacScheme, parseWithSchema, unknownEventType } from './common';
import { ExternalIdSchema } from './rate-fields';
import type { ProviderAdapter } from './types';

/**
 * A property-management system's webhooks: an `{event, timestamp, data, metadata}` envelope signed with a
 * hex HMAC-SHA256 of the raw body in X-Webhook-Signature (either hex case), and no timestamp header. The PMS
 * sends no event id and its retries resend identical bytes, so the body's hash is the idempotency key.
 * Guest payloads carry personal data; only the guest's id survives normalisation.
 */

const SIGNATURE_HEADER = 'X-Webhook-Signature';

const EVENT_TYPES = [
  'guest.created',
  'guest.updated',
  'guest.deleted',
  'reservation.created',
  'reservation.updated',
  'reservation.cancelled',
  'reservation.checked_in',
  'reservation.checked_out',
  'service.token_expired',
  'service.access_revoked',
] as const;
type PmsEventType = (typeof EVENT_TYPES)[number];

/** The PMS writes ids as numbers in some payloads and strings in others; canonical ids are strings. */
const ReferenceSchema = z.pipe(
  z.union([ExternalIdSchema, z.int().check(z.minimum(0))], {
    error: 'must be a non-empty string or an integer id',
  }),
  z.transform(String),
);

// Loose objects throughout: the PMS adds fields, and unknown ones (personal data included) are dropped.
const GuestDataSchema = z.object({
  hotelCode: ExternalIdSchema,
  reservationId: ReferenceSchema,
  guest: z.object({ id: ReferenceSchema }),
});

const GuestDeletedDataSchema = z.object({
  hotelCode: ExternalIdSchema,
  reservationId: z.nullish(ReferenceSchema),
  guestId: ReferenceSchema,
});

// Times of check-in and check-out are carried by the event's own timestamp; the fields are not needed.
// Null stands for "not known yet" (no room assigned, say), the same as absent.
const ReservationDataSchema = z
  .object({
    hotelCode: ExternalIdSchema,
    reservationId: ReferenceSchema,
    arrivalDate: z.nullish(IsoDateSchema),
    departureDate: z.nullish(IsoDateSchema),
    roomType: z.nullish(ExternalIdSchema),
    roomNumber: z.nullish(ReferenceSchema),
    channel: z.nullish(ExternalIdSchema),
    guestId: z.nullish(ReferenceSchema),
    // An embedded guest is read for its id only, and need not have one yet.
    guest: z.nullish(z.object({ id: z.nullish(ReferenceSchema) })),
  })
  .check(
    z.superRefine((data, ctx) => {
      if (data.arrivalDate && data.departureDate && daysBetween(data.arrivalDate, data.departureDate) < 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['departureDate'],
          message: `must not be before arrivalDate (${data.arrivalDate}), received ${data.departureDate}`,
        });
      }
    }),
  );

const ServiceDataSchema = z.object({ message: z.optional(z.unknown()), operation: z.optional(z.unknown()) });

function envelope<T extends z.core.$ZodType>(data: T) {
  return z.object({
    event: z.string(),
    timestamp: IsoInstantSchema,
    data,
    metadata: z.nullish(z.looseObject({})),
  });
}

const AnyEnvelope = envelope(z.looseObject({}));
const GuestEnvelope = envelope(GuestDataSchema);
const GuestDeletedEnvelope = envelope(GuestDeletedDataSchema);
const ReservationEnvelope = envelope(ReservationDataSchema);
const ServiceEnvelope = envelope(ServiceDataSchema);

const STATUS_BY_TYPE = {
  'reservation.created': 'confirmed',
  'reservation.updated': 'modified',
  'reservation.cancelled': 'cancelled',
  'reservation.checked_in': 'checked_in',
  'reservation.checked_out': 'checked_out',
} as const satisfies Record<string, ReservationStatus>;

const MAX_DETAIL_LENGTH = 500;

interface Parsed {
  readonly occurredAt: Date;
  readonly payload: CanonicalPayload;
}

function guestChange(body: unknown, type: PmsEventType, change: 'created' | 'updated'): Parsed {
  const event = parseWithSchema(GuestEnvelope, body, `${type} delivery`);
  const data: GuestChange = {
    guestExternalId: event.data.guest.id,
    change,
    propertyExternalId: event.data.hotelCode,
    reservationExternalId: event.data.reservationId,
  };
  return { occurredAt: event.timestamp, payload: { type: 'guest.change', data } };
}

function guestDeleted(body: unknown): Parsed {
  const event = parseWithSchema(GuestDeletedEnvelope, body, 'guest.deleted delivery');
  const data: { -readonly [K in keyof GuestChange]: GuestChange[K] } = {
    guestExternalId: event.data.guestId,
    change: 'deleted',
    propertyExternalId: event.data.hotelCode,
  };
  if (event.data.reservationId != null) data.reservationExternalId = event.data.reservationId;
  return { occurredAt: event.timestamp, payload: { type: 'guest.change', data } };
}

function reservationChange(body: unknown, type: keyof typeof STATUS_BY_TYPE): Parsed {
  const event = parseWithSchema(ReservationEnvelope, body, `${type} delivery`);
  const source = event.data;
  const data: { -readonly [K in keyof ReservationChange]: ReservationChange[K] } = {
    reservationExternalId: source.reservationId,
    propertyExternalId: source.hotelCode,
    status: STATUS_BY_TYPE[type],
  };
  if (source.arrivalDate != null) data.arrivalDate = source.arrivalDate;
  if (source.departureDate != null) data.departureDate = source.departureDate;
  if (source.roomType != null) data.roomTypeExternalId = source.roomType;
  if (source.roomNumber != null) data.roomNumber = source.roomNumber;
  if (source.channel != null) data.channel = source.channel;
  const guestId = source.guestId ?? source.guest?.id;
  if (guestId != null) data.guestExternalId = guestId;
  return { occurredAt: event.timestamp, payload: { type: 'reservation.change', data } };
}

function serviceNotice(
  body: unknown,
  type: PmsEventType,
  notice: 'token_expired' | 'access_revoked',
): Parsed {
  const event = parseWithSchema(ServiceEnvelope, body, `${type} delivery`);
  const { message, operation } = event.data;
  const detail =
    typeof message === 'string' ? message : typeof operation === 'string' ? operation : undefined;
  const payload: CanonicalPayload =
    detail === undefined || detail === ''
      ? { type: 'service.notice', data: { notice } }
      : { type: 'service.notice', data: { notice, detail: toApplicableText(detail, MAX_DETAIL_LENGTH) } };
  return { occurredAt: event.timestamp, payload };
}

function parseByType(type: PmsEventType, body: unknown): Parsed {
  switch (type) {
    case 'guest.created':
      return guestChange(body, type, 'created');
    case 'guest.updated':
      return guestChange(body, type, 'updated');
    case 'guest.deleted':
      return guestDeleted(body);
    case 'service.token_expired':
      return serviceNotice(body, type, 'token_expired');
    case 'service.access_revoked':
      return serviceNotice(body, type, 'access_revoked');
    default:
      return reservationChange(body, type);
  }
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

function isKnownType(type: string): type is PmsEventType {
  return KNOWN_TYPES.has(type);
}

// A delivery whose first key is "event" is either a real event or not JSON at all: neither is a probe. That
// settles the common case from the first bytes, without parsing the body a second time.
const EVENT_FIRST = /^\s*\{\s*"event"\s*:/;
const PROBE_PREFIX_BYTES = 64;

export const pmsAdapter: ProviderAdapter = {
  kind: 'pms',
  eventTypes: EVENT_TYPES,
  ...hexBodyHmacScheme(SIGNATURE_HEADER),

  normalise(body, request, _verified, context) {
    const type = typeof body === 'object' && body !== null ? (body as { event?: unknown }).event : undefined;
    if (typeof type !== 'string') {
      parseWithSchema(AnyEnvelope, body, 'PMS delivery');
      // Unreachable in practice: AnyEnvelope refuses a body without a string `event`.
      throw unknownEventType('event', String(type), EVENT_TYPES);
    }
    if (!isKnownType(type)) throw unknownEventType('event', type, EVENT_TYPES);
    const { occurredAt, payload } = parseByType(type, body);
    return {
      disposition: 'apply',
      providerEventType: type,
      idempotencyKey: context.crypto.sha256Hex(request.rawBody),
      occurredAt,
      payload,
    };
  },

  /**
   * The endpoint-verification request: an empty body, or a JSON object with neither `event` nor `data`. A body
   * with `data` but no `event` is a broken delivery, not a probe: it goes on to be refused with a 422.
   */
  isHandshake(request) {
    const raw = request.rawBody;
    if (EVENT_FIRST.test(raw.toString('latin1', 0, Math.min(raw.length, PROBE_PREFIX_BYTES)))) return false;
    const text = raw.toString('utf8');
    if (text.trim() === '') return true;
    try {
      const value: unknown = JSON.parse(text);
      return (
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        !Object.hasOwn(value, 'event') &&
        !Object.hasOwn(value, 'data')
      );
    } catch {
      return false;
    }
  },
};
