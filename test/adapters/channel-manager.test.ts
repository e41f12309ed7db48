import { createHash, createHmac, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { channelManagerAdapter } from '../../lambdas/adapters/channel-manager';
import type { VerificationContext } from '../../lambdas/adapters/types';
import { AuthenticationError, InvalidRequestError, SchemaViolationError } from '../../lambdas/shared/errors';
import { channelManagerSender } from '../../local/senders/channel-manager';
import { contextFor, deliveryOf, fieldPaths, NOW, NOW_SECONDS, thrown } from './support';

const SECRET = 'NEbi/NxDBcDSLOfH+Fa3W9B4kzMClSLcMWqARMUo6KQ=';
const NEXT_SECRET = 'vwx5j6ftatRqD89SIgMt91UtDQuz8erYLAG+W4BhTJ4=';

const hmacHex = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

const hmacContext = (secrets: readonly string[] = [SECRET], tolerance = 300) =>
  contextFor(
    { id: 'cm', kind: 'channel-manager', secrets: secrets.map((value) => ({ value })) },
    secrets,
    tolerance,
  );

const UPDATE = {
  event_id: 'evt-42',
  channel_id: 'CH-1',
  property_id: 'HOTEL001',
  rate_plan_code: 'BAR',
  room_type_external_id: 'DBL',
  date_range: ['2026-12-01', '2026-12-03'],
  currency: 'EUR',
  base_rate: 129.99,
  inventory_count: 5,
  restrictions: { min_length_of_stay: 2, closed_to_arrival: false, closed_to_departure: true },
};
const BODY = JSON.stringify(UPDATE);

function signedDelivery(body = BODY, options: { secret?: string; at?: number; upper?: boolean } = {}) {
  const hex = hmacHex(options.secret ?? SECRET, body);
  return deliveryOf(body, {
    'Content-Type': 'application/json',
    'X-Channel-Signature': options.upper ? hex.toUpperCase() : hex,
    'X-Channel-Timestamp': String(options.at ?? NOW_SECONDS),
  });
}

/** Verifies and normalises `update` as a delivery signed now; returns what the adapter produced. */
function normaliseUpdate(update: Record<string, unknown>, context: VerificationContext = hmacContext()) {
  const body = JSON.stringify(update);
  const request = signedDelivery(body);
  const verified = channelManagerAdapter.verify(request, context);
  return channelManagerAdapter.normalise(JSON.parse(body), request, verified, context);
}

function schemaErrorFor(update: Record<string, unknown>) {
  const error = thrown(() => normaliseUpdate(update));
  expect(error).toBeInstanceOf(SchemaViolationError);
  return error;
}

describe('channel-manager HMAC verification', () => {
  it('accepts a lower-case hex HMAC of the raw body and reports the signed time', () => {
    const verified = channelManagerAdapter.verify(signedDelivery(), hmacContext());
    expect(verified.signedAt?.toISOString()).toBe(NOW.toISOString());
  });

  it('accepts the same HMAC in upper-case hex', () => {
    expect(() =>
      channelManagerAdapter.verify(signedDelivery(BODY, { upper: true }), hmacContext()),
    ).not.toThrow();
  });

  it('refuses a delivery without the signature header with 401 missing_signature', () => {
    const request = deliveryOf(BODY, { 'x-channel-timestamp': String(NOW_SECONDS) });
    const error = thrown(() => channelManagerAdapter.verify(request, hmacContext()));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'missing_signature']);
  });

  it('treats an empty signature header as missing', () => {
    const request = deliveryOf(BODY, {
      'x-channel-signature': '',
      'x-channel-timestamp': String(NOW_SECONDS),
    });
    expect(thrown(() => channelManagerAdapter.verify(request, hmacContext())).code).toBe('missing_signature');
  });

  it('refuses a delivery without the timestamp header with 401 missing_timestamp', () => {
    const request = deliveryOf(BODY, { 'x-channel-signature': hmacHex(SECRET, BODY) });
    const error = thrown(() => channelManagerAdapter.verify(request, hmacContext()));
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'missing_timestamp']);
  });

  it.each(['2026-11-01T12:00:00Z', '1793534400.5', '-1793534400', 'abc', '１７９３５３４４００'])(
    'refuses the timestamp %j with 400 bad_header',
    (timestamp) => {
      const request = deliveryOf(BODY, {
        'x-channel-signature': hmacHex(SECRET, BODY),
        'x-channel-timestamp': timestamp,
      });
      const error = thrown(() => channelManagerAdapter.verify(request, hmacContext()));
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect([error.name, error.code]).toEqual(['InvalidRequestError', 'bad_header']);
    },
  );

  it('refuses a truncated signature', () => {
    const request = deliveryOf(BODY, {
      'x-channel-signature': hmacHex(SECRET, BODY).slice(0, 62),
      'x-channel-timestamp': String(NOW_SECONDS),
    });
    expect(thrown(() => channelManagerAdapter.verify(request, hmacContext())).code).toBe('invalid_signature');
  });

  it('refuses a signature made with another secret', () => {
    const error = thrown(() =>
      channelManagerAdapter.verify(signedDelivery(BODY, { secret: 'not-it' }), hmacContext()),
    );
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'invalid_signature']);
  });

  it('accepts a signature by either active secret during rotation', () => {
    const rotating = hmacContext([SECRET, NEXT_SECRET]);
    expect(() =>
      channelManagerAdapter.verify(signedDelivery(BODY, { secret: NEXT_SECRET }), rotating),
    ).not.toThrow();
    expect(() =>
      channelManagerAdapter.verify(signedDelivery(BODY, { secret: SECRET }), rotating),
    ).not.toThrow();
    expect(
      thrown(() => channelManagerAdapter.verify(signedDelivery(BODY, { secret: NEXT_SECRET }), hmacContext()))
        .code,
    ).toBe('invalid_signature');
  });

  it('refuses a body altered by one byte after signing', () => {
    const signed = signedDelivery();
    const altered = Buffer.from(signed.rawBody);
    const index = altered.indexOf('129.99');
    altered[index] = '2'.charCodeAt(0);
    const error = thrown(() => channelManagerAdapter.verify({ ...signed, rawBody: altered }, hmacContext()));
    expect(error.code).toBe('invalid_signature');
  });

  it('signs the raw body only: the timestamp can move within tolerance without re-signing', () => {
    const hex = hmacHex(SECRET, BODY);
    const request = deliveryOf(BODY, {
      'x-channel-signature': hex,
      'x-channel-timestamp': String(NOW_SECONDS - 100),
    });
    const verified = channelManagerAdapter.verify(request, hmacContext());
    expect(verified.signedAt?.getTime()).toBe((NOW_SECONDS - 100) * 1000);
  });

  it('accepts a timestamp exactly at the tolerance in either direction and refuses one second beyond', () => {
    const context = hmacContext([SECRET], 300);
    for (const at of [NOW_SECONDS - 300, NOW_SECONDS + 300]) {
      expect(() => channelManagerAdapter.verify(signedDelivery(BODY, { at }), context)).not.toThrow();
    }
    for (const at of [NOW_SECONDS - 301, NOW_SECONDS + 301]) {
      const error = thrown(() => channelManagerAdapter.verify(signedDelivery(BODY, { at }), context));
      expect([error.name, error.code]).toEqual(['AuthenticationError', 'timestamp_out_of_tolerance']);
    }
  });

  it('honours a source-specific tolerance', () => {
    const tight = hmacContext([SECRET], 30);
    expect(() =>
      channelManagerAdapter.verify(signedDelivery(BODY, { at: NOW_SECONDS - 30 }), tight),
    ).not.toThrow();
    expect(
      thrown(() => channelManagerAdapter.verify(signedDelivery(BODY, { at: NOW_SECONDS - 31 }), tight)).code,
    ).toBe('timestamp_out_of_tolerance');
  });
});

