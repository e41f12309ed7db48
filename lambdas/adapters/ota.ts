import * as z from 'zod/mini';
import type { AriUpdate } from '../domain/canonical';
import { IsoDateSchema, IsoInstantSchema } from '../domain/dates';
import { hexBodyHmacScheme, parseWithSchema } from './common';
import { AmountSchema, CurrencySchema, ExternalIdSchema, positiveMinorUnits } from './rate-fields';
import type { ProviderAdapter } from './types';

/**
 * An OTA's rate-update webhook: hex HMAC-SHA256 of the raw body in X-OTA-Signature and no timestamp header.
 * The payload carries its own event_timestamp, which the edge bounds instead.
 */

const SIGNATURE_HEADER = 'X-OTA-Signature';
const EVENT_TYPE = 'rate_update';
const EVENT_TYPES = [EVENT_TYPE] as const;

// Unknown fields are stripped rather than refused: OTAs extend their payloads without notice.
const RateEventFieldsSchema = z.object({
  event_id: z.optional(ExternalIdSchema),
  property_id: ExternalIdSchema,
  rate_plan_code: ExternalIdSchema,
  // Every ARI update is stored per room type: an event without one could never apply, so it is refused here.
  room_type_code: ExternalIdSchema,
  base_rate: AmountSchema,
  currency: CurrencySchema,
  effective_date: IsoDateSchema,
  event_timestamp: IsoInstantSchema,
  availability: z.optional(z.int().check(z.minimum(0))),
});
type RateEventFields = z.output<typeof RateEventFieldsSchema>;

const RateEventSchema = z.pipe(
  RateEventFieldsSchema,
  z.transform((event: RateEventFields, ctx) => {
    const amountMinor = positiveMinorUnits(event.base_rate, event.currency);
    if (typeof amountMinor === 'string') {
      ctx.issues.push({ code: 'custom', path: ['base_rate'], message: amountMinor, input: event.base_rate });
      return z.NEVER;
    }
    return rateEvent(event, amountMinor);
  }),
);

interface RateEvent {
  readonly eventId: string | undefined;
  readonly occurredAt: Date;
  readonly data: AriUpdate;
}

function rateEvent(event: RateEventFields, amountMinor: number): RateEvent {
  const data: { -readonly [K in keyof AriUpdate]: AriUpdate[K] } = {
    propertyExternalId: event.property_id,
    roomTypeExternalId: event.room_type_code,
    ratePlanExternalId: event.rate_plan_code,
    dateFrom: event.effective_date,
    dateTo: event.effective_date,
    rate: { amountMinor, currency: event.currency },
  };
  if (event.availability !== undefined) data.availability = event.availability;
  return { eventId: event.event_id, occurredAt: event.event_timestamp, data: data as AriUpdate };
}

export const otaAdapter: ProviderAdapter = {
  kind: 'ota',
  eventTypes: EVENT_TYPES,
  ...hexBodyHmacScheme(SIGNATURE_HEADER),

  normalise(body, request, _verified, context) {
    const event = parseWithSchema(RateEventSchema, body, 'OTA rate event');
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
