import { generateKeyPairSync, type KeyObject, sign as signEd25519 } from 'node:crypto';
import { messageIdFor, standardWebhooksSender } from '../../../local/senders/standard-webhooks';
import type { Breakage, KindFixture, Sample } from '../fixture';

// The secret of the specification's published test vector, and a second one for rotation.
const VECTOR_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NEXT_SECRET = `whsec_${Buffer.from('paritysync-contract-next-secret!').toString('base64')}`;

const ariFull = {
  type: 'ari.updated',
  timestamp: '2026-06-01T10:00:00Z',
  data: {
    channelId: 'direct',
    propertyId: 'HOTEL001',
    roomTypeId: 'DBL-STD',
    ratePlanId: 'BAR',
    dateFrom: '2026-07-01',
    dateTo: '2026-07-07',
    rate: { amount: '129.99', currency: 'EUR' },
    availability: 5,
    restrictions: { minLengthOfStay: 2, maxLengthOfStay: 14, closedToArrival: false, stopSell: false },
  },
};

const ariAvailabilityOnly = {
  type: 'ari.updated',
  timestamp: '2026-06-01T10:00:01.500+09:00',
  data: {
    roomTypeId: 'STE-DLX',
    ratePlanId: 'BAR',
    dateFrom: '2028-02-29',
    dateTo: '2028-02-29',
    availability: 0,
  },
};

const ariYen = {
  type: 'ari.updated',
  timestamp: '2026-06-01T10:00:02Z',
  data: {
    roomTypeId: 'TWN-STD',
    ratePlanId: 'NR-JP',
    dateFrom: '2026-07-01',
    dateTo: '2026-07-02',
    rate: { amount: 15000, currency: 'JPY' },
  },
};

const reservationCreated = {
  type: 'reservation.created',
  timestamp: '2026-06-01T11:00:00Z',
  data: {
    reservationId: 'RES-2026-0001',
    propertyId: 'HOTEL001',
    roomTypeId: 'DBL-STD',
    arrivalDate: '2026-07-01',
    departureDate: '2026-07-04',
    channel: 'direct',
    total: { amount: '387.123', currency: 'KWD' },
  },
};

const reservationCancelled = {
  type: 'reservation.cancelled',
  timestamp: '2026-06-02T11:00:00Z',
  data: { reservationId: 'RES-2026-0001' },
};

const reservationCheckedOut = {
  type: 'reservation.checked_out',
  timestamp: '2026-07-04T09:12:00Z',
  data: { reservationId: 'RES-2026-0001', propertyId: 'HOTEL001' },
};

const invoicePaid = {
  type: 'invoice.paid',
  timestamp: '2026-06-01T12:00:00Z',
  data: { invoiceId: 'inv_0042', amount: 42.5 },
};

const serialised = (body: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify(body), 'utf8');

const SAMPLES: readonly Sample[] = [
  {
    name: 'ari.updated with rate, availability and restrictions',
    body: ariFull,
    expect: {
      disposition: 'apply',
      providerEventType: 'ari.updated',
      type: 'ari.update',
      data: {
        channelId: 'direct',
        propertyExternalId: 'HOTEL001',
        roomTypeExternalId: 'DBL-STD',
        ratePlanExternalId: 'BAR',
        dateFrom: '2026-07-01',
        dateTo: '2026-07-07',
        rate: { amountMinor: 12999, currency: 'EUR' },
        availability: 5,
        restrictions: { minLengthOfStay: 2, maxLengthOfStay: 14, closedToArrival: false, stopSell: false },
      },
      // The key is the webhook-id header, which this fixture derives from the body bytes.
      idempotencyKey: messageIdFor(serialised(ariFull)),
      occurredAt: '2026-06-01T10:00:00.000Z',
    },
  },
  {
    name: 'ari.updated closing out a single leap day',
    body: ariAvailabilityOnly,
    expect: {
      disposition: 'apply',
      providerEventType: 'ari.updated',
      type: 'ari.update',
      data: {
        roomTypeExternalId: 'STE-DLX',
        ratePlanExternalId: 'BAR',
        dateFrom: '2028-02-29',
        dateTo: '2028-02-29',
        availability: 0,
      },
      occurredAt: '2026-06-01T01:00:01.500Z',
    },
  },
  {
    name: 'ari.updated with a JSON-number rate in a zero-decimal currency',
    body: ariYen,
    expect: {
      disposition: 'apply',
      providerEventType: 'ari.updated',
      type: 'ari.update',
      data: {
        roomTypeExternalId: 'TWN-STD',
        ratePlanExternalId: 'NR-JP',
        dateFrom: '2026-07-01',
        dateTo: '2026-07-02',
        rate: { amountMinor: 15000, currency: 'JPY' },
      },
    },
  },
  {
    name: 'reservation.created with a three-decimal total',
    body: reservationCreated,
    expect: {
      disposition: 'apply',
      providerEventType: 'reservation.created',
      type: 'reservation.change',
      data: {
        reservationExternalId: 'RES-2026-0001',
        propertyExternalId: 'HOTEL001',
        roomTypeExternalId: 'DBL-STD',
        status: 'confirmed',
        arrivalDate: '2026-07-01',
        departureDate: '2026-07-04',
        channel: 'direct',
        total: { amountMinor: 387123, currency: 'KWD' },
      },
    },
  },
  {
    name: 'reservation.cancelled',
    body: reservationCancelled,
    expect: {
      disposition: 'apply',
      providerEventType: 'reservation.cancelled',
      type: 'reservation.change',
      data: { reservationExternalId: 'RES-2026-0001', status: 'cancelled' },
    },
  },
  {
    name: 'reservation.checked_out',
    body: reservationCheckedOut,
    expect: {
      disposition: 'apply',
      providerEventType: 'reservation.checked_out',
      type: 'reservation.change',
      data: { reservationExternalId: 'RES-2026-0001', propertyExternalId: 'HOTEL001', status: 'checked_out' },
    },
  },
  {
    name: 'a type ParitySync does not act on (recorded only)',
    body: invoicePaid,
    expect: {
      disposition: 'record',
      providerEventType: 'invoice.paid',
      idempotencyKey: messageIdFor(serialised(invoicePaid)),
    },
  },
];

