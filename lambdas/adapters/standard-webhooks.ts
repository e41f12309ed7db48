import { createSecretKey, type KeyObject } from 'node:crypto';
import * as z from 'zod/mini';
import type { AriUpdate, ReservationChange, ReservationStatus } from '../domain/canonical';
import { IsoDateSchema, IsoInstantSchema, isCalendarDate, nightsInclusive } from '../domain/dates';
import { type Money, toMinorUnits } from '../domain/money';
import { withoutUndefined } from '../shared/objects';
import {
  anyHmacMatches,
  checkTokenHeader,
  checkUnixTimestamp,
  decodeBase64,
  forEachEntry,
  invalidSignature,
  parseWithSchema,
  requiredHeader,
  signatureHeader,
  timestampHeader,
} from './common';
import { CURRENCY_CODE, ExternalIdSchema, MAX_RANGE_NIGHTS, TextSchema } from './rate-fields';
import type { ProviderAdapter, VerificationContext } from './types';

/**
 * Any sender that follows the Standard Webhooks specification: `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` headers over the signed content `<id>.<timestamp>.<body>`, with `v1` (HMAC-SHA256,
 * `whsec_` secrets) and `v1a` (Ed25519, `whpk_` public keys) signatures, several at once during rotation.
 * The payload is `{ type, timestamp, data }`. ParitySync acts on its own vocabulary (`ari.updated`,
 * `reservation.*`) and records any other well-formed type, since a generic sender emits types of its own.
 */

const ID_HEADER = 'webhook-id';
const TIMESTAMP_HEADER = 'webhook-timestamp';
const SIGNATURE_HEADER = 'webhook-signature';

const RESERVATION_STATUS = new Map<string, ReservationStatus>([
  ['reservation.created', 'confirmed'],
  ['reservation.updated', 'modified'],
  ['reservation.cancelled', 'cancelled'],
  ['reservation.checked_in', 'checked_in'],
  ['reservation.checked_out', 'checked_out'],
]);

const EVENT_TYPES = ['ari.updated', ...RESERVATION_STATUS.keys()];

/** The message id becomes the idempotency key: printable ASCII without spaces, bounded. */
const MAX_MESSAGE_ID_LENGTH = 256;

// Decoding a secret and importing it as a key cost more than the HMAC it keys, and secrets change only on
// redeploy or rotation (past the bound, the cache starts over).
const secretKeys = new Map<string, KeyObject>();
const MAX_CACHED_SECRET_KEYS = 64;

