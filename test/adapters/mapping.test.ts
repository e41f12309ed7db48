import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { mappingAdapter } from '../../lambdas/adapters/mapping';
import type { DeliveryRequest, VerificationContext } from '../../lambdas/adapters/types';
import { SourceConfigSchema } from '../../lambdas/config/schema';
import { fixedClock } from '../../lambdas/shared/clock';
import { nodeCrypto } from '../../lambdas/shared/crypto';
import type { ParitySyncError } from '../../lambdas/shared/errors';
import { SchemaViolationError } from '../../lambdas/shared/errors';
import { mappingSender } from '../../local/senders/mapping';

const NOW = 1_780_000_000;
const SECRET = '3oU28rBqxEHBNMZfYSkTpooHG8agEuB2ApucDxSOLrU=';
const OLD_SECRET = 'MkEQOMThDBybk7DcHJ07egLfVsqz3bknvTNmgmnB2uc=';

const source = SourceConfigSchema.parse({
  id: 'hotel-mapping',
  kind: 'mapping',
  secrets: [{ value: SECRET }],
});

function contextWith(secrets: readonly string[] = [SECRET], now = NOW): VerificationContext {
  return { source, secrets, toleranceSeconds: 300, clock: fixedClock(now * 1000), crypto: nodeCrypto };
}

const envelope = {
  id: '9a2c0f0a-attempt-1',
  eventId: '5e1b-stable-event',
  type: 'mapping.error.resolved',
  apiVersion: '2026-06-01',
  occurredAt: '2026-06-01T12:34:56Z',
  organizationId: 'org_1',
  data: {
    reportId: 'rep_1',
    partnerInventoryId: 'INV-1',
    partnerHotelId: 'EXP-12345',
    referenceHotelId: 'ref_9',
    resolution: 'FIXED',
    resolvedAt: '2026-06-01T12:34:56Z',
  },
};
const BODY = Buffer.from(JSON.stringify(envelope));