const withData = (data: Record<string, unknown>) => ({ ...ariFull, data: { ...ariFull.data, ...data } });

/** Schema breakages, which do not depend on how the delivery is signed. */
const SCHEMA_BREAKAGES: readonly Breakage[] = [
  {
    name: 'ari.updated with none of rate, availability or restrictions',
    body: {
      ...ariFull,
      data: { roomTypeId: 'DBL-STD', ratePlanId: 'BAR', dateFrom: '2026-07-01', dateTo: '2026-07-07' },
    },
    status: 422,
    code: 'schema_violation',
    fields: ['data'],
  },
  {
    // Every ARI update is stored per room type: without one it could never apply.
    name: 'ari.updated without a room type',
    body: { ...ariFull, data: { ...ariFull.data, roomTypeId: undefined } },
    status: 422,
    code: 'schema_violation',
    fields: ['data.roomTypeId'],
  },
  {
    name: 'a EUR amount with three decimals',
    body: withData({ rate: { amount: '129.999', currency: 'EUR' } }),
    status: 422,
    code: 'schema_violation',
    fields: ['data.rate.amount'],
  },
  {
    name: 'a zero rate',
    body: withData({ rate: { amount: '0.00', currency: 'EUR' } }),
    status: 422,
    code: 'schema_violation',
    fields: ['data.rate.amount'],
  },
  {
    name: 'a currency that is not an ISO 4217 code',
    body: withData({ rate: { amount: '129.99', currency: 'euro' } }),
    status: 422,
    code: 'schema_violation',
    fields: ['data.rate.currency'],
  },
  {
    name: 'a dateTo before dateFrom',
    body: withData({ dateFrom: '2026-07-07', dateTo: '2026-07-01' }),
    status: 422,
    code: 'schema_violation',
    fields: ['data.dateTo'],
  },
  {
    name: 'a range of 732 dates',
    body: withData({ dateFrom: '2026-01-01', dateTo: '2028-01-02' }),
    status: 422,
    code: 'schema_violation',
    fields: ['data.dateTo'],
  },
  {
    name: 'a date that does not exist',
    body: withData({ dateFrom: '2026-02-29' }),
    status: 422,
    code: 'schema_violation',
    fields: ['data.dateFrom'],
  },
  {
    name: 'a negative availability',
    body: withData({ availability: -1 }),
    status: 422,
    code: 'schema_violation',
    fields: ['data.availability'],
  },
  {
    name: 'a misspelt restriction',
    body: withData({ restrictions: { closedToArrivals: true } }),
    status: 422,
    code: 'schema_violation',
    fields: ['data.restrictions'],
  },
  {
    name: 'a reservation without reservationId',
    body: { ...reservationCancelled, data: { propertyId: 'HOTEL001' } },
    status: 422,
    code: 'schema_violation',
    fields: ['data.reservationId'],
  },
  {
    name: 'a reservation departing on its arrival date',
    body: { ...reservationCreated, data: { ...reservationCreated.data, departureDate: '2026-07-01' } },
    status: 422,
    code: 'schema_violation',
    fields: ['data.departureDate'],
  },
  {
    name: 'a type with spaces',
    body: { ...invoicePaid, type: 'invoice paid' },
    status: 422,
    code: 'schema_violation',
    fields: ['type'],
  },
  {
    name: 'a payload timestamp without a zone',
    body: { ...invoicePaid, timestamp: '2026-06-01T12:00:00' },
    status: 422,
    code: 'schema_violation',
    fields: ['timestamp'],
  },
  {
    name: "the published test vector's body, which has no type",
    body: '{"test": 2432232314}',
    status: 422,
    code: 'schema_violation',
    fields: ['type', 'timestamp', 'data'],
  },
];

