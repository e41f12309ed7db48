import { generateKeyPairSync, type KeyObject, sign as signEd25519 } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { standardWebhooksAdapter } from '../../lambdas/adapters/standard-webhooks';
import type { DeliveryRequest, VerificationContext } from '../../lambdas/adapters/types';
import { SourceConfigSchema } from '../../lambdas/config/schema';
import { fixedClock } from '../../lambdas/shared/clock';
import { nodeCrypto } from '../../lambdas/shared/crypto';
import { type ParitySyncError, SchemaViolationError } from '../../lambdas/shared/errors';
import { standardWebhooksSender } from '../../local/senders/standard-webhooks';

// The specification's published test vector.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const NOW = 1_780_000_000;
const SECRET = VECTOR.secret;
const NEXT_SECRET = `whsec_${Buffer.from('a-second-signing-secret-32-bytes').toString('base64')}`;

function contextWith(
  options: { secrets?: readonly string[]; publicKeys?: string[]; now?: number } = {},
): VerificationContext {
  const source = SourceConfigSchema.parse({
    id: 'standard-webhooks',
    kind: 'standard-webhooks',
    secrets: [{ value: SECRET }],
    ...(options.publicKeys ? { options: { publicKeys: options.publicKeys } } : {}),
  });
  return {
    source,
    secrets: options.secrets ?? [SECRET],
    toleranceSeconds: 300,
    clock: fixedClock((options.now ?? NOW) * 1000),
    crypto: nodeCrypto,
  };
}

const ari = {
  type: 'ari.updated',
  timestamp: '2026-06-01T10:00:00Z',
  data: {
    channelId: 'direct',
    propertyId: 'HOTEL001',
    roomTypeId: 'DBL',
    ratePlanId: 'BAR',
    dateFrom: '2026-07-01',
    dateTo: '2026-07-07',
    rate: { amount: '129.99', currency: 'EUR' },
    availability: 5,
    restrictions: { minLengthOfStay: 2, closedToArrival: true },
  },
};
const BODY = Buffer.from(JSON.stringify(ari));
const MSG_ID = 'msg_2abc';

function request(
  headers: { id?: string; timestamp?: string; signature?: string },
  body: Buffer | string = BODY,
): DeliveryRequest {
  return {
    headers: {
      'content-type': 'application/json',
      'webhook-id': headers.id,
      'webhook-timestamp': headers.timestamp,
      'webhook-signature': headers.signature,
    },
    rawBody: Buffer.from(body),
  };
}

/** Signed by the independent reference library. */
function librarySigned(
  secret = SECRET,
  at = NOW,
  body: Buffer | string = BODY,
  id = MSG_ID,
): DeliveryRequest {
  const signature = new Webhook(secret).sign(id, new Date(at * 1000), Buffer.from(body).toString('utf8'));
  return request({ id, timestamp: String(at), signature }, body);
}

function refusal(action: () => unknown): ParitySyncError {
  try {
    action();
  } catch (error) {
    return error as ParitySyncError;
  }
  throw new Error('expected a refusal');
}

function normalise(body: unknown, messageId = MSG_ID) {
  return standardWebhooksAdapter.normalise(body, request({ id: messageId }), { messageId }, contextWith());
}

function dataOf(body: unknown): unknown {
  const result = normalise(body);
  return result.disposition === 'apply' ? result.payload.data : undefined;
}

function fieldsOf(body: unknown): string[] {
  const error = refusal(() => normalise(JSON.parse(JSON.stringify(body))));
  expect(error).toBeInstanceOf(SchemaViolationError);
  return (error as SchemaViolationError).fields.map((f) => f.path);
}

