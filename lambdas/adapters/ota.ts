import * as z from 'zod/mini';
import type { AriUpdate } from '../domain/canonical';
import { IsoDateSchema, IsoInstantSchema, isCalendarDate, parseIsoDateTime } from '../domain/dates';
import {
  type FastPath,
  isIntInRange,
  isRecord,
  jitObject,
  parseWithSchema,
  schemaOutput,
  verifyHexBodyHmac,
} from './common';
import {
  AmountSchema,
  CURRENCY_CODE,
  CurrencySchema,
  ExternalIdSchema,
  isExternalId,
  positiveMinorUnits,
} from './rate-fields';
import type { ProviderAdapter } from './types';

/**
 * An OTA's rate-update webhook: hex HMAC-SHA256 of the raw body in X-OTA-Signature and no timestamp header.
 * The payload carries its own event_timestamp, which the edge bounds instead.
 */

const SIGNATURE_HEADER = 'X-OTA-Signature';
const EVENT_TYPE = 'rate_update';
const EVENT_TYPES = [EVENT_TYPE] as const;

// Unknown fields are stripped rather than refused: OTAs extend their payloads without notice.
const RateEventSchema = z.pipe(
  jitObject(
    z.object({
      event_id: z.optional(ExternalIdSchema),
      property_id: ExternalIdSchema,
      rate_plan_code: ExternalIdSchema,
      room_type_code: z.optional(ExternalIdSchema),
      base_rate: AmountSchema,
      currency: CurrencySchema,
      effective_date: IsoDateSchema,
      event_timestamp: IsoInstantSchema,
      availability: z.optional(z.int().check(z.minimum(0))),
    }),
  ),
  z.transform((event, ctx) => {
    const amountMinor = positiveMinorUnits(event.base_rate, event.currency);
    if (typeof amountMinor === 'string') {
      ctx.issues.push({ code: 'custom', path: ['base_rate'], message: amountMinor, input: event.base_rate });
      return z.NEVER;
    }
    return rateEvent(event, amountMinor);
  }),
);

interface RateEventFields {
  readonly event_id?: string | undefined;
  readonly property_id: string;
  readonly rate_plan_code: string;
  readonly room_type_code?: string | undefined;
  readonly currency: string;
  readonly effective_date: string;
  readonly event_timestamp: Date;
  readonly availability?: number | undefined;
}

interface RateEvent {
  readonly eventId: string | undefined;
  readonly occurredAt: Date;
  readonly data: AriUpdate;
}

function rateEvent(event: RateEventFields, amountMinor: number): RateEvent {
  const data: { -readonly [K in keyof AriUpdate]: AriUpdate[K] } = {
    propertyExternalId: event.property_id,
    ratePlanExternalId: event.rate_plan_code,
    dateFrom: event.effective_date,
    dateTo: event.effective_date,
    rate: { amountMinor, currency: event.currency },
  };
  if (event.room_type_code !== undefined) data.roomTypeExternalId = event.room_type_code;
  if (event.availability !== undefined) data.availability = event.availability;
  return { eventId: event.event_id, occurredAt: event.event_timestamp, data: data as AriUpdate };
}

// The fast path (see common.ts): the same rules as RateEventSchema, without zod.

function fastRateEvent(body: unknown): RateEvent | undefined {
  if (!isRecord(body)) return undefined;
  const {
    event_id,
    property_id,
    rate_plan_code,
    room_type_code,
    base_rate,
    currency,
    effective_date,
    event_timestamp,
    availability,
  } = body;
  if (
    (event_id !== undefined && !isExternalId(event_id)) ||
    !isExternalId(property_id) ||
    !isExternalId(rate_plan_code) ||
    (room_type_code !== undefined && !isExternalId(room_type_code)) ||
    (typeof base_rate !== 'number' && typeof base_rate !== 'string') ||
    typeof currency !== 'string' ||
    !CURRENCY_CODE.test(currency) ||
    typeof effective_date !== 'string' ||
    !isCalendarDate(effective_date) ||
    typeof event_timestamp !== 'string' ||
    (availability !== undefined && !isIntInRange(availability, 0, Number.MAX_SAFE_INTEGER))
  ) {
    return undefined;
  }
  const occurredAt = parseIsoDateTime(event_timestamp);
  const amountMinor = positiveMinorUnits(base_rate, currency);
  if (occurredAt === undefined || typeof amountMinor === 'string') return undefined;
  return rateEvent(
    {
      event_id,
      property_id,
      rate_plan_code,
      room_type_code,
      currency,
      effective_date,
      event_timestamp: occurredAt,
      availability,
    },
    amountMinor,
  );
}

/** The fast path beside its schema path, for the tests that hold them to agreement. */
export const FAST_PATHS: readonly FastPath[] = [
  {
    name: 'ota rate_update',
    fast: fastRateEvent,
    schema: (body) => schemaOutput(RateEventSchema, body, (event) => event),
  },
];

export const otaAdapter: ProviderAdapter = {
  kind: 'ota',
  eventTypes: EVENT_TYPES,
  signsTimestamp: false,

  verify(request, context) {
    verifyHexBodyHmac(request, context, SIGNATURE_HEADER);
    return {};
  },

  normalise(body, request, _verified, context) {
    const event = fastRateEvent(body) ?? parseWithSchema(RateEventSchema, body, 'OTA rate event');
    return {
      disposition: 'apply',
      providerEventType: EVENT_TYPE,
      // The body carries its own timestamp, so two distinct changes never share bytes, while a retry does.
      idempotencyKey: event.eventId ?? context.crypto.sha256Hex(request.rawBody),
      occurredAt: event.occurredAt,
      payload: { type: 'ari.update', data: event.data },
    };
  },
};
