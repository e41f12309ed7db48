import { createHash, createHmac } from 'node:crypto';
import { type KindFixture, schemaBreak } from '../fixture';

const SECRETS = [
  'v2/JWqvJswLuPZoGGA+9AYm4q7pCwvj8GxmBgVJAsgg=',
  '1JbGz8H1+CkRKJCdxagZvFMTNFsImkgTdtmhZJFskmQ=',
] as const;

// The OTA signs no timestamp, so the edge bounds the payload's own event_timestamp against its clock: the
// samples are dated a minute before the suite runs rather than at a fixed instant.
const sentAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
const SENT_AT_UTC = sentAt.toISOString();
// The same instant written in a +02:00 zone, as an OTA in Central Europe might send it.
const SENT_AT_PLUS_TWO = `${new Date(sentAt.getTime() + 2 * 3_600_000).toISOString().slice(0, 19)}+02:00`;

const RATE_EVENT = {
  event_id: 'ota-evt-1001',
  property_id: 'HOTEL001',
  rate_plan_code: 'BAR',
  room_type_code: 'DBL-STD',
  base_rate: 189.5,
  currency: 'USD',
  effective_date: '2026-12-24',
  event_timestamp: SENT_AT_UTC,
  availability: 3,
};

function withField(field: string, value: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...RATE_EVENT };
  if (value === undefined) delete copy[field];
  else copy[field] = value;
  return copy;
}

// Serialised here so that the expected idempotency key (the hash of the exact bytes) can be computed.
const MINIMAL_EVENT_BODY = JSON.stringify({
  property_id: 'HOTEL002',
  rate_plan_code: 'NRF',
  room_type_code: 'TWN-STD',
  base_rate: '99.90',
  currency: 'GBP',
  effective_date: '2027-01-15',
  event_timestamp: SENT_AT_PLUS_TWO,
});

export const fixture: KindFixture = {
  kind: 'ota',
  source: { id: 'ota-rates', kind: 'ota', secrets: SECRETS.map((value) => ({ value })) },
  sign(body, { secret = SECRETS[0] }) {
    return {
      'content-type': 'application/json',
      'x-ota-signature': createHmac('sha256', secret).update(body).digest('hex'),
    };
  },
  requiredHeaders: [{ name: 'x-ota-signature', status: 401, code: 'missing_signature' }],
  signsTimestamp: false,
  samples: [
    {
      name: 'rate event with an event id, room type and availability',
      body: RATE_EVENT,
      expect: {
        disposition: 'apply',
        providerEventType: 'rate_update',
        type: 'ari.update',
        idempotencyKey: 'ota-evt-1001',
        occurredAt: SENT_AT_UTC,
        data: {
          propertyExternalId: 'HOTEL001',
          ratePlanExternalId: 'BAR',
          roomTypeExternalId: 'DBL-STD',
          dateFrom: '2026-12-24',
          dateTo: '2026-12-24',
          rate: { amountMinor: 18950, currency: 'USD' },
          availability: 3,
        },
      },
    },
    {
      name: 'minimal rate event without an event id, timestamp with an offset',
      body: MINIMAL_EVENT_BODY,
      expect: {
        disposition: 'apply',
        providerEventType: 'rate_update',
        type: 'ari.update',
        idempotencyKey: createHash('sha256').update(MINIMAL_EVENT_BODY).digest('hex'),
        occurredAt: SENT_AT_UTC,
        data: {
          propertyExternalId: 'HOTEL002',
          ratePlanExternalId: 'NRF',
          roomTypeExternalId: 'TWN-STD',
          dateFrom: '2027-01-15',
          dateTo: '2027-01-15',
          rate: { amountMinor: 9990, currency: 'GBP' },
        },
      },
    },
  ],
  breakages: [
    schemaBreak('property_id missing', withField('property_id', undefined), ['property_id']),
    schemaBreak('rate_plan_code missing', withField('rate_plan_code', undefined), ['rate_plan_code']),
    schemaBreak('base_rate zero', withField('base_rate', 0), ['base_rate']),
    schemaBreak('base_rate negative string', withField('base_rate', '-1.00'), ['base_rate']),
    schemaBreak('base_rate with three decimals in USD', withField('base_rate', '10.005'), ['base_rate']),
    schemaBreak('currency in lower case', withField('currency', 'usd'), ['currency']),
    schemaBreak('effective_date impossible', withField('effective_date', '2026-02-30'), ['effective_date']),
    schemaBreak('event_timestamp without a zone', withField('event_timestamp', '2026-12-01T10:00:00'), [
      'event_timestamp',
    ]),
    schemaBreak('event_timestamp missing', withField('event_timestamp', undefined), ['event_timestamp']),
    schemaBreak('availability negative', withField('availability', -1), ['availability']),
    schemaBreak('room_type_code empty', withField('room_type_code', ''), ['room_type_code']),
    // Every ARI update is stored per room type: without one it could never apply.
    schemaBreak('room_type_code missing', withField('room_type_code', undefined), ['room_type_code']),
    {
      name: 'signature with a scheme prefix',
      body: RATE_EVENT,
      headers: (signed) => ({ ...signed, 'x-ota-signature': `sha256=${signed['x-ota-signature']}` }),
      status: 401,
      code: 'invalid_signature',
    },
    {
      name: 'signature in base64 instead of hex',
      body: RATE_EVENT,
      headers: (signed) => ({
        ...signed,
        'x-ota-signature': Buffer.from(signed['x-ota-signature'] ?? '', 'hex').toString('base64'),
      }),
      status: 401,
      code: 'invalid_signature',
    },
  ],
};