describe('standard-webhooks adapter: the published test vector', () => {
  const vectorRequest = request(
    { id: VECTOR.id, timestamp: String(VECTOR.timestamp), signature: VECTOR.signature },
    VECTOR.body,
  );

  it('verifies it with the clock at its timestamp', () => {
    expect(standardWebhooksAdapter.verify(vectorRequest, contextWith({ now: VECTOR.timestamp }))).toEqual({
      signedAt: new Date(VECTOR.timestamp * 1000),
      messageId: VECTOR.id,
    });
  });

  it('matches what the sender signs for the same inputs', () => {
    const headers = standardWebhooksSender.sign(Buffer.from(VECTOR.body), {
      secret: VECTOR.secret,
      at: new Date(VECTOR.timestamp * 1000),
      id: VECTOR.id,
    });
    expect(headers['webhook-signature']).toBe(VECTOR.signature);
  });

  it('refuses it years later as a replay', () => {
    const error = refusal(() => standardWebhooksAdapter.verify(vectorRequest, contextWith()));
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'timestamp_out_of_tolerance']);
  });

  it('refuses its body, which has no type, timestamp or data, at normalisation', () => {
    expect(fieldsOf(JSON.parse(VECTOR.body))).toEqual(['type', 'timestamp', 'data']);
  });
});

