import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pmsAdapter } from '../../lambdas/adapters/pms';
import { AuthenticationError, SchemaViolationError } from '../../lambdas/shared/errors';
import { pmsSender } from '../../local/senders/pms';
import { contextFor, deliveryOf, fieldPaths, thrown } from './support';

const SECRET = 'nDieONxsvEg1O5f67RYnMRdX6XAOjxWjKC4jpJWtDGg=';
const NEXT_SECRET = '8qHMsQhN7uNycGJTuKFawxArivoblIP91tYgYWZkWHw=';

const hmacHex = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

const pmsContext = (secrets: readonly string[] = [SECRET]) =>
  contextFor({ id: 'pms', kind: 'pms', secrets: secrets.map((value) => ({ value })) }, secrets);

const TIMESTAMP = '2026-11-01T10:30:00Z';

const PERSONAL = {
  firstName: 'Bartholomew',
  lastName: 'Quennell',
  email: 'b.quennell@example.org',
  phone: '+442079460958',
  salutation: 'Dr',
  dateOfBirth: '1971-03-09',
};

const GUEST_CREATED = {
  event: 'guest.created',
  timestamp: TIMESTAMP,
  data: { hotelCode: 'HOTEL001', reservationId: 12345, guest: { id: 'guest-123', ...PERSONAL } },
  metadata: { source: 'pms-api', version: '1.0' },
};

const signed = (body: string, secret = SECRET) =>
  deliveryOf(body, { 'X-Webhook-Signature': hmacHex(secret, body) });

function normaliseEnvelope(envelope: unknown) {
  const body = JSON.stringify(envelope);
  const request = signed(body);
  const context = pmsContext();
  return pmsAdapter.normalise(JSON.parse(body), request, pmsAdapter.verify(request, context), context);
}

function canonicalOf(envelope: unknown) {
  const result = normaliseEnvelope(envelope);
  if (result.disposition !== 'apply') throw new Error('expected the event to be applied');
  return result.payload;
}

function schemaErrorFor(envelope: unknown) {
  const error = thrown(() => normaliseEnvelope(envelope));
  expect(error).toBeInstanceOf(SchemaViolationError);
  return error;
}

const handshake = (body: string | Buffer) => pmsAdapter.isHandshake?.(deliveryOf(body, {}), pmsContext());

describe('PMS verification', () => {
  const body = JSON.stringify(GUEST_CREATED);

  it('accepts a hex HMAC-SHA256 of the raw body in lower or upper case', () => {
    expect(pmsAdapter.verify(signed(body), pmsContext())).toEqual({});
    const upper = deliveryOf(body, { 'x-webhook-signature': hmacHex(SECRET, body).toUpperCase() });
    expect(() => pmsAdapter.verify(upper, pmsContext())).not.toThrow();
  });

  it('refuses a delivery without the signature header with 401 missing_signature', () => {
    const error = thrown(() => pmsAdapter.verify(deliveryOf(body, {}), pmsContext()));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'missing_signature']);
  });

  it('refuses a truncated signature', () => {
    const request = deliveryOf(body, { 'x-webhook-signature': hmacHex(SECRET, body).slice(0, 32) });
    expect(thrown(() => pmsAdapter.verify(request, pmsContext())).code).toBe('invalid_signature');
  });

  it('refuses a signature made with another secret', () => {
    const error = thrown(() => pmsAdapter.verify(signed(body, 'other'), pmsContext()));
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'invalid_signature']);
  });

  it('accepts the second secret while rotating', () => {
    expect(() =>
      pmsAdapter.verify(signed(body, NEXT_SECRET), pmsContext([SECRET, NEXT_SECRET])),
    ).not.toThrow();
  });

  it('refuses a body re-serialised after signing (whitespace is part of the signed bytes)', () => {
    const request = signed(body);
    const reformatted = Buffer.from(JSON.stringify(GUEST_CREATED, null, 1));
    expect(thrown(() => pmsAdapter.verify({ ...request, rawBody: reformatted }, pmsContext())).code).toBe(
      'invalid_signature',
    );
  });

  it('refuses a body altered by one byte', () => {
    const request = signed(body);
    const altered = Buffer.from(request.rawBody);
    altered[altered.indexOf('12345')] = '9'.charCodeAt(0);
    expect(thrown(() => pmsAdapter.verify({ ...request, rawBody: altered }, pmsContext())).code).toBe(
      'invalid_signature',
    );
  });
});

