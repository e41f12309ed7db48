import * as z from 'zod/mini';
import type { AriUpdate, Restrictions } from '../domain/canonical';
import { IsoDateSchema, nightsInclusive } from '../domain/dates';
import {
  checkUnixTimestamp,
  type FastPath,
  hexBodyHmacMatches,
  invalidSignature,
  isIntInRange,
  isRecord,
  jitObject,
  parseWithSchema,
  schemaOutput,
  signatureHeader,
  timestampHeader,
} from './common';
import {
  AmountSchema,
  CURRENCY_CODE,
  CurrencySchema,
  ExternalIdSchema,
  isExternalId,
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

const RestrictionsSchema = jitObject(
  z.object({
    min_length_of_stay: z.int().check(z.minimum(1)),
    max_length_of_stay: z.optional(z.int().check(z.minimum(1))),
    closed_to_arrival: z.boolean(),
    closed_to_departure: z.boolean(),
    stop_sell: z.optional(z.boolean()),
  }),
);

// Unknown fields are stripped rather than refused: channel managers add fields without notice.
const RateUpdateSchema = z.pipe(
  jitObject(
    z.object({
      event_id: z.optional(ExternalIdSchema),
      channel_id: ExternalIdSchema,
      property_id: z.optional(ExternalIdSchema),
      rate_plan_code: ExternalIdSchema,
      room_type_external_id: ExternalIdSchema,
      date_range: z.tuple([IsoDateSchema, IsoDateSchema]),
      currency: CurrencySchema,
      base_rate: AmountSchema,
      inventory_count: z.int().check(z.minimum(0)),
      restrictions: RestrictionsSchema,
    }),
  ),
  z.transform((update, ctx) => {
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

interface RateUpdateFields {
  readonly event_id?: string | undefined;
  readonly channel_id: string;
  readonly property_id?: string | undefined;
  readonly rate_plan_code: string;
  readonly room_type_external_id: string;
  readonly date_range: readonly [string, string];
  readonly currency: string;
  readonly inventory_count: number;
  readonly restrictions: {
    readonly min_length_of_stay: number;
    readonly max_length_of_stay?: number | undefined;
    readonly closed_to_arrival: boolean;
    readonly closed_to_departure: boolean;
    readonly stop_sell?: boolean | undefined;
  };
}

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

// The fast path (see common.ts): the same rules as RateUpdateSchema, without zod.

const isOptionalBoolean = (value: unknown): value is boolean | undefined =>
  value === undefined || typeof value === 'boolean';

function fastRateUpdate(body: unknown): RateUpdate | undefined {
  if (!isRecord(body)) return undefined;
  const { event_id, property_id, date_range, currency, base_rate, inventory_count, restrictions } = body;
  if (
    !isExternalId(body.channel_id) ||
    !isExternalId(body.rate_plan_code) ||
    !isExternalId(body.room_type_external_id) ||
    (event_id !== undefined && !isExternalId(event_id)) ||
    (property_id !== undefined && !isExternalId(property_id)) ||
    !Array.isArray(date_range) ||
    date_range.length !== 2 ||
    typeof date_range[0] !== 'string' ||
    typeof date_range[1] !== 'string' ||
    typeof currency !== 'string' ||
    !CURRENCY_CODE.test(currency) ||
    (typeof base_rate !== 'number' && typeof base_rate !== 'string') ||
    !isIntInRange(inventory_count, 0, Number.MAX_SAFE_INTEGER) ||
    !isRecord(restrictions)
  ) {
    return undefined;
  }
  const min = restrictions.min_length_of_stay;
  const max = restrictions.max_length_of_stay;
  if (
    !isIntInRange(min, 1, Number.MAX_SAFE_INTEGER) ||
    (max !== undefined && !(isIntInRange(max, 1, Number.MAX_SAFE_INTEGER) && max >= min)) ||
    typeof restrictions.closed_to_arrival !== 'boolean' ||
    typeof restrictions.closed_to_departure !== 'boolean' ||
    !isOptionalBoolean(restrictions.stop_sell)
  ) {
    return undefined;
  }
  // NaN, and refused, unless both are calendar dates.
  const nights = nightsInclusive(date_range[0], date_range[1]);
  if (!(nights >= 1 && nights <= MAX_RANGE_NIGHTS)) return undefined;
  const amountMinor = positiveMinorUnits(base_rate, currency);
  if (typeof amountMinor === 'string') return undefined;
  return rateUpdate(
    {
      event_id,
      channel_id: body.channel_id,
      property_id,
      rate_plan_code: body.rate_plan_code,
      room_type_external_id: body.room_type_external_id,
      date_range: [date_range[0], date_range[1]],
      currency,
      inventory_count,
      restrictions: {
        min_length_of_stay: min,
        max_length_of_stay: max,
        closed_to_arrival: restrictions.closed_to_arrival,
        closed_to_departure: restrictions.closed_to_departure,
        stop_sell: restrictions.stop_sell,
      },
    },
    amountMinor,
  );
}

/** The fast path beside its schema path, for the tests that hold them to agreement. */
export const FAST_PATHS: readonly FastPath[] = [
  {
    name: 'channel-manager rate_update',
    fast: fastRateUpdate,
    schema: (body) => schemaOutput(RateUpdateSchema, body, (update) => update),
  },
];

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
    const update = fastRateUpdate(body) ?? parseWithSchema(RateUpdateSchema, body, 'rate update');
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