describe('standard-webhooks adapter: HMAC (v1) signatures', () => {
  it('accepts a signature made by the reference library', () => {
    expect(standardWebhooksAdapter.verify(librarySigned(), contextWith())).toEqual({
      signedAt: new Date(NOW * 1000),
      messageId: MSG_ID,
    });
  });

  it('signs in the sender exactly as the reference library verifies', () => {
    const at = new Date();
    const headers = standardWebhooksSender.sign(BODY, { secret: SECRET, at });
    expect(new Webhook(SECRET).verify(BODY.toString('utf8'), headers)).toEqual(ari);
  });

  it('accepts a secret configured without the whsec_ prefix', () => {
    const bare = SECRET.slice('whsec_'.length);
    expect(() =>
      standardWebhooksAdapter.verify(librarySigned(), contextWith({ secrets: [bare] })),
    ).not.toThrow();
  });

  it('accepts several signatures during rotation, whichever one matches', () => {
    const signature = [SECRET, NEXT_SECRET]
      .map((secret) => new Webhook(secret).sign(MSG_ID, new Date(NOW * 1000), BODY.toString('utf8')))
      .join(' ');
    const req = request({ id: MSG_ID, timestamp: String(NOW), signature });
    expect(() => standardWebhooksAdapter.verify(req, contextWith({ secrets: [SECRET] }))).not.toThrow();
    expect(() => standardWebhooksAdapter.verify(req, contextWith({ secrets: [NEXT_SECRET] }))).not.toThrow();
    const error = refusal(() =>
      standardWebhooksAdapter.verify(
        req,
        contextWith({ secrets: [`whsec_${Buffer.from('x').toString('base64')}`] }),
      ),
    );
    expect(error.code).toBe('invalid_signature');
  });

  it('verifies with any configured secret, so the receiver can rotate', () => {
    const context = contextWith({ secrets: [NEXT_SECRET, SECRET] });
    expect(() => standardWebhooksAdapter.verify(librarySigned(SECRET), context)).not.toThrow();
    expect(() => standardWebhooksAdapter.verify(librarySigned(NEXT_SECRET), context)).not.toThrow();
  });

  it('ignores versions it does not know, next to one it does', () => {
    const valid = librarySigned().headers['webhook-signature'];
    const signature = `v2,AAAA v1b,${'B'.repeat(44)}  ${valid}`;
    expect(() =>
      standardWebhooksAdapter.verify(
        request({ id: MSG_ID, timestamp: String(NOW), signature }),
        contextWith(),
      ),
    ).not.toThrow();
  });

  it.each([
    ['only an unknown version', (s: string) => s.replace(/^v1,/, 'v2,')],
    ['a truncated signature', (s: string) => s.slice(0, -4)],
    ['a signature without its version', (s: string) => s.replace(/^v1,/, '')],
    ['hex instead of base64', (s: string) => `v1,${Buffer.from(s.slice(3), 'base64').toString('hex')}`],
  ])('refuses %s with 401 invalid_signature', (_what, change) => {
    const signed = librarySigned();
    const signature = change(signed.headers['webhook-signature'] ?? '');
    const error = refusal(() =>
      standardWebhooksAdapter.verify(
        { ...signed, headers: { ...signed.headers, 'webhook-signature': signature } },
        contextWith(),
      ),
    );
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'invalid_signature']);
  });

  it('refuses a signature made with another secret', () => {
    const error = refusal(() => standardWebhooksAdapter.verify(librarySigned(NEXT_SECRET), contextWith()));
    expect(error.code).toBe('invalid_signature');
  });

  it('refuses a body altered by one byte after signing', () => {
    const signed = librarySigned();
    const altered = Buffer.from(BODY.toString('utf8').replace('HOTEL001', 'HOTEL002'));
    const error = refusal(() =>
      standardWebhooksAdapter.verify({ ...signed, rawBody: altered }, contextWith()),
    );
    expect(error.code).toBe('invalid_signature');
  });

  it('refuses a signature replayed under another message id', () => {
    const signed = librarySigned();
    const error = refusal(() =>
      standardWebhooksAdapter.verify(
        { ...signed, headers: { ...signed.headers, 'webhook-id': 'msg_other' } },
        contextWith(),
      ),
    );
    expect(error.code).toBe('invalid_signature');
  });

  it.each([
    ['webhook-id', 'InvalidRequestError', 'missing_header'],
    ['webhook-timestamp', 'AuthenticationError', 'missing_timestamp'],
    ['webhook-signature', 'AuthenticationError', 'missing_signature'],
  ])('refuses a delivery without %s', (name, kind, code) => {
    const signed = librarySigned();
    const error = refusal(() =>
      standardWebhooksAdapter.verify(
        { ...signed, headers: { ...signed.headers, [name]: undefined } },
        contextWith(),
      ),
    );
    expect([error.name, error.code]).toEqual([kind, code]);
  });

  it.each([['1780000000.5'], ['2026-06-01T00:00:00Z'], ['-1780000000'], [' 1780000000']])(
    'refuses a malformed timestamp %j with 400 bad_header',
    (timestamp) => {
      const signed = librarySigned();
      const error = refusal(() =>
        standardWebhooksAdapter.verify(
          { ...signed, headers: { ...signed.headers, 'webhook-timestamp': timestamp } },
          contextWith(),
        ),
      );
      expect([error.name, error.code]).toEqual(['InvalidRequestError', 'bad_header']);
    },
  );

  it('refuses a message id that is not a header-safe token', () => {
    const error = refusal(() =>
      standardWebhooksAdapter.verify(librarySigned(SECRET, NOW, BODY, 'msg with spaces'), contextWith()),
    );
    expect([error.name, error.code]).toEqual(['InvalidRequestError', 'bad_header']);
  });

  it.each([
    ['exactly 300 s old', NOW - 300, true],
    ['exactly 300 s ahead', NOW + 300, true],
    ['301 s old', NOW - 301, false],
    ['301 s ahead', NOW + 301, false],
  ])('judges a timestamp %s', (_what, at, accepted) => {
    const verify = () => standardWebhooksAdapter.verify(librarySigned(SECRET, at), contextWith());
    if (accepted) {
      expect(verify().signedAt).toEqual(new Date(at * 1000));
    } else {
      const error = refusal(verify);
      expect([error.name, error.code]).toEqual(['AuthenticationError', 'timestamp_out_of_tolerance']);
    }
  });
});