describe('PMS guest events', () => {
  it('keeps only references: the guest id, hotel and reservation', () => {
    expect(canonicalOf(GUEST_CREATED)).toStrictEqual({
      type: 'guest.change',
      data: {
        guestExternalId: 'guest-123',
        change: 'created',
        propertyExternalId: 'HOTEL001',
        reservationExternalId: '12345',
      },
    });
  });

  it.each(['guest.created', 'guest.updated'])('carries none of the personal data of %s', (event) => {
    const result = normaliseEnvelope({ ...GUEST_CREATED, event });
    const serialised = JSON.stringify(result);
    for (const value of Object.values(PERSONAL)) expect(serialised).not.toContain(value);
    for (const key of Object.keys(PERSONAL)) expect(serialised).not.toContain(key);
  });

  it('reads guest.deleted with and without a reservation', () => {
    const deleted = {
      event: 'guest.deleted',
      timestamp: TIMESTAMP,
      data: { hotelCode: 'H1', guestId: 'g-9' },
    };
    expect(canonicalOf(deleted)).toStrictEqual({
      type: 'guest.change',
      data: { guestExternalId: 'g-9', change: 'deleted', propertyExternalId: 'H1' },
    });
    expect(canonicalOf({ ...deleted, data: { ...deleted.data, reservationId: 77 } }).data).toMatchObject({
      reservationExternalId: '77',
    });
  });

  it.each([
    [
      'integer ids, zero included, a negative offset and null metadata',
      {
        event: 'guest.updated',
        timestamp: '2026-11-01T12:00:00-05:30',
        data: { hotelCode: 'H', reservationId: 12345, guest: { id: 0 } },
        metadata: null,
      },
      '2026-11-01T17:30:00.000Z',
      { guestExternalId: '0', change: 'updated', propertyExternalId: 'H', reservationExternalId: '12345' },
    ],
    [
      'a deletion with a null reservation and an integer guest id',
      {
        event: 'guest.deleted',
        timestamp: '2026-11-01T12:00:00Z',
        data: { hotelCode: 'H', reservationId: null, guestId: 7 },
      },
      '2026-11-01T12:00:00.000Z',
      { guestExternalId: '7', change: 'deleted', propertyExternalId: 'H' },
    ],
  ])('accepts %s', (_label, envelope, occurredAt, data) => {
    const result = normaliseEnvelope(envelope);
    expect(result.occurredAt.toISOString()).toBe(occurredAt);
    expect(result.disposition === 'apply' && result.payload).toStrictEqual({ type: 'guest.change', data });
  });

  it('requires the guest id', () => {
    const error = schemaErrorFor({ ...GUEST_CREATED, data: { ...GUEST_CREATED.data, guest: PERSONAL } });
    expect(fieldPaths(error)).toEqual(['data.guest.id']);
  });
});

