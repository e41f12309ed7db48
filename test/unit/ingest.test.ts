import { createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { adapterFor } from '../../lambdas/adapters';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfigInput } from '../../lambdas/config/schema';
import { createSecretResolver, SecretUnavailableError } from '../../lambdas/config/secrets';
import {
  createIngestHttpHandler,
  RETRY_AFTER_SERVER_ERROR_SECONDS,
  serverErrorRetryAfter,
} from '../../lambdas/ingest/http';
import { prepareSources } from '../../lambdas/ingest/sources';
import type { LedgerEntry } from '../../lambdas/ledger/ports';
import { nodeCrypto } from '../../lambdas/shared/crypto';
import { MAX_JSON_DEPTH } from '../../lambdas/shared/strict-json';
import { type Answer, createEdge, DEFAULT_REJECTIONS, DEFAULT_SETTINGS } from '../contract/harness';
import { ManualClock } from '../fakes/clock';
import { InMemoryLedger, InMemoryQueue } from '../fakes/in-memory';
import { InMemoryRejectionLog } from '../fakes/rejections';

/**
 * Edge behaviours that do not depend on the provider kind, exercised through an OTA source (hex HMAC of the
 * body, no signed timestamp): leases between concurrent deliveries, recovery after a lost enqueue, handshakes.
 */
const SECRET = '/Ni74w2/Vt7pImw7NaIgGnU3JC3LFocm6JUdA62usgc=';
const source = { id: 'ota-1', kind: 'ota' as const, secrets: [{ value: SECRET }] };

function delivery(body: Record<string, unknown>) {
  return signed(JSON.stringify(body));
}

function signed(text: string) {
  const raw = Buffer.from(text);
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

  it('refuses a body nested too deep with 400 too_deep, however deep, instead of failing with 500', async () => {
    const edge = createEdge([source]);
    for (const depth of [MAX_JSON_DEPTH + 1, 10_000, 100_000]) {
      const text = `{"nested":${'['.repeat(depth)}${']'.repeat(depth)},${JSON.stringify(rateEvent).slice(1)}`;
      const answer = await edge.deliver(signed(text));
      expect(answer.status).toBe(400);
      expect(answer.json.error).toBe('too_deep');
      expect(answer.json.message).toContain(String(MAX_JSON_DEPTH));
    }
    expect(edge.queue.messages).toHaveLength(0);
  });

  it('refuses an amount a double cannot hold exactly instead of storing it rounded', async () => {
    const edge = createEdge([source]);
    const text = JSON.stringify(rateEvent).replace('"base_rate":129.99', '"base_rate":129.99000000000001');
    const answer = await edge.deliver(signed(text));
    expect(answer.status).toBe(400);
    expect(answer.json.error).toBe('imprecise_number');
    expect(answer.json.message).toMatch(/129\.99000000000001.*send the amount as a string/);
    expect(edge.queue.messages).toHaveLength(0);

    const asString = await edge.deliver(signed(text.replace('129.99000000000001', '"129.99"')));
    expect(asString.status).toBe(200);
    expect(edge.queue.messages[0]).toMatchObject({ data: { rate: { amountMinor: 12_999 } } });
  });

  it('queues an event once when its claim lands after the lease ran out and a retry took it over', async () => {
    const edge = createEdge([source]);
    const claim = edge.ledger.claim.bind(edge.ledger);
    let retry: Answer | undefined;
    let stalled = false;
    edge.ledger.claim = async (entry, nowMs) => {
      if (stalled) return claim(entry, nowMs);
      stalled = true;
      // DynamoDB stalls past the lease: the write lands late, and the sender's retry arrives meanwhile.
      edge.clock.advance(DEFAULT_SETTINGS.claimLeaseMs + 1_000);
      const outcome = await claim(entry, nowMs);
      edge.clock.advance(1_000);
      retry = await edge.deliver(delivery(rateEvent));
      return outcome;
    };

    const first = await edge.deliver(delivery(rateEvent));

    expect(retry?.status).toBe(200);
    expect(retry?.json).toMatchObject({ status: 'accepted', action: 'enqueued' });
    expect(first.status).toBe(503);
    expect(first.json.error).toBe('ledger_too_slow');
    expect(first.headers['retry-after']).toMatch(/^\d+$/);
    expect(edge.queue.messages).toHaveLength(1);
    expect((await edge.ledger.get(retry?.json.eventId as string))?.status).toBe('enqueued');
  });

  it('does not queue an event when too little of the lease is left to enqueue and confirm it', async () => {
    const edge = createEdge([source]);
    const claim = edge.ledger.claim.bind(edge.ledger);
    edge.ledger.claim = async (entry, nowMs) => {
      const outcome = await claim(entry, nowMs);
      edge.clock.advance(DEFAULT_SETTINGS.claimLeaseMs - DEFAULT_SETTINGS.minLeaseLeftMs + 1);
      return outcome;
    };
    const slow = await edge.deliver(delivery(rateEvent));
    expect(slow.status).toBe(503);
    expect(slow.json.error).toBe('ledger_too_slow');
    expect(edge.queue.messages).toHaveLength(0);

    // The claim was given back, so the retry queues the event at once instead of waiting out the lease.
    edge.ledger.claim = claim;
    const retry = await edge.deliver(delivery(rateEvent));
    expect(retry.status).toBe(200);
    expect(edge.queue.messages).toHaveLength(1);
  });

  it('gives back only its own claim: a failed enqueue leaves the lease of a delivery that took over', async () => {
    const edge = createEdge([source]);
    let takeover: LedgerEntry | undefined;
    const enqueue = edge.queue.enqueue.bind(edge.queue);
    edge.queue.enqueue = async (event) => {
      if (takeover !== undefined) return enqueue(event);
      // SQS stalls past the lease; a retry claims the event meanwhile and is still queueing it.
      edge.clock.advance(DEFAULT_SETTINGS.claimLeaseMs + 1_000);
      const nowMs = edge.clock.now().getTime();
      const current = await edge.ledger.get(event.eventId);
      if (!current) throw new Error('no ledger entry');
      const outcome = await edge.ledger.claim(
        { ...current, leaseUntil: nowMs + DEFAULT_SETTINGS.claimLeaseMs },
        nowMs,
      );
      takeover = outcome.entry;
      throw new Error('RequestTimeout: injected');
    };

    const first = await edge.deliver(delivery(rateEvent));
    expect(first.status).toBe(503);
    expect(first.json.error).toBe('enqueue_failed');
    expect(takeover?.deliveryCount).toBe(2);
    expect((await edge.ledger.get(takeover?.eventId ?? ''))?.leaseUntil).toBe(takeover?.leaseUntil);

    const third = await edge.deliver(delivery(rateEvent));
    expect(third.status).toBe(409);
    expect(edge.queue.messages).toHaveLength(0);
  });
});