describe('standard-webhooks adapter: Ed25519 (v1a) signatures', () => {
  function keyPair(): { privateKey: KeyObject; whpk: string; raw: string; pem: string } {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
    return {
      privateKey,
      whpk: `whpk_${raw}`,
      raw,
      pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    };
  }
  const signer = keyPair();
  const stranger = keyPair();

  function v1a(privateKey: KeyObject, body: Buffer = BODY, id = MSG_ID, at = NOW): string {
    const signature = signEd25519(null, Buffer.concat([Buffer.from(`${id}.${at}.`), body]), privateKey);
    return `v1a,${signature.toString('base64')}`;
  }

  const signedBy = (privateKey: KeyObject) =>
    request({ id: MSG_ID, timestamp: String(NOW), signature: v1a(privateKey) });

  it.each([
    ['a whpk_ key', signer.whpk],
    ['a raw base64 key', signer.raw],
    ['a PEM key', signer.pem],
  ])('accepts a signature verified with %s', (_what, publicKey) => {
    const context = contextWith({ secrets: [], publicKeys: [publicKey] });
    expect(standardWebhooksAdapter.verify(signedBy(signer.privateKey), context)).toEqual({
      signedAt: new Date(NOW * 1000),
      messageId: MSG_ID,
    });
  });

  it('accepts any listed key, so keys can be rotated', () => {
    const context = contextWith({ secrets: [], publicKeys: [stranger.whpk, signer.pem] });
    expect(() => standardWebhooksAdapter.verify(signedBy(signer.privateKey), context)).not.toThrow();
  });

  it('refuses a signature by a key that is not listed', () => {
    const context = contextWith({ secrets: [], publicKeys: [signer.whpk] });
    const error = refusal(() => standardWebhooksAdapter.verify(signedBy(stranger.privateKey), context));
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'invalid_signature']);
  });

  it('refuses a v1a signature when the source lists no public key', () => {
    const error = refusal(() => standardWebhooksAdapter.verify(signedBy(signer.privateKey), contextWith()));
    expect(error.code).toBe('invalid_signature');
  });

  it('refuses a body altered after signing', () => {
    const context = contextWith({ secrets: [], publicKeys: [signer.whpk] });
    const altered = Buffer.from(BODY.toString('utf8').replace('HOTEL001', 'HOTEL002'));
    const error = refusal(() =>
      standardWebhooksAdapter.verify({ ...signedBy(signer.privateKey), rawBody: altered }, context),
    );
    expect(error.code).toBe('invalid_signature');
  });

  it('accepts a header carrying a failing v1 next to a valid v1a, and the reverse', () => {
    const context = contextWith({ publicKeys: [signer.whpk] });
    const v1 = librarySigned().headers['webhook-signature'] ?? '';
    const wrongV1 = librarySigned(NEXT_SECRET).headers['webhook-signature'] ?? '';
    for (const signature of [`${wrongV1} ${v1a(signer.privateKey)}`, `${v1a(stranger.privateKey)} ${v1}`]) {
      const req = request({ id: MSG_ID, timestamp: String(NOW), signature });
      expect(() => standardWebhooksAdapter.verify(req, context)).not.toThrow();
    }
  });
});