describe('PMS reservation events', () => {
  const RESERVATION = {
    event: 'reservation.created',
    timestamp: TIMESTAMP,
    data: {
      hotelCode: 'HOTEL001',
      reservationId: 'R-1',
      arrivalDate: '2026-12-20',
      departureDate: '2026-12-23',
      roomType: 'DBL',
      roomNumber: 101,
      channel: 'booking.com',
      guest: { id: 'guest-123', ...PERSONAL },
      rateAmount: 300,
    },
  };

  it.each([
    ['reservation.created', 'confirmed'],
    ['reservation.updated', 'modified'],
    ['reservation.cancelled', 'cancelled'],
    ['reservation.checked_in', 'checked_in'],
    ['reservation.checked_out', 'checked_out'],
  ])('maps %s to status %s', (event, status) => {
    expect(canonicalOf({ ...RESERVATION, event })).toStrictEqual({
      type: 'reservation.change',
      data: {
        reservationExternalId: 'R-1',
        propertyExternalId: 'HOTEL001',
        status,
        arrivalDate: '2026-12-20',
        departureDate: '2026-12-23',
        roomTypeExternalId: 'DBL',
        roomNumber: '101',
        channel: 'booking.com',
        guestExternalId: 'guest-123',
      },
    });
  });

  it('drops a guest object embedded in a reservation down to its id', () => {
    const serialised = JSON.stringify(normaliseEnvelope(RESERVATION));
    for (const value of Object.values(PERSONAL)) expect(serialised).not.toContain(value);
  });

  it('reads the minimal checked_in payload of the PMS documentation, treating null as absent', () => {
    const checkedIn = {
      event: 'reservation.checked_in',
      timestamp: '2024-01-15T14:00:00Z',
      data: {
        hotelCode: 'HOTEL001',
        reservationId: 12345,
        checkInTime: '2024-01-15T14:00:00Z',
        roomNumber: '101',
        channel: null,
      },
    };
    const result = normaliseEnvelope(checkedIn);
    expect(result.occurredAt.toISOString()).toBe('2024-01-15T14:00:00.000Z');
    expect(result.disposition === 'apply' && result.payload).toStrictEqual({
      type: 'reservation.change',
      data: {
        reservationExternalId: '12345',
        propertyExternalId: 'HOTEL001',
        status: 'checked_in',
        roomNumber: '101',
      },
    });
  });

  it('accepts an embedded guest that has no id yet, without carrying any of it', () => {
    const data = { ...RESERVATION.data, guest: { ...PERSONAL } };
    const payload = canonicalOf({ ...RESERVATION, data });
    expect(payload.data).not.toHaveProperty('guestExternalId');
    expect(JSON.stringify(payload)).not.toContain(PERSONAL.email);
  });

  it.each([
    [
      'every optional field null, integer ids, an embedded guest without an id and a fractional second',
      {
        event: 'reservation.updated',
        timestamp: '2026-11-01T12:00:00.5Z',
        data: {
          hotelCode: 'H',
          reservationId: 42,
          arrivalDate: null,
          departureDate: null,
          roomType: null,
          roomNumber: 101,
          channel: null,
          guestId: 55,
          guest: { id: null },
        },
        metadata: {},
      },
      '2026-11-01T12:00:00.500Z',
      {
        reservationExternalId: '42',
        propertyExternalId: 'H',
        status: 'modified',
        roomNumber: '101',
        guestExternalId: '55',
      },
    ],
    [
      'a departure on the arrival date',
      {
        event: 'reservation.created',
        timestamp: '2026-11-01T12:00:00Z',
        data: {
          hotelCode: 'H',
          reservationId: 'R',
          arrivalDate: '2026-12-01',
          departureDate: '2026-12-01',
          roomNumber: '12A',
          guest: { id: 'g-1', firstName: 'dropped' },
        },
      },
      '2026-11-01T12:00:00.000Z',
      {
        reservationExternalId: 'R',
        propertyExternalId: 'H',
        status: 'confirmed',
        arrivalDate: '2026-12-01',
        departureDate: '2026-12-01',
        roomNumber: '12A',
        guestExternalId: 'g-1',
      },
    ],
    [
      'an arrival without a departure and an empty embedded guest',
      {
        event: 'reservation.cancelled',
        timestamp: '2026-11-01T12:00:00Z',
        data: { hotelCode: 'H', reservationId: 'R', arrivalDate: '2026-12-01', guest: {} },
      },
      '2026-11-01T12:00:00.000Z',
      { reservationExternalId: 'R', propertyExternalId: 'H', status: 'cancelled', arrivalDate: '2026-12-01' },
    ],
  ])('accepts %s', (_label, envelope, occurredAt, data) => {
    const result = normaliseEnvelope(envelope);
    expect(result.occurredAt.toISOString()).toBe(occurredAt);
    expect(result.disposition === 'apply' && result.payload).toStrictEqual({
      type: 'reservation.change',
      data,
    });
  });

  it('refuses a departure before the arrival, and impossible dates', () => {
    expect(
      fieldPaths(
        schemaErrorFor({ ...RESERVATION, data: { ...RESERVATION.data, departureDate: '2026-12-19' } }),
      ),
    ).toEqual(['data.departureDate']);
    expect(
      fieldPaths(
        schemaErrorFor({ ...RESERVATION, data: { ...RESERVATION.data, arrivalDate: '2026-02-29' } }),
      ),
    ).toEqual(['data.arrivalDate']);
  });

  it.each([
    ['a negative id', -1],
    ['a fractional id', 1.5],
    ['an empty id', ''],
    ['an object', { id: 1 }],
  ])('refuses %s as reservationId', (_label, reservationId) => {
    expect(
      fieldPaths(schemaErrorFor({ ...RESERVATION, data: { ...RESERVATION.data, reservationId } })),
    ).toEqual(['data.reservationId']);
  });
});

describe('PMS service events', () => {
  it('carries the message of service.token_expired as the detail', () => {
    expect(
      canonicalOf({
        event: 'service.token_expired',
        timestamp: TIMESTAMP,
        data: { message: 'expires in 7 days' },
      }),
    ).toStrictEqual({
      type: 'service.notice',
      data: { notice: 'token_expired', detail: 'expires in 7 days' },
    });
  });

  it('falls back to the operation of service.access_revoked, and omits a detail it does not have', () => {
    expect(
      canonicalOf({
        event: 'service.access_revoked',
        timestamp: TIMESTAMP,
        data: { operation: 'guests.read' },
      }),
    ).toStrictEqual({ type: 'service.notice', data: { notice: 'access_revoked', detail: 'guests.read' } });
    expect(
      canonicalOf({ event: 'service.access_revoked', timestamp: TIMESTAMP, data: { code: 7 } }),
    ).toStrictEqual({
      type: 'service.notice',
      data: { notice: 'access_revoked' },
    });
  });
});

