import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hospitableAdapter } from '../../lambdas/adapters/hospitable';
import type { DeliveryRequest, VerificationContext } from '../../lambdas/adapters/types';
import { SourceConfigSchema } from '../../lambdas/config/schema';
import { fixedClock } from '../../lambdas/shared/clock';
import { nodeCrypto } from '../../lambdas/shared/crypto';
import { type ParitySyncError, SchemaViolationError } from '../../lambdas/shared/errors';
import { hospitableSender, ulid } from '../../local/senders/hospitable';

const NOW = new Date('2026-06-01T12:00:00Z');
const SECRET = 'w9lXXoB8tRS+SsLlKksTWpFgQ58yVph5AQGrsWlQCM8=';
const PERSONAL_SECRET = Buffer.from('host@example.com').toString('base64');

const source = SourceConfigSchema.parse({
  id: 'hospitable',
  kind: 'hospitable',
  secrets: [{ value: SECRET }],
});

function contextWith(secrets: readonly string[] = [SECRET]): VerificationContext {
  return { source, secrets, toleranceSeconds: 300, clock: fixedClock(NOW), crypto: nodeCrypto };
}

const guest = {
  first_name: 'Grace',
  last_name: 'Hopperton',
  email: 'grace.hopperton@example.org',
  phone_numbers: ['+15555550123'],
  date_of_birth: '1980-12-09',
};

const reservation = {
  id: '01HZX4K9V6Q3M8T2R5N7P1W0YB',
  action: 'reservation.created',
  data: {
    id: 'res-uuid-1',
    platform: 'airbnb',
    arrival_date: '2026-06-14T16:00:00-04:00',
    // 23:30 at -04:00 is already the 18th in UTC; the stay date is the 17th as written.
    departure_date: '2026-06-17T23:30:00-04:00',
    reservation_status: { current: { category: 'accepted', sub_category: null } },
    properties: [{ id: 'prop-1', name: 'Seaside Loft' }],
    guest,
    notes: 'Guest Grace Hopperton asked for a crib',
  },
  created: '2026-06-01T09:35:24Z',
  version: '1.0',
};
const BODY = Buffer.from(JSON.stringify(reservation));

function hexHmac(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

function request(signature: string | undefined, body = BODY): DeliveryRequest {
  return { headers: { 'content-type': 'application/json', signature }, rawBody: body };
}

function refusal(action: () => unknown): ParitySyncError {
  try {
    action();
  } catch (error) {
    return error as ParitySyncError;
  }
  throw new Error('expected a refusal');
}

function normalise(body: unknown) {
  return hospitableAdapter.normalise(body, request('unused'), {}, contextWith());
}

function dataOf(body: unknown): unknown {
  const result = normalise(body);
  return result.disposition === 'apply' ? result.payload.data : undefined;
}

function fieldsOf(action: () => unknown): string[] {
  const error = refusal(action);
  expect(error).toBeInstanceOf(SchemaViolationError);
  return (error as SchemaViolationError).fields.map((f) => f.path);
}

describe('hospitable adapter: verify', () => {
  it('accepts a lower-case hex HMAC of the raw body, and reports no signed time', () => {
    expect(hospitableAdapter.signsTimestamp).toBe(false);
    expect(hospitableAdapter.verify(request(hexHmac(SECRET, BODY)), contextWith())).toEqual({});
  });

  it('accepts upper-case hex', () => {
    expect(() =>
      hospitableAdapter.verify(request(hexHmac(SECRET, BODY).toUpperCase()), contextWith()),
    ).not.toThrow();
  });

  it("accepts a personal account's secret, its e-mail address in base64, used as the key text", () => {
    const signature = hexHmac(PERSONAL_SECRET, BODY);
    expect(() => hospitableAdapter.verify(request(signature), contextWith([PERSONAL_SECRET]))).not.toThrow();
  });

  it('refuses a missing Signature header with 401 missing_signature', () => {
    const error = refusal(() => hospitableAdapter.verify(request(undefined), contextWith()));
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'missing_signature']);
  });

  it.each([
    ['truncated', hexHmac(SECRET, BODY).slice(0, -1)],
    ['prefixed with its algorithm', `sha256=${hexHmac(SECRET, BODY)}`],
    ['base64 instead of hex', createHmac('sha256', SECRET).update(BODY).digest('base64')],
    ['made with another secret', hexHmac('another-secret', BODY)],
  ])('refuses a signature %s with 401 invalid_signature', (_what, signature) => {
    const error = refusal(() => hospitableAdapter.verify(request(signature), contextWith()));
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'invalid_signature']);
  });

  it('refuses a body altered by one byte after signing', () => {
    const altered = Buffer.from(BODY.toString('utf8').replace('prop-1', 'prop-2'));
    const error = refusal(() =>
      hospitableAdapter.verify(request(hexHmac(SECRET, BODY), altered), contextWith()),
    );
    expect(error.code).toBe('invalid_signature');
  });

  it('verifies with any configured secret, so secrets can be rotated', () => {
    const context = contextWith(['new-secret', SECRET]);
    expect(() => hospitableAdapter.verify(request(hexHmac(SECRET, BODY)), context)).not.toThrow();
    expect(() => hospitableAdapter.verify(request(hexHmac('new-secret', BODY)), context)).not.toThrow();
  });
});