describe('standard-webhooks adapter: ari.updated', () => {
  it('maps the native vocabulary to an exact ari.update, keyed by the message id', () => {
    expect(normalise(ari)).toStrictEqual({
      disposition: 'apply',
      providerEventType: 'ari.updated',
      idempotencyKey: MSG_ID,
      occurredAt: new Date('2026-06-01T10:00:00Z'),
      payload: {
        type: 'ari.update',
        data: {
          channelId: 'direct',
          propertyExternalId: 'HOTEL001',
          roomTypeExternalId: 'DBL',
          ratePlanExternalId: 'BAR',
          dateFrom: '2026-07-01',
          dateTo: '2026-07-07',
          rate: { amountMinor: 12999, currency: 'EUR' },
          availability: 5,
          restrictions: { minLengthOfStay: 2, closedToArrival: true },
        },
      },
    });
  });

  it('falls back to the webhook-id header when verification did not pass the message id on', () => {
    const result = standardWebhooksAdapter.normalise(
      ari,
      request({ id: 'msg_from_header' }),
      {},
      contextWith(),
    );
    expect(result.idempotencyKey).toBe('msg_from_header');
  });

  it.each([
    [
      { amount: 129.5, currency: 'EUR' },
      { amountMinor: 12950, currency: 'EUR' },
    ],
    [
      { amount: '15000', currency: 'JPY' },
      { amountMinor: 15000, currency: 'JPY' },
    ],
    [
      { amount: '12.345', currency: 'KWD' },
      { amountMinor: 12345, currency: 'KWD' },
    ],
    [
      { amount: '0.10', currency: 'USD' },
      { amountMinor: 10, currency: 'USD' },
    ],
  ])('converts the rate %j to minor units', (rate, money) => {
    expect(dataOf({ ...ari, data: { ...ari.data, rate } })).toMatchObject({ rate: money });
  });

  it('accepts a partial update and omits what it does not carry', () => {
    const data = {
      roomTypeId: 'DBL',
      ratePlanId: 'BAR',
      dateFrom: '2026-07-01',
      dateTo: '2026-07-01',
      restrictions: { stopSell: true },
    };
    expect(dataOf({ ...ari, data })).toStrictEqual({
      roomTypeExternalId: 'DBL',
      ratePlanExternalId: 'BAR',
      dateFrom: '2026-07-01',
      dateTo: '2026-07-01',
      restrictions: { stopSell: true },
    });
  });

  it.each([
    [
      'the longest range with availability alone, none left',
      { roomTypeId: 'DBL', ratePlanId: 'BAR', dateFrom: '2026-01-01', dateTo: '2028-01-01', availability: 0 },
      {
        roomTypeExternalId: 'DBL',
        ratePlanExternalId: 'BAR',
        dateFrom: '2026-01-01',
        dateTo: '2028-01-01',
        availability: 0,
      },
    ],
    [
      'every restriction at its limit and a three-decimal rate as a number',
      {
        roomTypeId: 'DBL',
        ratePlanId: 'BAR',
        dateFrom: '2026-12-01',
        dateTo: '2026-12-01',
        restrictions: {
          stopSell: true,
          closedToDeparture: false,
          closedToArrival: true,
          maxLengthOfStay: 3660,
          minLengthOfStay: 3660,
        },
        rate: { currency: 'BHD', amount: 0.125 },
      },
      {
        roomTypeExternalId: 'DBL',
        ratePlanExternalId: 'BAR',
        dateFrom: '2026-12-01',
        dateTo: '2026-12-01',
        rate: { amountMinor: 125, currency: 'BHD' },
        restrictions: {
          minLengthOfStay: 3660,
          maxLengthOfStay: 3660,
          closedToArrival: true,
          closedToDeparture: false,
          stopSell: true,
        },
      },
    ],
  ])('accepts %s, ignoring unknown envelope fields', (_what, data, update) => {
    expect(dataOf({ ...ari, extra: 'ignored', data })).toStrictEqual(update);
  });

  it('accepts a range of exactly 731 dates and refuses 732', () => {
    expect(
      dataOf({ ...ari, data: { ...ari.data, dateFrom: '2026-01-01', dateTo: '2028-01-01' } }),
    ).toMatchObject({
      dateTo: '2028-01-01',
    });
    expect(fieldsOf({ ...ari, data: { ...ari.data, dateFrom: '2026-01-01', dateTo: '2028-01-02' } })).toEqual(
      ['data.dateTo'],
    );
  });

  it.each([
    [
      'none of rate, availability or restrictions',
      { rate: undefined, availability: undefined, restrictions: undefined },
      ['data'],
    ],
    [
      'an amount with too many decimals',
      { rate: { amount: '129.999', currency: 'EUR' } },
      ['data.rate.amount'],
    ],
    ['a yen amount with decimals', { rate: { amount: '100.5', currency: 'JPY' } }, ['data.rate.amount']],
    ['a negative amount', { rate: { amount: '-1.00', currency: 'EUR' } }, ['data.rate.amount']],
    ['a zero rate', { rate: { amount: 0, currency: 'EUR' } }, ['data.rate.amount']],
    ['an amount in exponent notation', { rate: { amount: '1e3', currency: 'EUR' } }, ['data.rate.amount']],
    ['a lower-case currency', { rate: { amount: '1.00', currency: 'eur' } }, ['data.rate.currency']],
    ['a fractional availability', { availability: 1.5 }, ['data.availability']],
    ['a negative availability', { availability: -1 }, ['data.availability']],
    ['dateTo before dateFrom', { dateFrom: '2026-07-07', dateTo: '2026-07-01' }, ['data.dateTo']],
    ['a date that does not exist', { dateTo: '2026-06-31' }, ['data.dateTo']],
    ['a date-time instead of a date', { dateFrom: '2026-07-01T00:00:00Z' }, ['data.dateFrom']],
    ['no rate plan', { ratePlanId: undefined }, ['data.ratePlanId']],
    ['an empty room type', { roomTypeId: '' }, ['data.roomTypeId']],
    [
      'an empty restrictions object',
      { rate: undefined, availability: undefined, restrictions: {} },
      ['data.restrictions'],
    ],
    ['a misspelt restriction', { restrictions: { closedToArrivals: true } }, ['data.restrictions']],
    [
      'a minimum stay above the maximum',
      { restrictions: { minLengthOfStay: 5, maxLengthOfStay: 3 } },
      ['data.restrictions.maxLengthOfStay'],
    ],
    ['a field outside the vocabulary', { guestName: 'Grace' }, ['data']],
  ])('refuses %s, naming the fields', (_what, change, fields) => {
    expect(fieldsOf({ ...ari, data: { ...ari.data, ...change } })).toEqual(fields);
  });

  it('refuses a timestamp without a zone', () => {
    expect(fieldsOf({ ...ari, timestamp: '2026-06-01T10:00:00' })).toEqual(['timestamp']);
  });
});