/** `whsec_<base64>` as the specification writes it, or the bare base64. */
function secretKey(secret: string): KeyObject {
  let key = secretKeys.get(secret);
  if (key === undefined) {
    if (secretKeys.size >= MAX_CACHED_SECRET_KEYS) secretKeys.clear();
    key = createSecretKey(Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64'));
    secretKeys.set(secret, key);
  }
  return key;
}

function publicKeysOf(context: VerificationContext): readonly string[] {
  const keys = context.source.kind === 'standard-webhooks' ? context.source.options.publicKeys : undefined;
  return (keys ?? []).map((key) => (key.startsWith('whpk_') ? key.slice(5) : key));
}

const Ref = ExternalIdSchema;
const Currency = z.string().check(z.regex(CURRENCY_CODE, 'must be an ISO 4217 code such as EUR'));

function money(what: 'positive' | 'non-negative') {
  return z.pipe(
    z.strictObject({ amount: z.union([z.string(), z.number()]), currency: Currency }),
    z.transform((value, ctx): Money => {
      const minor = toMinorUnits(value.amount, value.currency);
      if (typeof minor === 'number' && (minor > 0 || what === 'non-negative')) {
        return { amountMinor: minor, currency: value.currency };
      }
      const message = typeof minor === 'string' ? minor : 'must be greater than zero';
      ctx.issues.push({ code: 'custom', path: ['amount'], message, input: value });
      return z.NEVER;
    }),
  );
}

const LengthOfStay = z.number().check(z.int(), z.minimum(1), z.maximum(3660));

const Restrictions = z
  .strictObject({
    minLengthOfStay: z.optional(LengthOfStay),
    maxLengthOfStay: z.optional(LengthOfStay),
    closedToArrival: z.optional(z.boolean()),
    closedToDeparture: z.optional(z.boolean()),
    stopSell: z.optional(z.boolean()),
  })
  .check(
    z.superRefine((restrictions, ctx) => {
      // A misspelt key already explains an object that looks empty once it is set aside. Checked here rather
      // than with a `when` condition, which zod cannot compile: the whole object would be parsed the slow way.
      if (ctx.issues.length > 0) return;
      if (Object.keys(restrictions).length === 0) {
        ctx.addIssue({ code: 'custom', message: 'must set at least one restriction, or be left out' });
      }
      const { minLengthOfStay: min, maxLengthOfStay: max } = restrictions;
      if (min !== undefined && max !== undefined && min > max) {
        ctx.addIssue({
          code: 'custom',
          path: ['maxLengthOfStay'],
          message: `must not be less than minLengthOfStay (${min}); received ${max}`,
        });
      }
    }),
  );

// Strict objects: in ParitySync's own vocabulary a misspelt field (say `closedToArrivals`) must be refused,
// not silently dropped while the rest of the update is applied.
const AriData = z
  .strictObject({
    channelId: z.optional(Ref),
    propertyId: z.optional(Ref),
    // Every ARI update is stored per room type: an update without one could never apply.
    roomTypeId: Ref,
    ratePlanId: Ref,
    dateFrom: IsoDateSchema,
    dateTo: IsoDateSchema,
    rate: z.optional(money('positive')),
    availability: z.optional(z.number().check(z.int(), z.minimum(0))),
    restrictions: z.optional(Restrictions),
  })
  // Predicates rather than one check function: zod's generated parser inlines predicates. Each runs even after
  // a field failed, so each guards against the values that failure leaves (NaN for a date that is no date).
  .check(
    z.refine(
      (data) => data.rate !== undefined || data.availability !== undefined || data.restrictions !== undefined,
      {
        message: 'must carry at least one of rate, availability or restrictions',
      },
    ),
    z.refine((data) => !(nightsInclusive(data.dateFrom, data.dateTo) < 1), {
      path: ['dateTo'],
      error: (issue) => {
        const data = issue.input as { dateFrom: string; dateTo: string };
        return `must not be before dateFrom (${data.dateFrom}); received ${data.dateTo}`;
      },
    }),
    z.refine((data) => !(nightsInclusive(data.dateFrom, data.dateTo) > MAX_RANGE_NIGHTS), {
      path: ['dateTo'],
      error: (issue) => {
        const data = issue.input as { dateFrom: string; dateTo: string };
        const nights = nightsInclusive(data.dateFrom, data.dateTo);
        return `the range covers ${nights} dates; at most ${MAX_RANGE_NIGHTS} are accepted in one update`;
      },
    }),
  );

const ReservationData = z
  .strictObject({
    reservationId: Ref,
    propertyId: z.optional(Ref),
    arrivalDate: z.optional(IsoDateSchema),
    departureDate: z.optional(IsoDateSchema),
    roomTypeId: z.optional(Ref),
    channel: z.optional(TextSchema(50)),
    total: z.optional(money('non-negative')),
  })
  .check(
    z.superRefine((data, ctx) => {
      const { arrivalDate, departureDate } = data;
      if (arrivalDate === undefined || departureDate === undefined) return;
      if (isCalendarDate(arrivalDate) && isCalendarDate(departureDate) && departureDate <= arrivalDate) {
        ctx.addIssue({
          code: 'custom',
          path: ['departureDate'],
          message: `must be after arrivalDate (${arrivalDate}); received ${departureDate}`,
        });
      }
    }),
  );

const EventType = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be 1-100 characters of letters, digits, "_", ".", ":" and "-"'),
  );

const AriPayload = z.object({ type: z.literal('ari.updated'), timestamp: IsoInstantSchema, data: AriData });
const ReservationPayload = z.object({ type: EventType, timestamp: IsoInstantSchema, data: ReservationData });
const GenericPayload = z.object({
  type: EventType,
  timestamp: IsoInstantSchema,
  data: z.record(z.string(), z.unknown()),
});