describe('hospitable adapter: envelope', () => {
  it('keys the event by its ULID and dates it by created', () => {
    const result = normalise(reservation);
    expect(result.idempotencyKey).toBe('01HZX4K9V6Q3M8T2R5N7P1W0YB');
    expect(result.occurredAt).toEqual(new Date('2026-06-01T09:35:24Z'));
    expect(result.providerEventType).toBe('reservation.created');
  });

  it('accepts a lower-case ULID and keys it in canonical upper case', () => {
    expect(normalise({ ...reservation, id: reservation.id.toLowerCase() }).idempotencyKey).toBe(
      reservation.id,
    );
  });

  it.each([
    ['25 characters', '01HZX4K9V6Q3M8T2R5N7P1W0Y'],
    ['27 characters', '01HZX4K9V6Q3M8T2R5N7P1W0YBB'],
    ['an I', '01HZX4K9V6Q3M8T2R5N7P1W0YI'],
    ['an L', '01HZX4K9V6Q3M8T2R5N7P1W0YL'],
    ['an O', '01HZX4K9V6Q3M8T2R5N7P1W0YO'],
    ['a U', '01HZX4K9V6Q3M8T2R5N7P1W0YU'],
    ['a first character above 7 (more than 128 bits)', '81HZX4K9V6Q3M8T2R5N7P1W0YB'],
    ['a UUID', '9a2c0f0a-7d1e-4b8c-9f3e-2a6b1c0d'],
    ['a hyphen', '01HZX4K9V6Q3M8T2R5N7P1W0-B'],
  ])('refuses an id with %s', (_what, id) => {
    expect(fieldsOf(() => normalise({ ...reservation, id }))).toEqual(['id']);
  });

  it.each([
    ['created without a zone', { created: '2026-06-01T09:35:24' }, ['created']],
    ['created as unix seconds', { created: 1780000000 }, ['created']],
    ['no version', { version: undefined }, ['version']],
    ['a numeric version', { version: 1 }, ['version']],
    ['data that is a string', { data: 'reservation' }, ['data']],
  ])('refuses an envelope with %s', (_what, change, fields) => {
    expect(fieldsOf(() => normalise(JSON.parse(JSON.stringify({ ...reservation, ...change }))))).toEqual(
      fields,
    );
  });

  it('refuses an action the platform does not define', () => {
    const error = refusal(() => normalise({ ...reservation, action: 'reservation.deleted' }));
    expect([error.name, error.code]).toEqual(['SchemaViolationError', 'unknown_event_type']);
  });

  it('refuses a body without an action', () => {
    const { action: _dropped, ...rest } = reservation;
    expect(fieldsOf(() => normalise(rest))).toEqual(['action']);
  });
});