describe('standard-webhooks adapter: ari.updated without a room type', () => {
  // Every ARI update is stored per room type, so apply could only ever reject one without it.
  it('is refused at the edge with 422 naming data.roomTypeId, even when it carries nothing else wrong', () => {
    const { roomTypeId: _room, ...data } = ari.data;
    const error = refusal(() => normalise({ ...ari, data }));
    expect([error.name, error.code]).toEqual(['SchemaViolationError', 'schema_violation']);
    expect((error as SchemaViolationError).fields.map((f) => f.path)).toEqual(['data.roomTypeId']);
    expect(error.message).toContain('data.roomTypeId');
  });
});

describe('standard-webhooks adapter: reservations and other types', () => {
  const reservation = {
    timestamp: '2026-06-01T11:00:00+02:00',
    data: {
      reservationId: 'RES-1',
      propertyId: 'HOTEL001',
      arrivalDate: '2026-07-01',
      departureDate: '2026-07-04',
      roomTypeId: 'DBL',
      channel: 'direct',
      total: { amount: '387.00', currency: 'EUR' },
    },
  };

  it.each([
    ['reservation.created', 'confirmed'],
    ['reservation.updated', 'modified'],
    ['reservation.cancelled', 'cancelled'],
    ['reservation.checked_in', 'checked_in'],
    ['reservation.checked_out', 'checked_out'],
  ])('maps %s to status %s', (type, status) => {
    const result = normalise({ ...reservation, type });
    expect(result).toStrictEqual({
      disposition: 'apply',
      providerEventType: type,
      idempotencyKey: MSG_ID,
      occurredAt: new Date('2026-06-01T09:00:00Z'),
      payload: {
        type: 'reservation.change',
        data: {
          reservationExternalId: 'RES-1',
          propertyExternalId: 'HOTEL001',
          status,
          arrivalDate: '2026-07-01',
          departureDate: '2026-07-04',
          roomTypeExternalId: 'DBL',
          channel: 'direct',
          total: { amountMinor: 38700, currency: 'EUR' },
        },
      },
    });
  });

  it.each([
    ['reservation.cancelled', { reservationId: 'R' }, { reservationExternalId: 'R', status: 'cancelled' }],
    [
      'reservation.checked_in',
      { reservationId: 'R', arrivalDate: '2028-02-28', departureDate: '2028-02-29' },
      {
        reservationExternalId: 'R',
        status: 'checked_in',
        arrivalDate: '2028-02-28',
        departureDate: '2028-02-29',
      },
    ],
    [
      'reservation.updated',
      {
        reservationId: 'R',
        arrivalDate: '2026-12-01',
        channel: 'c'.repeat(50),
        total: { amount: 0, currency: 'EUR' },
      },
      {
        reservationExternalId: 'R',
        status: 'modified',
        arrivalDate: '2026-12-01',
        channel: 'c'.repeat(50),
        total: { amountMinor: 0, currency: 'EUR' },
      },
    ],
  ])('accepts a sparse %s payload', (type, data, change) => {
    expect(dataOf({ type, timestamp: '2026-11-01T12:00:00Z', data })).toStrictEqual(change);
  });

  it.each([
    ['no reservation id', { reservationId: undefined }, ['data.reservationId']],
    ['a departure on the arrival date', { departureDate: '2026-07-01' }, ['data.departureDate']],
    ['guest personal data', { guestEmail: 'grace@example.org' }, ['data']],
  ])('refuses a reservation with %s', (_what, change, fields) => {
    expect(
      fieldsOf({ ...reservation, type: 'reservation.created', data: { ...reservation.data, ...change } }),
    ).toEqual(fields);
  });

  it.each(['invoice.paid', 'customer:created', 'Ping', 'constructor'])(
    'records the type %s, which it does not act on',
    (type) => {
      expect(
        normalise({ type, timestamp: '2026-06-01T12:00:00Z', data: { anything: [1, 2] } }),
      ).toStrictEqual({
        disposition: 'record',
        providerEventType: type,
        idempotencyKey: MSG_ID,
        occurredAt: new Date('2026-06-01T12:00:00Z'),
      });
    },
  );

  it.each([
    ['a type with spaces', { type: 'invoice paid' }, ['type']],
    ['a type over 100 characters', { type: 'x'.repeat(101) }, ['type']],
    ['data that is not an object', { data: 'paid' }, ['data']],
  ])('refuses %s', (_what, change, fields) => {
    expect(
      fieldsOf({ type: 'invoice.paid', timestamp: '2026-06-01T12:00:00Z', data: {}, ...change }),
    ).toEqual(fields);
  });
});