function hexHmac(secret: string, t: number, body: Buffer): string {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

function request(signature: string | undefined, extra: Record<string, string | undefined> = {}, body = BODY) {
  return {
    headers: {
      'content-type': 'application/json',
      'x-webhook-signature': signature,
      'x-webhook-event': 'mapping.error.resolved',
      'x-webhook-delivery': 'dlv-0001',
      ...extra,
    },
    rawBody: body,
  } satisfies DeliveryRequest;
}

function signedRequest(t = NOW, secret = SECRET, body = BODY): DeliveryRequest {
  return request(`t=${t},v1=${hexHmac(secret, t, body)}`, {}, body);
}

function refusal(action: () => unknown): ParitySyncError {
  try {
    action();
  } catch (error) {
    return error as ParitySyncError;
  }
  throw new Error('expected a refusal');
}

function normalise(body: unknown, req: DeliveryRequest = request('unused')) {
  return mappingAdapter.normalise(body, req, {}, contextWith());
}

describe('mapping adapter: verify', () => {
  it('accepts a header produced by the stripe library, whose t=…,v1=… scheme the service uses', () => {
    const header = Stripe.webhooks.generateTestHeaderString({
      payload: BODY.toString('utf8'),
      secret: SECRET,
      timestamp: NOW,
    });
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(mappingAdapter.verify(request(header), contextWith())).toEqual({
      signedAt: new Date(NOW * 1000),
      deliveryId: 'dlv-0001',
    });
  });

  it('signs in the sender exactly as the stripe library verifies', () => {
    const headers = mappingSender.sign(BODY, { secret: SECRET, at: new Date(NOW * 1000) });
    const header = headers['X-Webhook-Signature'] ?? '';
    expect(
      Stripe.webhooks.signature?.verifyHeader(BODY.toString('utf8'), header, SECRET, 300, undefined, NOW),
    ).toBe(true);
    expect(headers['X-Webhook-Event']).toBe('mapping.error.resolved');
    expect(headers['X-Webhook-Delivery']).toBe(envelope.id);
  });

  it('accepts upper-case hex', () => {
    const req = request(`t=${NOW},v1=${hexHmac(SECRET, NOW, BODY).toUpperCase()}`);
    expect(mappingAdapter.verify(req, contextWith()).deliveryId).toBe('dlv-0001');
  });

  it('refuses a missing signature header with 401 missing_signature', () => {
    const error = refusal(() => mappingAdapter.verify(request(undefined), contextWith()));
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'missing_signature']);
  });

  it.each(['x-webhook-event', 'x-webhook-delivery'])(
    'refuses a missing %s with 400 missing_header',
    (name) => {
      const req = signedRequest();
      const error = refusal(() =>
        mappingAdapter.verify({ ...req, headers: { ...req.headers, [name]: undefined } }, contextWith()),
      );
      expect([error.name, error.code]).toEqual(['InvalidRequestError', 'missing_header']);
    },
  );

  it('refuses a truncated signature as invalid, not malformed', () => {
    const signature = hexHmac(SECRET, NOW, BODY).slice(0, -2);
    const error = refusal(() => mappingAdapter.verify(request(`t=${NOW},v1=${signature}`), contextWith()));
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'invalid_signature']);
  });

  it('refuses a signature made with another secret', () => {
    const error = refusal(() =>
      mappingAdapter.verify(signedRequest(NOW, 'some-other-secret'), contextWith()),
    );
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'invalid_signature']);
  });

  it('refuses a body altered by one byte after signing', () => {
    const req = signedRequest();
    const altered = Buffer.from(BODY.toString('utf8').replace('EXP-12345', 'EXP-22345'));
    expect(altered.length).toBe(BODY.length);
    const error = refusal(() => mappingAdapter.verify({ ...req, rawBody: altered }, contextWith()));
    expect([error.name, error.code]).toEqual(['AuthenticationError', 'invalid_signature']);
  });

  it('refuses a signature over the body alone, without the timestamp', () => {
    const bodyOnly = createHmac('sha256', SECRET).update(BODY).digest('hex');
    const error = refusal(() => mappingAdapter.verify(request(`t=${NOW},v1=${bodyOnly}`), contextWith()));
    expect(error.code).toBe('invalid_signature');
  });

  it('verifies with any configured secret, so the receiver can rotate', () => {
    expect(() =>
      mappingAdapter.verify(signedRequest(NOW, OLD_SECRET), contextWith([SECRET, OLD_SECRET])),
    ).not.toThrow();
    expect(() =>
      mappingAdapter.verify(signedRequest(NOW, SECRET), contextWith([SECRET, OLD_SECRET])),
    ).not.toThrow();
  });

  it('accepts several v1 entries while the sender rotates, whichever one matches', () => {
    const header = `t=${NOW},v1=${hexHmac(OLD_SECRET, NOW, BODY)},v1=${hexHmac(SECRET, NOW, BODY)}`;
    expect(() => mappingAdapter.verify(request(header), contextWith([SECRET]))).not.toThrow();
    expect(() => mappingAdapter.verify(request(header), contextWith([OLD_SECRET]))).not.toThrow();
    const error = refusal(() => mappingAdapter.verify(request(header), contextWith(['third-secret'])));
    expect(error.code).toBe('invalid_signature');
  });

  it('ignores unknown schemes and spaces around entries', () => {
    const header = `t=${NOW}, v0=deadbeef, v1=${hexHmac(SECRET, NOW, BODY)}, v2=abc`;
    expect(() => mappingAdapter.verify(request(header), contextWith())).not.toThrow();
  });

  it.each([
    ['no t', `v1=${'a'.repeat(64)}`],
    ['a t that is not digits', `t=12:00,v1=${'a'.repeat(64)}`],
    ['a negative t', `t=-5,v1=${'a'.repeat(64)}`],
    ['t twice', `t=${NOW},t=${NOW},v1=${'a'.repeat(64)}`],
    ['no v1', `t=${NOW},v0=${'a'.repeat(64)}`],
    ['no entries at all', 'garbage'],
  ])('refuses a header with %s as 400 bad_header', (_what, header) => {
    const error = refusal(() => mappingAdapter.verify(request(header), contextWith()));
    expect([error.name, error.code]).toEqual(['InvalidRequestError', 'bad_header']);
  });

  it('refuses a delivery id that is not a header-safe token', () => {
    const req = signedRequest();
    const error = refusal(() =>
      mappingAdapter.verify(
        { ...req, headers: { ...req.headers, 'x-webhook-delivery': 'a b' } },
        contextWith(),
      ),
    );
    expect([error.name, error.code]).toEqual(['InvalidRequestError', 'bad_header']);
  });

  it.each([
    ['exactly 300 s old', NOW - 300, true],
    ['exactly 300 s ahead', NOW + 300, true],
    ['301 s old', NOW - 301, false],
    ['301 s ahead', NOW + 301, false],
  ])('judges a timestamp %s', (_what, t, accepted) => {
    const verify = () => mappingAdapter.verify(signedRequest(t), contextWith());
    if (accepted) {
      expect(verify().signedAt).toEqual(new Date(t * 1000));
    } else {
      const error = refusal(verify);
      expect([error.name, error.code]).toEqual(['AuthenticationError', 'timestamp_out_of_tolerance']);
    }
  });
});