describe('hospitable adapter: reservations', () => {
  it('keeps references and stay dates as written, and nothing about the guest', () => {
    const result = normalise(reservation);
    expect(result.disposition === 'apply' && result.payload).toStrictEqual({
      type: 'reservation.change',
      data: {
        reservationExternalId: 'res-uuid-1',
        propertyExternalId: 'prop-1',
        status: 'confirmed',
        arrivalDate: '2026-06-14',
        departureDate: '2026-06-17',
        channel: 'airbnb',
      },
    });
    const serialised = JSON.stringify(result);
    for (const personal of ['Grace', 'Hopperton', 'example.org', '5555550123', '1980-12-09', 'crib']) {
      expect(serialised).not.toContain(personal);
    }
  });

  it('prefers property_id over the properties list', () => {
    const data = { ...reservation.data, property_id: 'prop-direct' };
    expect(dataOf({ ...reservation, data })).toMatchObject({ propertyExternalId: 'prop-direct' });
  });

  it('omits what the payload does not carry, with no undefined keys', () => {
    expect(
      dataOf({ ...reservation, data: { id: 'res-2', property_id: null, platform: null } }),
    ).toStrictEqual({
      reservationExternalId: 'res-2',
      status: 'confirmed',
    });
  });

  it.each([
    ['reservation.created', { category: 'accepted' }, 'confirmed'],
    ['reservation.created', { category: 'request', sub_category: 'pending' }, 'confirmed'],
    ['reservation.updated', { category: 'accepted' }, 'modified'],
    ['reservation.updated', { category: 'cancelled', sub_category: 'cancelled_by_host' }, 'cancelled'],
    ['reservation.updated', { category: 'not accepted', sub_category: 'declined' }, 'cancelled'],
    ['reservation.updated', { category: 'request', sub_category: 'expired' }, 'cancelled'],
    ['reservation.updated', { category: 'accepted', sub_category: 'checked_in' }, 'checked_in'],
    ['reservation.updated', 'checked_out', 'checked_out'],
    ['reservation.updated', 'Canceled', 'cancelled'],
    ['reservation.created', null, 'confirmed'],
  ] as const)('maps %s with status %j to %s', (action, current, status) => {
    const data = { id: 'res-3', reservation_status: { current } };
    expect(dataOf({ ...reservation, action, data })).toMatchObject({ status });
  });

  it.each([
    [
      'a lower-case ULID, null and missing property ids, a departure as a local time and both status fields',
      {
        id: '01gtkd6zyfvqmr0rwp4hbbhnzc',
        action: 'reservation.created',
        created: '2026-11-01T12:00:00Z',
        version: '2.0',
        data: {
          id: 'r',
          property_id: 'p',
          properties: [{ id: null }, {}],
          arrival_date: '2026-12-01',
          departure_date: '2026-12-01 11:00',
          reservation_status: { current: 'accepted' },
          status: 'cancelled',
          platform: null,
        },
      },
      '01GTKD6ZYFVQMR0RWP4HBBHNZC',
      '2026-11-01T12:00:00.000Z',
      {
        reservationExternalId: 'r',
        status: 'confirmed',
        propertyExternalId: 'p',
        arrivalDate: '2026-12-01',
        departureDate: '2026-12-01',
      },
    ],
    [
      'the largest ULID, nanoseconds at +14:00, null fields and an empty status category',
      {
        id: '7ZZZZZZZZZZZZZZZZZZZZZZZZZ',
        action: 'reservation.updated',
        created: '2026-11-01T12:00:00.999999999+14:00',
        version: 'v',
        data: {
          id: 'r',
          property_id: null,
          properties: null,
          arrival_date: null,
          departure_date: '2026-12-03T10:00:00Z',
          reservation_status: { current: { category: null } },
          status: '',
          platform: 'vrbo',
        },
      },
      '7ZZZZZZZZZZZZZZZZZZZZZZZZZ',
      '2026-10-31T22:00:00.999Z',
      { reservationExternalId: 'r', status: 'modified', departureDate: '2026-12-03', channel: 'vrbo' },
    ],
    [
      'a null reservation status and an empty properties list',
      {
        id: '01GTKD6ZYFVQMR0RWP4HBBHNZC',
        action: 'reservation.updated',
        created: '2026-11-01T12:00:00Z',
        version: '1',
        data: { id: 'r', reservation_status: null, properties: [] },
      },
      '01GTKD6ZYFVQMR0RWP4HBBHNZC',
      '2026-11-01T12:00:00.000Z',
      { reservationExternalId: 'r', status: 'modified' },
    ],
  ])('accepts %s', (_label, body, idempotencyKey, occurredAt, data) => {
    const result = normalise(body);
    expect(result).toMatchObject({ disposition: 'apply', idempotencyKey });
    expect(result.occurredAt.toISOString()).toBe(occurredAt);
    expect(result.disposition === 'apply' && result.payload).toStrictEqual({
      type: 'reservation.change',
      data,
    });
  });

  it('falls back to the older status field', () => {
    expect(
      dataOf({ ...reservation, action: 'reservation.updated', data: { id: 'r', status: 'cancelled' } }),
    ).toMatchObject({
      status: 'cancelled',
    });
  });

  it.each([
    ['no reservation id', { ...reservation.data, id: undefined }, ['data.id']],
    ['a numeric reservation id', { ...reservation.data, id: 42 }, ['data.id']],
    [
      'an arrival date that does not exist',
      { ...reservation.data, arrival_date: '2026-02-29' },
      ['data.arrival_date'],
    ],
    [
      'an arrival date in another format',
      { ...reservation.data, arrival_date: '06/14/2026' },
      ['data.arrival_date'],
    ],
    [
      'a departure before arrival',
      { ...reservation.data, departure_date: '2026-06-13' },
      ['data.departure_date'],
    ],
  ])('refuses a reservation with %s', (_what, data, fields) => {
    expect(fieldsOf(() => normalise(JSON.parse(JSON.stringify({ ...reservation, data }))))).toEqual(fields);
  });

  it('refuses reservation data that is an array', () => {
    expect(fieldsOf(() => normalise({ ...reservation, data: [reservation.data] }))).toEqual(['data']);
  });
});