describe('standard-webhooks sender', () => {
  it.each(standardWebhooksSender.sampleTypes)('produces a %s sample that verifies and normalises', (type) => {
    const now = new Date(NOW * 1000);
    let n = 0;
    const body = Buffer.from(JSON.stringify(standardWebhooksSender.sample(type, now, () => `id-${++n}`)));
    const headers = standardWebhooksSender.sign(body, { secret: SECRET, at: now });
    const req = { headers, rawBody: body };
    const verified = standardWebhooksAdapter.verify(req, contextWith());
    const result = standardWebhooksAdapter.normalise(
      JSON.parse(body.toString('utf8')),
      req,
      verified,
      contextWith(),
    );
    expect(result.providerEventType).toBe(type);
    expect(result.idempotencyKey).toBe(headers['webhook-id']);
    expect(result.occurredAt).toEqual(now);
    expect(result.disposition).toBe(standardWebhooksAdapter.eventTypes.includes(type) ? 'apply' : 'record');
  });

  it('gives the same body the same message id, so a resend is a retry', () => {
    const at = new Date(NOW * 1000);
    const first = standardWebhooksSender.sign(BODY, { secret: SECRET, at });
    const again = standardWebhooksSender.sign(BODY, { secret: SECRET, at: new Date((NOW + 60) * 1000) });
    expect(again['webhook-id']).toBe(first['webhook-id']);
    expect(standardWebhooksSender.sign(Buffer.from('{}'), { secret: SECRET, at })['webhook-id']).not.toBe(
      first['webhook-id'],
    );
  });
});