describe('Retry-After of a 5xx', () => {
  it('spreads the senders over 20 to 40 whole seconds, both ends included', () => {
    expect(serverErrorRetryAfter(() => 0)).toBe('20');
    expect(serverErrorRetryAfter(() => 0.5)).toBe('30');
    expect(serverErrorRetryAfter(() => 0.999_999)).toBe('40');
    let seed = 1;
    const draws = Array.from({ length: 2_000 }, () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return Number(serverErrorRetryAfter(() => seed / 2_147_483_647));
    });
    expect(new Set(draws).size).toBe(21);
  });
});

describe('signing secrets read at run time', () => {
  const WEAK = 'tiny-secret';
  const sourceWith = (secrets: ParitySyncConfigInput['sources'][number]['secrets'], kind = 'ota') => {
    const [parsed] = parseConfig({ version: 1, sources: [{ id: 'src-1', kind, secrets }] }).sources;
    if (!parsed) throw new Error('no source');
    return parsed;
  };

  async function refusal(promise: Promise<unknown>): Promise<SecretUnavailableError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof SecretUnavailableError))
      throw new Error(`expected a refusal, got ${String(error)}`);
    return error;
  }

  it('refuses a weak secret from Secrets Manager, naming the source and where it came from, never the value', async () => {
    const secrets = createSecretResolver({ fetchSecretsManager: async () => WEAK });
    const error = await refusal(
      secrets.secretsFor(sourceWith([{ secretsManager: 'paritysync/src-1/signing' }])),
    );
    expect(error.reference).toBe('paritysync/src-1/signing');
    expect(error.message).toMatch(
      /^the signing secret of source src-1 \(secrets\[0\], Secrets Manager secret paritysync\/src-1\/signing\) is 11 characters long; .*at least 32/,
    );
    expect(error.message).not.toContain(WEAK);
  });

  it('reads a strong secret from Secrets Manager or the environment as it is', async () => {
    const strong = '+F3yq8rVb1XlK0sZ5wT9mN2cD7hJ4pQ6aE1uG8iR0oY=';
    const secrets = createSecretResolver({
      fetchSecretsManager: async () => strong,
      env: { OTA_SECRET: strong },
    });
    await expect(
      secrets.secretsFor(sourceWith([{ secretsManager: 'paritysync/src-1/signing' }, { env: 'OTA_SECRET' }])),
    ).resolves.toEqual([strong, strong]);
  });

  it("holds a standard-webhooks secret from the environment to the specification's whsec_ rule", async () => {
    const source = sourceWith([{ env: 'SW_SECRET' }], 'standard-webhooks');
    const short = createSecretResolver({
      env: { SW_SECRET: `whsec_${Buffer.alloc(16, 7).toString('base64')}` },
    });
    expect((await refusal(short.secretsFor(source))).message).toMatch(
      /\(secrets\[0\], environment variable SW_SECRET\) decodes to 16 bytes; .*at least 24 random bytes/,
    );
    const pasted = createSecretResolver({
      env: { SW_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}\n` },
    });
    expect((await refusal(pasted.secretsFor(source))).message).toMatch(/is not "whsec_" followed by base64/);
    const good = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    await expect(createSecretResolver({ env: { SW_SECRET: good } }).secretsFor(source)).resolves.toEqual([
      good,
    ]);
  });

  it('answers a delivery signed with a weak secret 503 secrets_unavailable, accepts nothing and logs which source', async () => {
    const config = parseConfig({
      version: 1,
      sources: [{ id: 'ota-1', kind: 'ota', secrets: [{ secretsManager: 'paritysync/ota-1/signing' }] }],
    });
    const ledger = new InMemoryLedger();
    const queue = new InMemoryQueue();
    const logger = new Logger({ logLevel: 'SILENT' });
    const errors = vi.spyOn(logger, 'error');
    const handle = createIngestHttpHandler(
      {
        sources: prepareSources(config, adapterFor),
        secrets: createSecretResolver({ fetchSecretsManager: async () => WEAK }),
        ledger,
        queue,
        clock: new ManualClock(Date.UTC(2026, 5, 1)),
        crypto: nodeCrypto,
        settings: DEFAULT_SETTINGS,
        rejections: { recorder: new InMemoryRejectionLog(), ...DEFAULT_REJECTIONS },
      },
      logger,
    );
    const body = Buffer.from(JSON.stringify(rateEvent));
    const answer = await handle({
      httpMethod: 'POST',
      pathParameters: { sourceId: 'ota-1' },
      headers: {
        'content-type': 'application/json',
        // Correctly signed with the weak secret: it must not verify anything.
        'x-ota-signature': createHmac('sha256', WEAK).update(body).digest('hex'),
      },
      body: body.toString('base64'),
      isBase64Encoded: true,
      requestContext: { identity: { sourceIp: '203.0.113.9' } },
    } as unknown as APIGatewayProxyEvent);

    expect(answer.statusCode).toBe(503);
    expect(Number(answer.headers?.['retry-after'])).toBeGreaterThanOrEqual(
      RETRY_AFTER_SERVER_ERROR_SECONDS.min,
    );
    expect(Number(answer.headers?.['retry-after'])).toBeLessThanOrEqual(RETRY_AFTER_SERVER_ERROR_SECONDS.max);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'secrets_unavailable' });
    expect(answer.body).not.toMatch(/weak|characters/);
    expect(ledger.entries.size).toBe(0);
    expect(queue.messages).toHaveLength(0);
    expect(errors).toHaveBeenCalledWith(
      'delivery refused',
      expect.objectContaining({
        sourceId: 'ota-1',
        error: 'secrets_unavailable',
        cause: expect.stringContaining(
          'signing secret of source ota-1 (secrets[0], Secrets Manager secret paritysync/ota-1/signing) is 11 characters long',
        ),
      }),
    );
    expect(JSON.stringify(errors.mock.calls)).not.toContain(WEAK);
  });
});
