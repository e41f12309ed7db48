import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { otaAdapter } from '../../lambdas/adapters/ota';
import { AuthenticationError, SchemaViolationError } from '../../lambdas/shared/errors';
import { otaSender } from '../../local/senders/ota';
import { contextFor, deliveryOf, fieldPaths, thrown } from './support';

const SECRET = 'Kx93/9R8+Nj2QVmOZW09evPSEQDyUuysTGGiJvh4rVU=';
const NEXT_SECRET = 'FBXbpMRlzImFZfe+zF0SLoW7FSBEza86nA7eX8QtJh4=';

const hmacHex = (secret: string, body: string | Buffer) =>
  createHmac('sha256', secret).update(body).digest('hex');

const otaContext = (secrets: readonly string[] = [SECRET]) =>
  contextFor({ id: 'ota', kind: 'ota', secrets: secrets.map((value) => ({ value })) }, secrets);

const EVENT = {
  event_id: 'ota-1',
  property_id: 'HOTEL001',
  rate_plan_code: 'BAR',
  room_type_code: 'DBL',
  base_rate: 189.5,
  currency: 'USD',
  effective_date: '2026-12-24',
  event_timestamp: '2026-11-01T11:59:00Z',
  availability: 3,
};
const BODY = JSON.stringify(EVENT);

const signed = (body = BODY, secret = SECRET) =>
  deliveryOf(body, { 'X-OTA-Signature': hmacHex(secret, body) });

function normaliseEvent(event: unknown) {
  const body = JSON.stringify(event);
  const request = signed(body);
  const context = otaContext();
  return otaAdapter.normalise(JSON.parse(body), request, otaAdapter.verify(request, context), context);
}

function schemaErrorFor(event: Record<string, unknown>) {
  const error = thrown(() => normaliseEvent(event));
  expect(error).toBeInstanceOf(SchemaViolationError);
  return error;
}

describe('OTA verification', () => {
  it('declares that its signature covers no timestamp', () => {
    expect(otaAdapter.signsTimestamp).toBe(false);
    expect(otaAdapter.eventTypes).toEqual(['rate_update']);
  });

  it('accepts a hex HMAC-SHA256 of the raw body in either case', () => {
    expect(otaAdapter.verify(signed(), otaContext())).toEqual({});
    const upper = deliveryOf(BODY, { 'x-ota-signature': hmacHex(SECRET, BODY).toUpperCase() });
    expect(() => otaAdapter.verify(upper, otaContext())).not.toThrow();
  });

  it('refuses a delivery without the signature header with 401 missing_signature', () => {
    const error = thrown(() => otaAdapter.verify(deliveryOf(BODY, {}), otaContext()));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'missing_signature']);
  });

  it.each([
    ['truncated', (hex: string) => hex.slice(0, 63)],
    ['prefixed with its scheme', (hex: string) => `sha256=${hex}`],
    ['in base64', (hex: string) => Buffer.from(hex, 'hex').toString('base64')],
    ['one hex digit changed', (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1)],
  ])('refuses a signature %s', (_label, mangle) => {
    const request = deliveryOf(BODY, { 'x-ota-signature': mangle(hmacHex(SECRET, BODY)) });
    const error = thrown(() => otaAdapter.verify(request, otaContext()));
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'invalid_signature']);
  });

  it('refuses a signature made with another secret', () => {
    expect(thrown(() => otaAdapter.verify(signed(BODY, 'wrong'), otaContext())).code).toBe(
      'invalid_signature',
    );
  });

  it('accepts the second secret while rotating, and only while it is configured', () => {
    expect(() =>
      otaAdapter.verify(signed(BODY, NEXT_SECRET), otaContext([SECRET, NEXT_SECRET])),
    ).not.toThrow();
    expect(thrown(() => otaAdapter.verify(signed(BODY, NEXT_SECRET), otaContext([SECRET]))).code).toBe(
      'invalid_signature',
    );
  });

  it('refuses a body altered by one byte', () => {
    const request = signed();
    const altered = Buffer.from(request.rawBody);
    altered[altered.length - 2] = '4'.charCodeAt(0);
    expect(thrown(() => otaAdapter.verify({ ...request, rawBody: altered }, otaContext())).code).toBe(
      'invalid_signature',
    );
  });
});