/** The decoded `v1` (HMAC) and `v1a` (Ed25519) signatures in a webhook-signature header. */
export function signatureCandidates(header: string): { hmacs: Buffer[]; ed25519: Buffer[] } {
  const hmacs: Buffer[] = [];
  const ed25519: Buffer[] = [];
  // Space-separated `<version>,<base64>` entries. Versions this adapter does not know are skipped, as the
  // specification requires.
  forEachEntry(header, ' ', ',', (version, value) => {
    if (version === 'v1') {
      const bytes = decodeBase64(value, 32);
      if (bytes) hmacs.push(bytes);
    } else if (version === 'v1a') {
      const bytes = decodeBase64(value, 64);
      if (bytes) ed25519.push(bytes);
    }
  });
  return { hmacs, ed25519 };
}

function ariUpdate(data: z.output<typeof AriData>): AriUpdate {
  return withoutUndefined({
    roomTypeExternalId: data.roomTypeId,
    ratePlanExternalId: data.ratePlanId,
    dateFrom: data.dateFrom,
    dateTo: data.dateTo,
    channelId: data.channelId,
    propertyExternalId: data.propertyId,
    rate: data.rate,
    availability: data.availability,
    restrictions: data.restrictions,
  });
}

function reservationChange(
  data: z.output<typeof ReservationData>,
  status: ReservationStatus,
): ReservationChange {
  return withoutUndefined({
    reservationExternalId: data.reservationId,
    status,
    propertyExternalId: data.propertyId,
    arrivalDate: data.arrivalDate,
    departureDate: data.departureDate,
    roomTypeExternalId: data.roomTypeId,
    channel: data.channel,
    total: data.total,
  });
}

export const standardWebhooksAdapter: ProviderAdapter = {
  kind: 'standard-webhooks',
  eventTypes: EVENT_TYPES,
  signsTimestamp: true,

  verify(request, context) {
    const messageId = requiredHeader(request, ID_HEADER);
    const timestamp = timestampHeader(request, TIMESTAMP_HEADER);
    const header = signatureHeader(request, SIGNATURE_HEADER);
    checkTokenHeader(messageId, ID_HEADER, MAX_MESSAGE_ID_LENGTH);
    // Stale or future deliveries are refused before spending a signature check on them.
    const signedAt = checkUnixTimestamp(timestamp, `The ${TIMESTAMP_HEADER} header`, context);

    const { hmacs, ed25519 } = signatureCandidates(header);

    const prefix = `${messageId}.${timestamp}.`;
    if (hmacs.length > 0 && anyHmacMatches(context, hmacs, [prefix, request.rawBody], secretKey)) {
      return { signedAt, messageId };
    }
    if (ed25519.length > 0) {
      const signed = Buffer.concat([Buffer.from(prefix), request.rawBody]);
      for (const key of publicKeysOf(context)) {
        for (const signature of ed25519) {
          if (context.crypto.verifyEd25519(key, signed, signature)) return { signedAt, messageId };
        }
      }
    }
    throw invalidSignature(SIGNATURE_HEADER);
  },

  normalise(body, request, verified) {
    const idempotencyKey = verified.messageId ?? requiredHeader(request, ID_HEADER);
    const type = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined;

    if (type === 'ari.updated') {
      const event = parseWithSchema(AriPayload, body, 'ari.updated payload');
      return {
        disposition: 'apply',
        providerEventType: type,
        idempotencyKey,
        occurredAt: event.timestamp,
        payload: { type: 'ari.update', data: ariUpdate(event.data) },
      };
    }

    const status = typeof type === 'string' ? RESERVATION_STATUS.get(type) : undefined;
    if (status !== undefined && typeof type === 'string') {
      const event = parseWithSchema(ReservationPayload, body, `${type} payload`);
      return {
        disposition: 'apply',
        providerEventType: type,
        idempotencyKey,
        occurredAt: event.timestamp,
        payload: { type: 'reservation.change', data: reservationChange(event.data, status) },
      };
    }

    const event = parseWithSchema(GenericPayload, body, 'Standard Webhooks payload');
    return {
      disposition: 'record',
      providerEventType: event.type,
      idempotencyKey,
      occurredAt: event.timestamp,
    };
  },
};
