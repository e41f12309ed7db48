import { createHmac, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import { type Breakage, type KindFixture, type Sample, schemaBreak } from '../fixture';

const SECRETS = [
  '17BKFcYZAaVw9u7YXPsZ9QTnC0AnPjUylSGxeQkc1Z0=',
  'uPgwvzMotdJYmMXJqBueI+AbKYcJXIYwPEMMzE+4wiw=',
] as const;

function hmacHex(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

const RATE_UPDATE = {
  event_id: 'evt-cm-0001',
  channel_id: 'CH-BOOKING',
  property_id: 'HOTEL001',
  rate_plan_code: 'BAR',
  room_type_external_id: 'DBL-STD',
  date_range: ['2026-12-01', '2026-12-03'],
  currency: 'EUR',
  base_rate: 129.99,
  inventory_count: 5,
  restrictions: {
    min_length_of_stay: 2,
    max_length_of_stay: 7,
    closed_to_arrival: false,
    closed_to_departure: true,
    stop_sell: false,
  },
};

/** The same update with one field replaced (or removed, when `value` is undefined). */
function withField(field: string, value: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...RATE_UPDATE };
  if (value === undefined) delete copy[field];
  else copy[field] = value;
  return copy;
}

function withRestriction(field: string, value: unknown): Record<string, unknown> {
  return { ...RATE_UPDATE, restrictions: { ...RATE_UPDATE.restrictions, [field]: value } };
}

const samples: readonly Sample[] = [
  {
    name: 'rate update with an event id and every optional field',
    body: RATE_UPDATE,
    expect: {
      disposition: 'apply',
      providerEventType: 'rate_update',
      type: 'ari.update',
      idempotencyKey: 'evt-cm-0001',
      data: {
        channelId: 'CH-BOOKING',
        propertyExternalId: 'HOTEL001',
        roomTypeExternalId: 'DBL-STD',
        ratePlanExternalId: 'BAR',
        dateFrom: '2026-12-01',
        dateTo: '2026-12-03',
        rate: { amountMinor: 12999, currency: 'EUR' },
        availability: 5,
        restrictions: {
          minLengthOfStay: 2,
          maxLengthOfStay: 7,
          closedToArrival: false,
          closedToDeparture: true,
          stopSell: false,
        },
      },
    },
  },
  {
    name: 'single-night update in a zero-decimal currency with the rate as a string and no event id',
    body: {
      channel_id: 'CH-EXPEDIA',
      rate_plan_code: 'NRF',
      room_type_external_id: 'TWN',
      date_range: ['2027-02-28', '2027-02-28'],
      currency: 'JPY',
      base_rate: '15000',
      inventory_count: 0,
      restrictions: { min_length_of_stay: 1, closed_to_arrival: true, closed_to_departure: false },
      provider_trace: 'ignored-extra-field',
    },
    expect: {
      disposition: 'apply',
      providerEventType: 'rate_update',
      type: 'ari.update',
      data: {
        channelId: 'CH-EXPEDIA',
        roomTypeExternalId: 'TWN',
        ratePlanExternalId: 'NRF',
        dateFrom: '2027-02-28',
        dateTo: '2027-02-28',
        rate: { amountMinor: 15000, currency: 'JPY' },
        availability: 0,
        restrictions: { minLengthOfStay: 1, closedToArrival: true, closedToDeparture: false },
      },
    },
  },
  {
    name: 'three-decimal currency',
    body: { ...RATE_UPDATE, event_id: 'evt-cm-0002', currency: 'KWD', base_rate: '45.125' },
    expect: {
      disposition: 'apply',
      providerEventType: 'rate_update',
      type: 'ari.update',
      idempotencyKey: 'evt-cm-0002',
      data: {
        channelId: 'CH-BOOKING',
        propertyExternalId: 'HOTEL001',
        roomTypeExternalId: 'DBL-STD',
        ratePlanExternalId: 'BAR',
        dateFrom: '2026-12-01',
        dateTo: '2026-12-03',
        rate: { amountMinor: 45125, currency: 'KWD' },
        availability: 5,
        restrictions: {
          minLengthOfStay: 2,
          maxLengthOfStay: 7,
          closedToArrival: false,
          closedToDeparture: true,
          stopSell: false,
        },
      },
    },
  },
];

const breakages: readonly Breakage[] = [
  schemaBreak('rate_plan_code missing', withField('rate_plan_code', undefined), ['rate_plan_code']),
  // Every ARI update is stored per room type: without one it could never apply.
  schemaBreak('room_type_external_id missing', withField('room_type_external_id', undefined), [
    'room_type_external_id',
  ]),
  schemaBreak('channel_id empty', withField('channel_id', ''), ['channel_id']),
  schemaBreak('base_rate zero', withField('base_rate', 0), ['base_rate']),
  schemaBreak('base_rate negative', withField('base_rate', -10), ['base_rate']),
  schemaBreak('base_rate with more decimals than the currency has', withField('base_rate', 129.999), [
    'base_rate',
  ]),
  schemaBreak('base_rate in exponent notation', withField('base_rate', 1e-7), ['base_rate']),
  schemaBreak('base_rate not a number', withField('base_rate', true), ['base_rate']),
  schemaBreak('inventory_count negative', withField('inventory_count', -1), ['inventory_count']),
  schemaBreak('inventory_count fractional', withField('inventory_count', 2.5), ['inventory_count']),
  schemaBreak('date_range inverted', withField('date_range', ['2026-12-03', '2026-12-01']), ['date_range']),
  schemaBreak('date_range with an impossible date', withField('date_range', ['2026-02-30', '2026-03-02']), [
    'date_range[0]',
  ]),
  schemaBreak('date_range longer than two years', withField('date_range', ['2026-01-01', '2028-01-02']), [
    'date_range',
  ]),
  schemaBreak('date_range with one date', withField('date_range', ['2026-12-01']), ['date_range']),
  schemaBreak('currency in lower case', withField('currency', 'eur'), ['currency']),
  schemaBreak('min_length_of_stay zero', withRestriction('min_length_of_stay', 0), [
    'restrictions.min_length_of_stay',
  ]),
  schemaBreak('max_length_of_stay below min_length_of_stay', withRestriction('max_length_of_stay', 1), [
    'restrictions.max_length_of_stay',
  ]),
  schemaBreak('closed_to_arrival not a boolean', withRestriction('closed_to_arrival', 'no'), [
    'restrictions.closed_to_arrival',
  ]),
  schemaBreak('restrictions missing', withField('restrictions', undefined), ['restrictions']),
  {
    name: 'timestamp header not unix seconds',
    body: RATE_UPDATE,
    headers: (signed) => ({ ...signed, 'x-channel-timestamp': '2026-12-01T10:00:00Z' }),
    status: 400,
    code: 'bad_header',
  },
  {
    name: 'timestamp header with a fraction of a second',
    body: RATE_UPDATE,
    headers: (signed) => ({ ...signed, 'x-channel-timestamp': `${signed['x-channel-timestamp']}.5` }),
    status: 400,
    code: 'bad_header',
  },
  {
    name: 'signature header not hex',
    body: RATE_UPDATE,
    headers: (signed) => ({ ...signed, 'x-channel-signature': `sha256=${signed['x-channel-signature']}` }),
    status: 401,
    code: 'invalid_signature',
  },
  {
    name: 'signature header truncated',
    body: RATE_UPDATE,
    headers: (signed) => ({
      ...signed,
      'x-channel-signature': (signed['x-channel-signature'] ?? '').slice(0, 63),
    }),
    status: 401,
    code: 'invalid_signature',
  },
];

const requiredHeaders = [
  { name: 'x-channel-signature', status: 401, code: 'missing_signature' },
  { name: 'x-channel-timestamp', status: 401, code: 'missing_timestamp' },
] as const;

export const fixture: KindFixture = {
  kind: 'channel-manager',
  source: {
    id: 'channel-manager-hmac',
    kind: 'channel-manager',
    secrets: SECRETS.map((value) => ({ value })),
  },
  sign(body, { at, secret = SECRETS[0] }) {
    return {
      'content-type': 'application/json',
      'x-channel-signature': hmacHex(secret, body),
      'x-channel-timestamp': String(at),
    };
  },
  requiredHeaders,
  signsTimestamp: true,
  samples,
  breakages,
};

function rsaKeyPair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

// Two registered keys (rotation: either verifies) and one the source has never seen.
const currentKey = rsaKeyPair();
const nextKey = rsaKeyPair();
const unregisteredKey = rsaKeyPair();

/**
 * The RSA-SHA256 variant. The adapter verifies with the public keys only. As for any RSA source run locally,
 * the sender's private keys sit in `secrets` (the adapter never reads them), so that signing with `secrets[1]`
 * exercises key rotation. A `secret` that is not a PEM (a "wrong secret") signs with a key the source does not
 * know.
 */
export const rsaFixture: KindFixture = {
  kind: 'channel-manager',
  source: {
    id: 'channel-manager-rsa',
    kind: 'channel-manager',
    secrets: [{ value: currentKey.privateKey }, { value: nextKey.privateKey }],
    options: { signature: 'rsa-sha256', publicKeys: [currentKey.publicKey, nextKey.publicKey] },
  },
  sign(body, { at, secret }) {
    const privateKey =
      secret === undefined
        ? currentKey.privateKey
        : secret.includes('-----BEGIN')
          ? secret
          : unregisteredKey.privateKey;
    return {
      'content-type': 'application/json',
      'x-channel-signature': rsaSign('sha256', body, privateKey).toString('base64'),
      'x-channel-timestamp': String(at),
    };
  },
  requiredHeaders,
  signsTimestamp: true,
  samples,
  breakages: [
    ...breakages.filter((breakage) => breakage.status === 422 || breakage.code === 'bad_header'),
    {
      name: 'signature by the next registered key over different bytes',
      body: RATE_UPDATE,
      headers: (signed) => ({
        ...signed,
        'x-channel-signature': rsaSign('sha256', Buffer.from('{}'), nextKey.privateKey).toString('base64'),
      }),
      status: 401,
      code: 'invalid_signature',
    },
    {
      name: 'signature as hex HMAC while the source expects RSA',
      body: RATE_UPDATE,
      headers: (signed) => ({ ...signed, 'x-channel-signature': hmacHex(SECRETS[0], Buffer.from('{}')) }),
      status: 401,
      code: 'invalid_signature',
    },
  ],
};

/** Variants beyond `fixture`, run by the contract suite in addition to it. */
export const fixtures: readonly KindFixture[] = [rsaFixture];