describe('OTA normalisation', () => {
  it('produces a one-day ARI update dated by the payload', () => {
    expect(normaliseEvent(EVENT)).toStrictEqual({
      disposition: 'apply',
      providerEventType: 'rate_update',
      idempotencyKey: 'ota-1',
      occurredAt: new Date('2026-11-01T11:59:00Z'),
      payload: {
        type: 'ari.update',
        data: {
          propertyExternalId: 'HOTEL001',
          ratePlanExternalId: 'BAR',
          roomTypeExternalId: 'DBL',
          dateFrom: '2026-12-24',
          dateTo: '2026-12-24',
          rate: { amountMinor: 18950, currency: 'USD' },
          availability: 3,
        },
      },
    });
  });

  it('keys an event without an id on the hash of the raw body, and omits absent optionals', () => {
    const { event_id: _id, availability: _availability, ...minimal } = EVENT;
    const body = JSON.stringify(minimal);
    const request = signed(body);
    const context = otaContext();
    const result = otaAdapter.normalise(minimal, request, otaAdapter.verify(request, context), context);
    expect(result.idempotencyKey).toBe(createHash('sha256').update(body).digest('hex'));
    expect(result.disposition === 'apply' && Object.keys(result.payload.data).sort()).toEqual([
      'dateFrom',
      'dateTo',
      'propertyExternalId',
      'rate',
      'ratePlanExternalId',
      'roomTypeExternalId',
    ]);
  });

  it.each([
    [
      'a leap day and a timestamp with microseconds and an offset',
      {
        property_id: 'P',
        rate_plan_code: 'R',
        room_type_code: 'X',
        base_rate: 99.5,
        currency: 'USD',
        effective_date: '2028-02-29',
        event_timestamp: '2026-11-01T13:00:00.123456+01:00',
      },
      '2026-11-01T12:00:00.123Z',
      {
        propertyExternalId: 'P',
        roomTypeExternalId: 'X',
        ratePlanExternalId: 'R',
        dateFrom: '2028-02-29',
        dateTo: '2028-02-29',
        rate: { amountMinor: 9950, currency: 'USD' },
      },
    ],
    [
      'a yen rate as a string, no rooms left, a lower-case t and z, and unknown fields',
      {
        event_id: 'ota-2',
        property_id: 'P',
        rate_plan_code: 'R',
        room_type_code: 'X',
        base_rate: '12000',
        currency: 'JPY',
        effective_date: '2026-12-31',
        event_timestamp: '2026-11-01t11:00:00z',
        availability: 0,
        extra: { nested: true },
      },
      '2026-11-01T11:00:00.000Z',
      {
        propertyExternalId: 'P',
        roomTypeExternalId: 'X',
        ratePlanExternalId: 'R',
        dateFrom: '2026-12-31',
        dateTo: '2026-12-31',
        rate: { amountMinor: 12000, currency: 'JPY' },
        availability: 0,
      },
    ],
  ])('accepts %s', (_label, event, occurredAt, data) => {
    const result = normaliseEvent(event);
    expect(result.occurredAt.toISOString()).toBe(occurredAt);
    expect(result.disposition === 'apply' && result.payload.data).toStrictEqual(data);
  });

  it('reads event_timestamp with an offset as the same instant in UTC', () => {
    const result = normaliseEvent({ ...EVENT, event_timestamp: '2026-11-01T13:59:00.250+02:00' });
    expect(result.occurredAt.toISOString()).toBe('2026-11-01T11:59:00.250Z');
  });

  it.each([
    [129.99, 12999],
    ['0.10', 10],
    [1000000, 100000000],
  ])('converts base_rate %j to %i cents exactly', (baseRate, amountMinor) => {
    const result = normaliseEvent({ ...EVENT, base_rate: baseRate });
    expect(result.disposition === 'apply' && result.payload.data).toMatchObject({ rate: { amountMinor } });
  });

  it.each([
    ['0.1 + 0.2', 0.1 + 0.2],
    ['1e-7', 1e-7],
    ['0', 0],
    ['-1', -1],
    ['"12.345"', '12.345'],
    ['"1,5"', '1,5'],
  ])('refuses base_rate %s naming base_rate', (_label, baseRate) => {
    expect(fieldPaths(schemaErrorFor({ ...EVENT, base_rate: baseRate }))).toEqual(['base_rate']);
  });

  it.each([
    ['event_timestamp', '2026-11-01T11:59:00'],
    ['event_timestamp', '2026-11-01'],
    ['event_timestamp', '2026-02-30T10:00:00Z'],
    ['event_timestamp', '2026-11-01T24:00:00Z'],
    ['effective_date', '2026-02-30'],
    ['effective_date', '2026-12-24T00:00:00Z'],
    ['currency', 'usd'],
    ['availability', -1],
    ['availability', 1.5],
    ['property_id', ''],
    ['room_type_code', 7],
    ['room_type_code', ''],
    ['room_type_code', null],
  ])('refuses %s = %j', (field, value) => {
    expect(fieldPaths(schemaErrorFor({ ...EVENT, [field]: value }))).toEqual([field]);
  });

  it.each(['property_id', 'rate_plan_code', 'base_rate', 'currency', 'effective_date', 'event_timestamp'])(
    'requires %s',
    (field) => {
      const event: Record<string, unknown> = { ...EVENT };
      delete event[field];
      expect(fieldPaths(schemaErrorFor(event))).toEqual([field]);
    },
  );
});

describe('OTA rate events without a room type', () => {
  // Every ARI update is stored per room type, so apply could only ever reject one without it.
  it('refuses them at the edge with 422 naming room_type_code', () => {
    const { room_type_code: _room, ...event } = EVENT;
    const error = schemaErrorFor(event);
    expect([error.name, error.code]).toEqual(['SchemaViolationError', 'schema_violation']);
    expect(fieldPaths(error)).toEqual(['room_type_code']);
    expect(error.message).toContain('room_type_code');
  });
});

describe('OTA sender', () => {
  it('produces samples the adapter accepts, signed as lower-case hex', () => {
    const now = new Date('2026-11-01T11:58:00Z');
    for (const type of otaSender.sampleTypes) {
      const sample = otaSender.sample(type, now, () => 'sample-1');
      const body = Buffer.from(JSON.stringify(sample));
      const headers = otaSender.sign(body, { secret: SECRET, at: now });
      expect(headers['X-OTA-Signature']).toBe(hmacHex(SECRET, body));
      const request = deliveryOf(body, headers);
      const context = otaContext();
      const result = otaAdapter.normalise(sample, request, otaAdapter.verify(request, context), context);
      expect(result).toMatchObject({ disposition: 'apply', providerEventType: type, occurredAt: now });
    }
  });
});
