import * as z from 'zod/mini';
import type { AriUpdate, Restrictions } from '../domain/canonical';
import { IsoDateSchema, nightsInclusive } from '../domain/dates';
import {
  checkUnixTimestamp,
  hexBodyHmacMatches,
  invalidSignature,
  parseWithSchema,
  signatureHeader,
  timestampHeader,
} from './common';
import {
  AmountSchema,
  CurrencySchema,
  ExternalIdSchema,
  MAX_RANGE_NIGHTS,
  positiveMinorUnits,
} from './rate-fields';
import type { ProviderAdapter, VerificationContext } from './types';

/**
 * A channel manager pushing rate, availability and restriction updates for a range of stay dates. It signs
 * the raw body only (hex HMAC-SHA256 with a shared secret, or RSA-SHA256 with its private key) and sends the
 * send time separately in X-Channel-Timestamp, which is bounded against our clock but not covered by the
 * signature.
 */

const SIGNATURE_HEADER = 'X-Channel-Signature';
const TIMESTAMP_HEADER = 'X-Channel-Timestamp';
const EVENT_TYPE = 'rate_update';
const EVENT_TYPES = [EVENT_TYPE] as const;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// RSA signatures are as long as the modulus: 1024- to 8192-bit keys.
const MIN_RSA_SIGNATURE_BYTES = 128;
const MAX_RSA_SIGNATURE_BYTES = 1024;

const RestrictionsSchema = z.object({
  min_length_of_stay: z.int().check(z.minimum(1)),
  max_length_of_stay: z.optional(z.int().check(z.minimum(1))),
  closed_to_arrival: z.boolean(),
  closed_to_departure: z.boolean(),
  stop_sell: z.optional(z.boolean()),
});

// Unknown fields are stripped rather than refused: channel managers add fields without notice.
const RateUpdateFieldsSchema = z.object({
  event_id: z.optional(ExternalIdSchema),
  channel_id: ExternalIdSchema,
  property_id: z.optional(ExternalIdSchema),
  rate_plan_code: ExternalIdSchema,
  // Every ARI update is stored per room type: without one it could never apply.
  room_type_external_id: ExternalIdSchema,
  date_range: z.tuple([IsoDateSchema, IsoDateSchema]),
  currency: CurrencySchema,
  base_rate: AmountSchema,
  inventory_count: z.int().check(z.minimum(0)),
  restrictions: RestrictionsSchema,
});
type RateUpdateFields = z.output<typeof RateUpdateFieldsSchema>;

const RateUpdateSchema = z.pipe(
  RateUpdateFieldsSchema,
  z.transform((update: RateUpdateFields, ctx) => {
    const [dateFrom, dateTo] = update.date_range;
    const nights = nightsInclusive(dateFrom, dateTo);
    if (nights < 1) {
      ctx.issues.push({
        code: 'custom',
        path: ['date_range'],
        message: `the start date ${dateFrom} is after the end date ${dateTo}; send [start, end], both inclusive`,
        input: update.date_range,
      });
    } else if (nights > MAX_RANGE_NIGHTS) {
      ctx.issues.push({
        code: 'custom',
        path: ['date_range'],
        message: `covers ${nights} nights; at most ${MAX_RANGE_NIGHTS} are accepted in one update, split it`,
        input: update.date_range,
      });
    }
    const amountMinor = positiveMinorUnits(update.base_rate, update.currency);
    if (typeof amountMinor === 'string') {
      ctx.issues.push({ code: 'custom', path: ['base_rate'], message: amountMinor, input: update.base_rate });
    }
    const { restrictions } = update;
    const max = restrictions.max_length_of_stay;
    if (max !== undefined && max < restrictions.min_length_of_stay) {
      ctx.issues.push({
        code: 'custom',
        path: ['restrictions', 'max_length_of_stay'],
        message: `must be at least min_length_of_stay (${restrictions.min_length_of_stay}), received ${max}`,
        input: max,
      });
    }
    if (ctx.issues.length > 0 || typeof amountMinor === 'string') return z.NEVER;
    return rateUpdate(update, amountMinor);
  }),
);