describe('mapping adapter: normalise', () => {
  it('produces a mapping.change keyed by eventId, dated by occurredAt', () => {
    expect(normalise(envelope)).toStrictEqual({
      disposition: 'apply',
      providerEventType: 'mapping.error.resolved',
      idempotencyKey: '5e1b-stable-event',
      occurredAt: new Date('2026-06-01T12:34:56Z'),
      payload: {
        type: 'mapping.change',
        data: {
          change: 'error_resolved',
          reportId: 'rep_1',
          partnerInventoryId: 'INV-1',
          partnerHotelId: 'EXP-12345',
          referenceHotelId: 'ref_9',
          resolution: 'FIXED',
        },
      },
    });
  });

  it('keys a retry (new id, same eventId) the same, and another event differently', () => {
    const first = normalise(envelope);
    const retry = normalise({ ...envelope, id: 'attempt-2' });
    const other = normalise({ ...envelope, id: 'attempt-3', eventId: 'another-event' });
    expect(retry.idempotencyKey).toBe(first.idempotencyKey);
    expect(other.idempotencyKey).not.toBe(first.idempotencyKey);
  });

  it('omits references that are null or absent instead of carrying undefined keys', () => {
    const result = normalise(
      {
        ...envelope,
        type: 'inventory.duplicate.resolved',
        data: { referenceHotelId: 'ref_9', partnerHotelId: null, reportId: null },
      },
      request('unused', { 'x-webhook-event': 'inventory.duplicate.resolved' }),
    );
    expect(result.disposition === 'apply' && result.payload.data).toStrictEqual({
      change: 'duplicate_resolved',
      referenceHotelId: 'ref_9',
    });
  });

  it('maps mapping.completed, which has no apiVersion', () => {
    const { apiVersion: _dropped, ...legacy } = envelope;
    const result = normalise(
      { ...legacy, type: 'mapping.completed', data: { partnerHotelId: 'EXP-1' } },
      request('unused', { 'x-webhook-event': 'mapping.completed' }),
    );
    expect(result.disposition === 'apply' && result.payload.data).toStrictEqual({
      change: 'completed',
      partnerHotelId: 'EXP-1',
    });
  });

  it.each([
    [
      'null references and organizationId, and a +00:00 offset',
      {
        id: 'a',
        eventId: 'b',
        type: 'mapping.error.resolved',
        organizationId: null,
        occurredAt: '2026-11-01T12:00:00+00:00',
        data: {
          partnerHotelId: 'P',
          partnerInventoryId: null,
          referenceHotelId: null,
          reportId: null,
          resolution: null,
        },
      },
      { change: 'error_resolved', partnerHotelId: 'P' },
    ],
    [
      'a one-character apiVersion and a resolution of 100 characters',
      {
        id: 'a',
        eventId: 'b',
        type: 'inventory.duplicate.resolved',
        apiVersion: 'v',
        occurredAt: '2026-11-01T12:00:00Z',
        data: { referenceHotelId: 'R', resolution: 'r'.repeat(100) },
      },
      { change: 'duplicate_resolved', referenceHotelId: 'R', resolution: 'r'.repeat(100) },
    ],
    [
      'a completion without any reference',
      { id: 'a', eventId: 'b', type: 'mapping.completed', occurredAt: '2026-11-01T12:00:00Z', data: {} },
      { change: 'completed' },
    ],
  ])('accepts %s', (_label, body, data) => {
    const result = normalise(body, request('unused', { 'x-webhook-event': body.type }));
    expect(result).toStrictEqual({
      disposition: 'apply',
      providerEventType: body.type,
      idempotencyKey: 'b',
      occurredAt: new Date('2026-11-01T12:00:00Z'),
      payload: { type: 'mapping.change', data },
    });
  });

  it('refuses a resolution over 100 characters', () => {
    const body = { ...envelope, data: { ...envelope.data, resolution: 'r'.repeat(101) } };
    const error = refusal(() => normalise(body));
    expect((error as SchemaViolationError).fields.map((f) => f.path)).toEqual(['data.resolution']);
  });

  it('refuses an event header that disagrees with the body type, naming both', () => {
    const error = refusal(() =>
      normalise(envelope, request('unused', { 'x-webhook-event': 'mapping.completed' })),
    );
    expect([error.name, error.code]).toEqual(['InvalidRequestError', 'bad_header']);
    expect(error.message).toContain('mapping.completed');
    expect(error.message).toContain('mapping.error.resolved');
  });

  it.each([
    ['eventId missing', { ...envelope, eventId: undefined }, ['eventId']],
    ['occurredAt without a zone', { ...envelope, occurredAt: '2026-06-01T12:34:56' }, ['occurredAt']],
    ['partnerHotelId missing', { ...envelope, data: { reportId: 'rep_1' } }, ['data.partnerHotelId']],
    ['data not an object', { ...envelope, data: 'x' }, ['data']],
  ])('refuses a body with %s, naming the fields', (_what, body, fields) => {
    const error = refusal(() => normalise(JSON.parse(JSON.stringify(body))));
    expect(error).toBeInstanceOf(SchemaViolationError);
    expect((error as SchemaViolationError).fields.map((f) => f.path)).toEqual(fields);
  });

  it('requires referenceHotelId on inventory.duplicate.resolved', () => {
    const error = refusal(() =>
      normalise(
        { ...envelope, type: 'inventory.duplicate.resolved', data: { partnerHotelId: 'EXP-1' } },
        request('unused', { 'x-webhook-event': 'inventory.duplicate.resolved' }),
      ),
    );
    expect((error as SchemaViolationError).fields.map((f) => f.path)).toEqual(['data.referenceHotelId']);
  });

  it('refuses an event type the service does not define', () => {
    const error = refusal(() =>
      normalise({ ...envelope, type: 'toString' }, request('unused', { 'x-webhook-event': 'toString' })),
    );
    expect([error.name, error.code]).toEqual(['SchemaViolationError', 'unknown_event_type']);
  });

  it('refuses a body that is not an object', () => {
    const error = refusal(() => normalise([envelope]));
    expect([error.name, error.code]).toEqual(['SchemaViolationError', 'schema_violation']);
  });
});

describe('mapping sender', () => {
  it.each(mappingSender.sampleTypes)('produces a %s sample that verifies and normalises', (type) => {
    const now = new Date(NOW * 1000);
    let n = 0;
    const body = Buffer.from(JSON.stringify(mappingSender.sample(type, now, () => `id-${++n}`)));
    const headers = Object.fromEntries(
      Object.entries(mappingSender.sign(body, { secret: SECRET, at: now })).map(([k, v]) => [
        k.toLowerCase(),
        v,
      ]),
    );
    const req = { headers, rawBody: body };
    const verified = mappingAdapter.verify(req, contextWith());
    const result = mappingAdapter.normalise(JSON.parse(body.toString('utf8')), req, verified, contextWith());
    expect(result.providerEventType).toBe(type);
    expect(result.occurredAt).toEqual(now);
    expect(verified.deliveryId).toBe('id-1');
    expect(result.idempotencyKey).toBe('id-2');
  });
});