describe('channel-manager RSA-SHA256 verification', () => {
  const keyPair = () =>
    generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
  const current = keyPair();
  const next = keyPair();
  const stranger = keyPair();

  const rsaContext = (publicKeys: string[], secrets: string[] = []) =>
    contextFor(
      {
        id: 'cm-rsa',
        kind: 'channel-manager',
        secrets: secrets.map((value) => ({ value })),
        options: { signature: 'rsa-sha256', publicKeys },
      },
      secrets,
    );

  const rsaDelivery = (privateKey: string, body = BODY) =>
    deliveryOf(body, {
      'x-channel-signature': rsaSign('sha256', Buffer.from(body), privateKey).toString('base64'),
      'x-channel-timestamp': String(NOW_SECONDS),
    });

  it('accepts a base64 RSASSA-PKCS1-v1_5 SHA-256 signature of the raw body', () => {
    const verified = channelManagerAdapter.verify(
      rsaDelivery(current.privateKey),
      rsaContext([current.publicKey]),
    );
    expect(verified.signedAt?.getTime()).toBe(NOW.getTime());
  });

  it('accepts a signature by any configured public key', () => {
    const context = rsaContext([current.publicKey, next.publicKey]);
    expect(() => channelManagerAdapter.verify(rsaDelivery(next.privateKey), context)).not.toThrow();
  });

  it('refuses a signature by a key that is not configured', () => {
    const error = thrown(() =>
      channelManagerAdapter.verify(
        rsaDelivery(stranger.privateKey),
        rsaContext([current.publicKey, next.publicKey]),
      ),
    );
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'invalid_signature']);
  });

  it('refuses a valid signature over a different body', () => {
    const signed = rsaDelivery(current.privateKey);
    const other = Buffer.from(BODY.replace('"BAR"', '"BAR2"'));
    const error = thrown(() =>
      channelManagerAdapter.verify({ ...signed, rawBody: other }, rsaContext([current.publicKey])),
    );
    expect(error.code).toBe('invalid_signature');
  });

  it('does not fall back to HMAC with a configured secret when the source expects RSA', () => {
    const request = deliveryOf(BODY, {
      'x-channel-signature': hmacHex(SECRET, BODY),
      'x-channel-timestamp': String(NOW_SECONDS),
    });
    const error = thrown(() =>
      channelManagerAdapter.verify(request, rsaContext([current.publicKey], [SECRET])),
    );
    expect(error.code).toBe('invalid_signature');
  });

  it('refuses a signature that is not base64', () => {
    const signed = rsaDelivery(current.privateKey);
    const mangled = deliveryOf(BODY, {
      ...signed.headers,
      'x-channel-signature': `!${signed.headers['x-channel-signature']}`,
    });
    expect(thrown(() => channelManagerAdapter.verify(mangled, rsaContext([current.publicKey]))).code).toBe(
      'invalid_signature',
    );
  });

  it('still bounds the timestamp before checking the signature', () => {
    const request = deliveryOf(BODY, {
      'x-channel-signature': rsaSign('sha256', Buffer.from(BODY), current.privateKey).toString('base64'),
      'x-channel-timestamp': String(NOW_SECONDS - 301),
    });
    expect(thrown(() => channelManagerAdapter.verify(request, rsaContext([current.publicKey]))).code).toBe(
      'timestamp_out_of_tolerance',
    );
  });
});