export const fixture: KindFixture = {
  kind: 'standard-webhooks',
  source: {
    id: 'standard-webhooks',
    kind: 'standard-webhooks',
    secrets: [{ value: VECTOR_SECRET }, { value: NEXT_SECRET }],
  },
  sign: (body, { at, secret }) =>
    standardWebhooksSender.sign(body, { secret: secret ?? VECTOR_SECRET, at: new Date(at * 1000) }),
  requiredHeaders: [
    { name: 'webhook-id', status: 400, code: 'missing_header' },
    { name: 'webhook-timestamp', status: 401, code: 'missing_timestamp' },
    { name: 'webhook-signature', status: 401, code: 'missing_signature' },
  ],
  signsTimestamp: true,
  samples: SAMPLES,
  breakages: [
    ...SCHEMA_BREAKAGES,
    {
      name: 'the published test vector, replayed years after its timestamp',
      body: '{"test": 2432232314}',
      headers: () => ({
        'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        'webhook-timestamp': '1614265330',
        'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      }),
      status: 401,
      code: 'timestamp_out_of_tolerance',
    },
    {
      name: 'a webhook-timestamp in milliseconds with a fraction',
      body: ariFull,
      headers: (signed) => ({ 'webhook-timestamp': `${signed['webhook-timestamp'] ?? ''}.5` }),
      status: 400,
      code: 'bad_header',
    },
    {
      name: 'a webhook-id with spaces',
      body: ariFull,
      headers: () => ({ 'webhook-id': 'msg 42' }),
      status: 400,
      code: 'bad_header',
    },
    {
      name: 'a signature under a version this receiver does not know',
      body: ariFull,
      headers: (signed) => ({
        'webhook-signature': (signed['webhook-signature'] ?? '').replace(/^v1,/, 'v2,'),
      }),
      status: 401,
      code: 'invalid_signature',
    },
    {
      name: 'a signature for another message id',
      body: ariFull,
      headers: () => ({ 'webhook-id': 'msg_someone_else' }),
      status: 401,
      code: 'invalid_signature',
    },
  ],
};

// A sender that signs with Ed25519 (`v1a`) only. Each configured secret (a `whsec_` secret, as this kind's
// secrets must be) stands for one of its signing keys, so the suite's rotation and wrong-secret checks
// exercise the key list; any other secret signs with a key this source does not know.
function ed25519Pair(): { privateKey: KeyObject; raw: Buffer; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { privateKey, raw, pem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

const currentKey = ed25519Pair();
const nextKey = ed25519Pair();
const unknownKey = ed25519Pair();
const ED_CURRENT = 'whsec_URtg5rIrY22ALIcLcC8hrSMvPrERa16G';
const ED_NEXT = 'whsec_RTl/eesZ93p7jXgXeiNcUA4Q70LXNZ4x';

function signV1a(body: Buffer, at: number, secret: string | undefined): Record<string, string> {
  const key =
    secret === undefined || secret === ED_CURRENT ? currentKey : secret === ED_NEXT ? nextKey : unknownKey;
  const messageId = messageIdFor(body);
  const signed = Buffer.concat([Buffer.from(`${messageId}.${at}.`), body]);
  return {
    'content-type': 'application/json',
    'webhook-id': messageId,
    'webhook-timestamp': String(at),
    'webhook-signature': `v1a,${signEd25519(null, signed, key.privateKey).toString('base64')}`,
  };
}

const ed25519Fixture: KindFixture = {
  kind: 'standard-webhooks',
  source: {
    id: 'standard-webhooks-ed25519',
    kind: 'standard-webhooks',
    secrets: [{ value: ED_CURRENT }, { value: ED_NEXT }],
    options: { publicKeys: [`whpk_${currentKey.raw.toString('base64')}`, nextKey.pem] },
  },
  sign: (body, { at, secret }) => signV1a(body, at, secret),
  requiredHeaders: fixture.requiredHeaders,
  signsTimestamp: true,
  samples: SAMPLES.filter((sample) => sample.body === ariFull || sample.body === invoicePaid),
  breakages: [
    {
      name: 'a v1a signature by a key the source does not list',
      body: ariFull,
      headers: (signed) => {
        const at = Number(signed['webhook-timestamp']);
        return {
          'webhook-signature': signV1a(serialised(ariFull), at, 'unlisted')['webhook-signature'] ?? '',
        };
      },
      status: 401,
      code: 'invalid_signature',
    },
  ],
};

/** Fixtures beyond `fixture`: the Ed25519 (`v1a`) variant of the scheme. */
export const fixtures: readonly KindFixture[] = [ed25519Fixture];
