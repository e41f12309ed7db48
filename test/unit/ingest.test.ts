import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEdge } from '../contract/harness';

/**
 * Edge behaviours that do not depend on the provider kind, exercised through an OTA source (hex HMAC of the
 * body, no signed timestamp): leases between concurrent deliveries, recovery after a lost enqueue, handshakes.
 */
const SECRET = 'ota-secret-for-ingest-tests';
const source = { id: 'ota-1', kind: 'ota' as const, secrets: [{ value: SECRET }] };

function delivery(body: Record<string, unknown>) {
  const raw = Buffer.from(JSON.stringify(body));
  return {
    sourceId: 'ota-1',
    body: raw,
    headers: {
      'content-type': 'application/json',
      'x-ota-signature': createHmac('sha256', SECRET).update(raw).digest('hex'),
    },
  };
}

const rateEvent = {
  property_id: 'HOTEL-1',
  rate_plan_code: 'BAR',
  room_type_code: 'DBL',
  base_rate: 129.99,
  currency: 'EUR',
  effective_date: '2026-07-01',
  event_timestamp: '2026-06-01T00:00:00Z',
  event_id: 'ota-evt-1',
};

describe('ingest edge', () => {
  it('answers 409 with Retry-After while another delivery of the same event holds the claim', async () => {
    const edge = createEdge([source]);
    const a = await edge.deliver(delivery(rateEvent));
    expect(a.status).toBe(200);
    const entry = await edge.ledger.get(a.json.eventId as string);
    expect(entry?.status).toBe('enqueued');
    // Put the entry back to an in-flight claim, as if a Lambda were between claim and enqueue.
    edge.ledger.entries.set(a.json.eventId as string, {
      ...(entry ?? (undefined as never)),
      status: 'received',
      leaseUntil: edge.clock.now().getTime() + 10_000,
    });
    const concurrent = await edge.deliver(delivery(rateEvent));
    expect(concurrent.status).toBe(409);
    expect(concurrent.json.error).toBe('delivery_in_progress');
    expect(concurrent.headers['retry-after']).toBe('5');
    expect(edge.queue.messages).toHaveLength(1);
  });

  it('lets a retry take over a claim whose lease expired without an enqueue, keeping the first receivedAt', async () => {
    const edge = createEdge([source]);
    const first = await edge.deliver(delivery(rateEvent));
    const id = first.json.eventId as string;
    const original = await edge.ledger.get(id);
    if (!original) throw new Error('no ledger entry');
    // A Lambda that died after claiming: the entry is `received` and nothing reached the queue.
    edge.ledger.entries.set(id, {
      ...original,
      status: 'received',
      leaseUntil: edge.clock.now().getTime() + 15_000,
    });
    edge.queue.messages.length = 0;
    edge.clock.set(edge.clock.seconds + 16);
    const retry = await edge.deliver(delivery(rateEvent));
    expect(retry.status).toBe(200);
    expect(retry.json).toMatchObject({ status: 'accepted', eventId: id });
    expect(edge.queue.messages).toHaveLength(1);
    expect(edge.queue.messages[0]?.receivedAt).toBe(original.receivedAt);
    expect((await edge.ledger.get(id))?.deliveryCount).toBe(2);
  });

  it('gives the same event id to the same idempotency key and different ids across sources', async () => {
    const edge = createEdge([source, { ...source, id: 'ota-2' }]);
    const a = await edge.deliver(delivery(rateEvent));
    const b = await edge.deliver({ ...delivery(rateEvent), sourceId: 'ota-2' });
    expect(a.json.status).toBe('accepted');
    expect(b.json.status).toBe('accepted');
    expect(a.json.eventId).not.toBe(b.json.eventId);
    expect(edge.queue.messages.map((m) => m.idempotencyKey)).toEqual(['ota-evt-1', 'ota-evt-1']);
  });

  it('carries non-ASCII text through verification and normalisation unchanged', async () => {
    const edge = createEdge([source]);
    const d = delivery({ ...rateEvent, property_id: 'Hôtel-Zürich' });
    const answer = await edge.deliver(d);
    expect(answer.status).toBe(200);
    expect(edge.queue.messages[0]).toMatchObject({ data: { propertyExternalId: 'Hôtel-Zürich' } });
  });
});