describe('channel-manager normalisation', () => {
  it('produces the canonical ARI update with every present field and no absent ones', () => {
    const result = normaliseUpdate({
      ...UPDATE,
      restrictions: { ...UPDATE.restrictions, max_length_of_stay: 14, stop_sell: true },
    });
    expect(result).toStrictEqual({
      disposition: 'apply',
      providerEventType: 'rate_update',
      idempotencyKey: 'evt-42',
      occurredAt: NOW,
      payload: {
        type: 'ari.update',
        data: {
          channelId: 'CH-1',
          propertyExternalId: 'HOTEL001',
          roomTypeExternalId: 'DBL',
          ratePlanExternalId: 'BAR',
          dateFrom: '2026-12-01',
          dateTo: '2026-12-03',
          rate: { amountMinor: 12999, currency: 'EUR' },
          availability: 5,
          restrictions: {
            minLengthOfStay: 2,
            maxLengthOfStay: 14,
            closedToArrival: false,
            closedToDeparture: true,
            stopSell: true,
          },
        },
      },
    });
  });

  it('leaves optional fields out entirely rather than setting them undefined', () => {
    const { property_id: _property, event_id: _event, ...minimal } = UPDATE;
    const result = normaliseUpdate(minimal);
    if (result.disposition !== 'apply') throw new Error('expected apply');
    const data = result.payload.data as unknown as Record<string, unknown>;
    expect(Object.keys(data)).not.toContain('propertyExternalId');
    expect(Object.keys(data.restrictions as object).sort()).toEqual([
      'closedToArrival',
      'closedToDeparture',
      'minLengthOfStay',
    ]);
  });

  it('ignores fields the payload does not define', () => {
    const result = normaliseUpdate({
      ...UPDATE,
      provider_trace: 'x',
      restrictions: { ...UPDATE.restrictions, foo: 1 },
    });
    expect(JSON.stringify(result)).not.toContain('provider_trace');
    expect(JSON.stringify(result)).not.toContain('foo');
  });

  it('keys an update without an event id on the hash of "<timestamp>.<raw body>"', () => {
    const { event_id: _event, ...update } = UPDATE;
    const body = JSON.stringify(update);
    const context = hmacContext();
    const keyAt = (at: number) => {
      const request = signedDelivery(body, { at });
      return channelManagerAdapter.normalise(
        update,
        request,
        channelManagerAdapter.verify(request, context),
        context,
      );
    };
    const first = keyAt(NOW_SECONDS - 10);
    expect(first.idempotencyKey).toBe(
      createHash('sha256')
        .update(`${NOW_SECONDS - 10}.${body}`)
        .digest('hex'),
    );
    expect(first.occurredAt.getTime()).toBe((NOW_SECONDS - 10) * 1000);
    // The same values re-sent later are a new change, not a duplicate of the first.
    expect(keyAt(NOW_SECONDS).idempotencyKey).not.toBe(first.idempotencyKey);
    expect(keyAt(NOW_SECONDS - 10).idempotencyKey).toBe(first.idempotencyKey);
  });

  it.each([
    [129.99, 'EUR', 12999],
    [0.01, 'EUR', 1],
    [19.9, 'EUR', 1990],
    ['1234567.89', 'USD', 123456789],
    [1.1, 'GBP', 110],
    [15000, 'JPY', 15000],
    ['45.125', 'KWD', 45125],
    ['100.50', 'CHF', 10050],
  ])('converts base_rate %j %s to %i minor units exactly', (baseRate, currency, amountMinor) => {
    const result = normaliseUpdate({ ...UPDATE, base_rate: baseRate, currency });
    expect(result.disposition === 'apply' && result.payload.data).toMatchObject({
      rate: { amountMinor, currency },
    });
  });

  it.each([
    ['a float artefact such as 0.1 + 0.2', 0.1 + 0.2, 'EUR'],
    ['an amount in exponent notation', 1e-7, 'EUR'],
    ['zero', 0, 'EUR'],
    ['a negative number', -5, 'EUR'],
    ['a negative string', '-5.00', 'EUR'],
    ['a zero string', '0.00', 'EUR'],
    ['fractional yen', '15000.5', 'JPY'],
    ['three decimals in EUR', 1.005, 'EUR'],
    ['text', 'ten', 'EUR'],
    ['a boolean', true, 'EUR'],
  ])('refuses %s as base_rate with 422 naming base_rate', (_label, baseRate, currency) => {
    expect(fieldPaths(schemaErrorFor({ ...UPDATE, base_rate: baseRate, currency }))).toEqual(['base_rate']);
  });

  it('refuses a required field that is missing, naming it', () => {
    const { rate_plan_code: _dropped, ...update } = UPDATE;
    expect(fieldPaths(schemaErrorFor(update))).toEqual(['rate_plan_code']);
  });

  // Every ARI update is stored per room type, so apply could only ever reject one without it.
  it('refuses an update without a room type with 422 naming room_type_external_id', () => {
    const { room_type_external_id: _dropped, ...update } = UPDATE;
    const error = schemaErrorFor(update);
    expect(error.code).toBe('schema_violation');
    expect(fieldPaths(error)).toEqual(['room_type_external_id']);
    expect(error.message).toContain('room_type_external_id');
  });

  it('names every broken field at once', () => {
    const error = schemaErrorFor({ ...UPDATE, currency: 'eur', inventory_count: -1, channel_id: '' });
    expect(fieldPaths(error).sort()).toEqual(['channel_id', 'currency', 'inventory_count']);
  });

  it.each([
    ['an inverted range', ['2026-12-03', '2026-12-01'], 'date_range'],
    ['a date that does not exist', ['2026-02-29', '2026-03-01'], 'date_range[0]'],
    ['a month that does not exist', ['2026-01-01', '2026-13-01'], 'date_range[1]'],
    ['a date-time instead of a date', ['2026-12-01T00:00:00Z', '2026-12-02'], 'date_range[0]'],
    ['more than 731 nights', ['2027-01-01', '2029-01-01'], 'date_range'],
  ])('refuses %s', (_label, range, path) => {
    expect(fieldPaths(schemaErrorFor({ ...UPDATE, date_range: range }))).toEqual([path]);
  });

  it('accepts a leap day and a range of exactly 731 nights', () => {
    const result = normaliseUpdate({ ...UPDATE, date_range: ['2027-01-01', '2028-12-31'] });
    expect(result.disposition === 'apply' && result.payload.data).toMatchObject({
      dateFrom: '2027-01-01',
      dateTo: '2028-12-31',
    });
    expect(() => normaliseUpdate({ ...UPDATE, date_range: ['2028-02-29', '2028-02-29'] })).not.toThrow();
  });

  it.each([
    ['min_length_of_stay 0', { min_length_of_stay: 0 }, 'restrictions.min_length_of_stay'],
    ['max below min', { max_length_of_stay: 1 }, 'restrictions.max_length_of_stay'],
    ['a non-boolean closed_to_arrival', { closed_to_arrival: 'false' }, 'restrictions.closed_to_arrival'],
    ['a non-boolean stop_sell', { stop_sell: 1 }, 'restrictions.stop_sell'],
  ])('refuses restrictions with %s', (_label, change, path) => {
    expect(
      fieldPaths(schemaErrorFor({ ...UPDATE, restrictions: { ...UPDATE.restrictions, ...change } })),
    ).toEqual([path]);
  });

  it.each([
    [
      'the longest range, a three-decimal currency, no rooms left and unknown restriction fields',
      {
        channel_id: 'CH',
        rate_plan_code: 'BAR',
        room_type_external_id: 'DBL',
        date_range: ['2026-01-01', '2028-01-01'],
        currency: 'KWD',
        base_rate: '12.345',
        inventory_count: 0,
        restrictions: {
          min_length_of_stay: 1,
          max_length_of_stay: 1,
          closed_to_arrival: true,
          closed_to_departure: true,
          stop_sell: false,
          extra: 'kept out',
        },
        unknown: { nested: [1, 'two'] },
      },
      {
        channelId: 'CH',
        roomTypeExternalId: 'DBL',
        ratePlanExternalId: 'BAR',
        dateFrom: '2026-01-01',
        dateTo: '2028-01-01',
        rate: { amountMinor: 12345, currency: 'KWD' },
        availability: 0,
        restrictions: {
          minLengthOfStay: 1,
          maxLengthOfStay: 1,
          closedToArrival: true,
          closedToDeparture: true,
          stopSell: false,
        },
      },
    ],
    [
      'a leap day in yen, the largest inventory and every restriction set',
      {
        event_id: 'e',
        channel_id: 'c',
        property_id: 'p',
        rate_plan_code: 'r',
        room_type_external_id: 't',
        date_range: ['2028-02-29', '2028-02-29'],
        currency: 'JPY',
        base_rate: 12000,
        inventory_count: Number.MAX_SAFE_INTEGER,
        restrictions: {
          min_length_of_stay: 3,
          max_length_of_stay: 14,
          closed_to_arrival: false,
          closed_to_departure: true,
          stop_sell: true,
        },
      },
      {
        channelId: 'c',
        propertyExternalId: 'p',
        roomTypeExternalId: 't',
        ratePlanExternalId: 'r',
        dateFrom: '2028-02-29',
        dateTo: '2028-02-29',
        rate: { amountMinor: 12000, currency: 'JPY' },
        availability: Number.MAX_SAFE_INTEGER,
        restrictions: {
          minLengthOfStay: 3,
          maxLengthOfStay: 14,
          closedToArrival: false,
          closedToDeparture: true,
          stopSell: true,
        },
      },
    ],
  ])('accepts %s', (_label, update, data) => {
    const result = normaliseUpdate(update);
    expect(result.disposition === 'apply' && result.payload.data).toStrictEqual(data);
  });

  it('accepts any upper-case three-letter currency and refuses other spellings', () => {
    expect(() => normaliseUpdate({ ...UPDATE, currency: 'SEK' })).not.toThrow();
    for (const currency of ['eur', 'EURO', 'E1R', '']) {
      expect(fieldPaths(schemaErrorFor({ ...UPDATE, currency }))).toEqual(['currency']);
    }
  });

  it('refuses a body that is not an object', () => {
    expect(fieldPaths(schemaErrorFor([UPDATE] as unknown as Record<string, unknown>))).toEqual(['(root)']);
  });
});

describe('channel-manager sender', () => {
  it('produces samples the adapter accepts, signed with HMAC and with RSA', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const rsa = contextFor(
      {
        id: 'cm-rsa',
        kind: 'channel-manager',
        options: { signature: 'rsa-sha256', publicKeys: [publicKey] },
      },
      [],
    );
    let counter = 0;
    for (const type of channelManagerSender.sampleTypes) {
      const sample = channelManagerSender.sample(type, NOW, () => `id-${++counter}`);
      const body = Buffer.from(JSON.stringify(sample));
      for (const [context, secret] of [
        [hmacContext(), SECRET],
        [rsa, privateKey],
      ] as const) {
        const request = deliveryOf(body, channelManagerSender.sign(body, { secret, at: NOW }));
        const result = channelManagerAdapter.normalise(
          sample,
          request,
          channelManagerAdapter.verify(request, context),
          context,
        );
        expect(result).toMatchObject({
          disposition: 'apply',
          providerEventType: type,
          idempotencyKey: 'id-1',
        });
      }
    }
    expect(
      channelManagerSender.sign(Buffer.from('{}'), { secret: SECRET, at: NOW })['X-Channel-Signature'],
    ).toBe(hmacHex(SECRET, '{}'));
  });
});