describe('PMS envelope', () => {
  it('keys every event on the hash of its raw bytes and dates it by its timestamp', () => {
    const body = JSON.stringify({ ...GUEST_CREATED, timestamp: '2026-11-01T12:30:00+02:00' });
    const request = signed(body);
    const context = pmsContext();
    const result = pmsAdapter.normalise(
      JSON.parse(body),
      request,
      pmsAdapter.verify(request, context),
      context,
    );
    expect(result.idempotencyKey).toBe(createHash('sha256').update(body).digest('hex'));
    expect(result.occurredAt.toISOString()).toBe('2026-11-01T10:30:00.000Z');
    expect(result.providerEventType).toBe('guest.created');
  });

  it('refuses an event type the PMS does not define with 422 unknown_event_type on event', () => {
    const error = schemaErrorFor({ ...GUEST_CREATED, event: 'guest.merged' });
    expect(error.code).toBe('unknown_event_type');
    expect(fieldPaths(error)).toEqual(['event']);
  });

  it('lists every documented event type', () => {
    expect([...pmsAdapter.eventTypes].sort()).toEqual(
      [
        'guest.created',
        'guest.updated',
        'guest.deleted',
        'reservation.created',
        'reservation.updated',
        'reservation.cancelled',
        'reservation.checked_in',
        'reservation.checked_out',
        'service.token_expired',
        'service.access_revoked',
      ].sort(),
    );
  });

  it.each([
    ['event', { ...GUEST_CREATED, event: 5 }],
    ['timestamp', { ...GUEST_CREATED, timestamp: '2026-11-01 10:30:00' }],
    ['timestamp', { ...GUEST_CREATED, timestamp: undefined }],
    ['data', { ...GUEST_CREATED, data: 'x' }],
    ['metadata', { ...GUEST_CREATED, metadata: [] }],
    ['data.hotelCode', { ...GUEST_CREATED, data: { ...GUEST_CREATED.data, hotelCode: '' } }],
  ])('names %s when the envelope breaks it', (path, envelope) => {
    expect(fieldPaths(schemaErrorFor(envelope))).toEqual([path]);
  });
});

describe('PMS endpoint verification request', () => {
  it.each([
    ['an empty body', ''],
    ['whitespace', ' \r\n\t '],
    ['an empty object', '{}'],
    ['an object naming no event', '{"type":"verification","challenge":"abc"}'],
    ['an object whose only "event" key is nested', '{"test":{"event":"x"}}'],
    ['an object with "event" only as a value', '{"kind":"event"}'],
    ['whitespace longer than the fast path reads', `${' '.repeat(200)}{}`],
  ])('recognises %s', (_label, body) => {
    expect(handshake(body)).toBe(true);
  });

  it.each([
    ['a real event', JSON.stringify(GUEST_CREATED)],
    [
      'a real event with event as a later key',
      JSON.stringify({ timestamp: TIMESTAMP, event: 'guest.created', data: {} }),
    ],
    ['an event key with any value', '{"event":null}'],
    [
      'a delivery that lost its event name but carries data',
      '{"timestamp":"2026-01-01T00:00:00Z","data":{}}',
    ],
    ['an array', '[]'],
    ['null', 'null'],
    ['a string', '"ping"'],
    ['invalid JSON', '{"ping":'],
    ['invalid JSON that starts like an event', '{"event": oops'],
  ])('does not take %s for one', (_label, body) => {
    expect(handshake(body)).toBe(false);
  });

  it('never throws, whatever the bytes', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(i % 50);
      expect(typeof handshake(bytes)).toBe('boolean');
    }
    expect(handshake(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]))).toBe(false);
  });
});

describe('PMS sender', () => {
  it('offers a sample of every event type, each accepted by the adapter and not taken for a probe', () => {
    expect([...pmsSender.sampleTypes].sort()).toEqual([...pmsAdapter.eventTypes].sort());
    const now = new Date('2026-11-01T11:58:00Z');
    let counter = 0;
    for (const type of pmsSender.sampleTypes) {
      const sample = pmsSender.sample(type, now, () => String(++counter));
      const body = Buffer.from(JSON.stringify(sample));
      const headers = pmsSender.sign(body, { secret: SECRET, at: now });
      expect(headers['X-Webhook-Signature']).toBe(hmacHex(SECRET, body.toString()));
      const request = deliveryOf(body, headers);
      const context = pmsContext();
      expect(pmsAdapter.isHandshake?.(request, context)).toBe(false);
      const result = pmsAdapter.normalise(sample, request, pmsAdapter.verify(request, context), context);
      expect(result).toMatchObject({ disposition: 'apply', providerEventType: type, occurredAt: now });
      expect(JSON.stringify(result)).not.toContain('Example');
    }
  });
});