describe('hospitable adapter: properties', () => {
  const property = { id: '01HZX4KC5S6T7V8W9X0Y1Z2A3B', created: '2026-06-03T07:00:00Z', version: '1.0' };

  it('maps property.updated to its id', () => {
    expect(
      dataOf({ ...property, action: 'property.updated', data: { id: 'prop-1', name: 'Loft' } }),
    ).toStrictEqual({
      change: 'updated',
      propertyExternalId: 'prop-1',
    });
  });

  it.each([
    ['merged_ids of strings', { merged_ids: ['p-2', 'p-3'] }],
    ['merged_property_ids of objects', { merged_property_ids: [{ id: 'p-2' }, { id: 'p-3' }] }],
    [
      'merged, mixed and repeated, naming the survivor too',
      { merged: ['p-2', { id: 'p-3' }, 'p-2', 'prop-1'] },
    ],
  ])('maps property.merged with %s', (_what, ids) => {
    expect(dataOf({ ...property, action: 'property.merged', data: { id: 'prop-1', ...ids } })).toStrictEqual({
      change: 'merged',
      propertyExternalId: 'prop-1',
      mergedExternalIds: ['p-2', 'p-3'],
    });
  });

  it.each([
    ['no merged ids', { id: 'prop-1' }],
    ['an empty list', { id: 'prop-1', merged_ids: [] }],
    ['only the surviving id', { id: 'prop-1', merged_ids: ['prop-1'] }],
  ])('refuses a merge with %s', (_what, data) => {
    expect(fieldsOf(() => normalise({ ...property, action: 'property.merged', data }))).toEqual([
      'data.merged_ids',
    ]);
  });

  it('refuses a property without an id', () => {
    expect(
      fieldsOf(() => normalise({ ...property, action: 'property.updated', data: { name: 'Loft' } })),
    ).toEqual(['data.id']);
  });
});

describe('hospitable adapter: messages and reviews', () => {
  it.each([
    ['message.created', { body: 'Call me on +15555550123, Grace', sender: { email: 'grace@example.org' } }],
    ['review.created', [{ public: { review: 'Thanks Grace!' } }]],
  ])('records %s without carrying any of it', (action, data) => {
    const result = normalise({
      id: '01HZX4KE1Q2R3S4T5V6W7X8Y9Z',
      action,
      data,
      created: '2026-06-05T12:00:00Z',
      version: '1.0',
    });
    expect(result).toStrictEqual({
      disposition: 'record',
      providerEventType: action,
      idempotencyKey: '01HZX4KE1Q2R3S4T5V6W7X8Y9Z',
      occurredAt: new Date('2026-06-05T12:00:00Z'),
    });
  });
});

describe('hospitable sender', () => {
  it('generates ULIDs that encode their time and validate', () => {
    const at = new Date('2026-06-01T12:00:00.123Z');
    const id = ulid(at, new Uint8Array(16).fill(31));
    expect(id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(id.slice(10)).toBe('Z'.repeat(16));
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const millis = [...id.slice(0, 10)].reduce((sum, char) => sum * 32 + alphabet.indexOf(char), 0);
    expect(millis).toBe(at.getTime());
    expect(ulid(at)).not.toBe(ulid(at));
  });

  it.each(hospitableSender.sampleTypes)('produces a %s sample that verifies and normalises', (type) => {
    let n = 0;
    const body = Buffer.from(JSON.stringify(hospitableSender.sample(type, NOW, () => `id-${++n}`)));
    const headers = hospitableSender.sign(body, { secret: SECRET, at: NOW });
    expect(headers.Signature).toMatch(/^[0-9a-f]{64}$/);
    const req = {
      headers: { 'content-type': 'application/json', signature: headers.Signature },
      rawBody: body,
    };
    const verified = hospitableAdapter.verify(req, contextWith());
    const result = hospitableAdapter.normalise(
      JSON.parse(body.toString('utf8')),
      req,
      verified,
      contextWith(),
    );
    expect(result.providerEventType).toBe(type);
    expect(result.occurredAt).toEqual(NOW);
    expect(JSON.stringify(result)).not.toMatch(/Ada|example\.com|5555550100/);
  });
});