interface RateUpdate {
  readonly eventId: string | undefined;
  readonly data: AriUpdate;
}

/** The canonical update from validated fields. */
function rateUpdate(update: RateUpdateFields, amountMinor: number): RateUpdate {
  const { restrictions } = update;
  const canonicalRestrictions: { -readonly [K in keyof Restrictions]: Restrictions[K] } = {
    minLengthOfStay: restrictions.min_length_of_stay,
    closedToArrival: restrictions.closed_to_arrival,
    closedToDeparture: restrictions.closed_to_departure,
  };
  if (restrictions.max_length_of_stay !== undefined) {
    canonicalRestrictions.maxLengthOfStay = restrictions.max_length_of_stay;
  }
  if (restrictions.stop_sell !== undefined) canonicalRestrictions.stopSell = restrictions.stop_sell;

  const data: { -readonly [K in keyof AriUpdate]: AriUpdate[K] } = {
    channelId: update.channel_id,
    roomTypeExternalId: update.room_type_external_id,
    ratePlanExternalId: update.rate_plan_code,
    dateFrom: update.date_range[0],
    dateTo: update.date_range[1],
    rate: { amountMinor, currency: update.currency },
    availability: update.inventory_count,
    restrictions: canonicalRestrictions,
  };
  if (update.property_id !== undefined) data.propertyExternalId = update.property_id;
  return { eventId: update.event_id, data: data as AriUpdate };
}

function rsaSignatureMatches(signature: string, context: VerificationContext, body: Buffer): boolean {
  const options = context.source.kind === 'channel-manager' ? context.source.options : undefined;
  const publicKeys = options?.publicKeys ?? [];
  const text = signature.trim();
  if (!BASE64.test(text)) return false;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < MIN_RSA_SIGNATURE_BYTES || bytes.length > MAX_RSA_SIGNATURE_BYTES) return false;
  let matched = false;
  for (const key of publicKeys) {
    if (context.crypto.verifyRsaSha256(key, body, bytes)) matched = true;
  }
  return matched;
}

function usesRsa(context: VerificationContext): boolean {
  return context.source.kind === 'channel-manager' && context.source.options.signature === 'rsa-sha256';
}

export const channelManagerAdapter: ProviderAdapter = {
  kind: 'channel-manager',
  eventTypes: EVENT_TYPES,
  signsTimestamp: true,

  verify(request, context) {
    const signature = signatureHeader(request, SIGNATURE_HEADER);
    const timestamp = timestampHeader(request, TIMESTAMP_HEADER);
    // Stale or future deliveries are refused before spending a signature check on them.
    const signedAt = checkUnixTimestamp(timestamp, TIMESTAMP_HEADER, context);
    const valid = usesRsa(context)
      ? rsaSignatureMatches(signature, context, request.rawBody)
      : hexBodyHmacMatches(signature, request, context);
    if (!valid) throw invalidSignature(SIGNATURE_HEADER);
    return { signedAt };
  },

  normalise(body, request, verified, context) {
    const update = parseWithSchema(RateUpdateSchema, body, 'rate update');
    const occurredAt = verified.signedAt ?? context.clock.now();
    // Without an event id a retry cannot be told from a deliberate re-send of the same values. Keying on the
    // send time never swallows a re-send as a duplicate of an older change; a retry applied twice is harmless
    // because an update carries absolute values, not deltas.
    const idempotencyKey =
      update.eventId ??
      context.crypto.sha256Hex(String(Math.floor(occurredAt.getTime() / 1000)), '.', request.rawBody);
    return {
      disposition: 'apply',
      providerEventType: EVENT_TYPE,
      idempotencyKey,
      occurredAt,
      payload: { type: 'ari.update', data: update.data },
    };
  },
};
