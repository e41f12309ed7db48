import { createHash, createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { adapterFor } from '../../lambdas/adapters';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfigInput } from '../../lambdas/config/schema';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { createIngestHttpHandler, type IngestMetrics } from '../../lambdas/ingest/http';
import { prepareSources } from '../../lambdas/ingest/sources';
import { UNCONFIGURED_SOURCES } from '../../lambdas/ledger/rejections';
import { nodeCrypto } from '../../lambdas/shared/crypto';
import { INGEST_METRICS } from '../../lambdas/shared/metric-names';
import { DEFAULT_REJECTIONS, DEFAULT_SETTINGS } from '../contract/harness';
import { ManualClock } from '../fakes/clock';
import { InMemoryLedger, InMemoryQueue } from '../fakes/in-memory';
import { InMemoryRejectionLog } from '../fakes/rejections';

/**
 * What the edge records of the requests it refuses for good, through the real edge over in-memory stores: the
 * shape of the request and why it was refused, never what it carried.
 */
const SECRET = '/Ni74w2/Vt7pImw7NaIgGnU3JC3LFocm6JUdA62usgc=';
const OTA = { id: 'ota-1', kind: 'ota' as const, secrets: [{ value: SECRET }] };
const LOCKED = { ...OTA, id: 'ota-locked', allowedCidrs: ['192.0.2.0/24'] };
const SENDER = '198.51.100.23';
const NOW = Date.UTC(2026, 5, 1, 9, 30, 0);

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

interface Sent {
  readonly sourceId?: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  readonly requestId?: string;
}

function signed(body: string | Record<string, unknown>, secret = SECRET): Sent {
  const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return {
    body: raw,
    headers: {
      'Content-Type': 'application/json',
      'X-OTA-Signature': createHmac('sha256', secret).update(raw).digest('hex'),
    },
  };
}

class CountingMetrics implements IngestMetrics {
  readonly added: string[] = [];
  addMetric(name: string) {
    this.added.push(name);
  }
  publish() {}
}

function edge(
  options: {
    sources?: ParitySyncConfigInput['sources'];
    maxBodyBytes?: number;
    recordsPerSecond?: number;
  } = {},
) {
  const config = parseConfig({ version: 1, sources: options.sources ?? [OTA, LOCKED] });
  const ledger = new InMemoryLedger();
  const queue = new InMemoryQueue();
  const rejections = new InMemoryRejectionLog();
  const clock = new ManualClock(NOW);
  const logger = new Logger({ logLevel: 'SILENT' });
  const metrics = new CountingMetrics();
  const handle = createIngestHttpHandler(
    {
      sources: prepareSources(config, adapterFor),
      secrets: createSecretResolver({}),
      ledger,
      queue,
      clock,
      crypto: nodeCrypto,
      settings: {
        ...DEFAULT_SETTINGS,
        ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
      },
      rejections: {
        recorder: rejections,
        ...DEFAULT_REJECTIONS,
        ...(options.recordsPerSecond ? { recordsPerSecond: options.recordsPerSecond } : {}),
      },
    },
    logger,
    metrics,
  );
  async function deliver(sent: Sent) {
    const sourceId = sent.sourceId ?? OTA.id;
    const result = await handle({
      httpMethod: 'POST',
      path: `/webhooks/${sourceId}`,
      resource: '/webhooks/{sourceId}',
      pathParameters: { sourceId },
      headers: sent.headers,
      body: sent.body.length ? sent.body.toString('base64') : null,
      isBase64Encoded: true,
      requestContext: {
        identity: { sourceIp: SENDER },
        ...(sent.requestId ? { requestId: sent.requestId } : {}),
      },
    } as unknown as APIGatewayProxyEvent);
    return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, unknown> };
  }
  const recorded = () => [...rejections.records.values()];
  return { deliver, rejections, recorded, ledger, queue, clock, logger, metrics };
}

describe('the rejection log at the edge', () => {
  it('records a bad signature: time, source, sender, status, reason, header names, body size and SHA-256', async () => {
    const { deliver, recorded } = edge();
    const sent = signed(rateEvent, 'the-wrong-secret-of-at-least-32-chars');
    const answer = await deliver({ ...sent, requestId: 'req-1' });
    expect(answer).toMatchObject({ status: 401, json: { error: 'invalid_signature' } });
    expect(recorded()).toEqual([
      {
        at: new Date(NOW).toISOString(),
        requestId: 'req-1',
        sourceId: 'ota-1',
        senderAddress: SENDER,
        status: 401,
        reason: 'invalid_signature',
        headerNames: ['content-type', 'x-ota-signature'],
        bodyBytes: sent.body.length,
        bodySha256: createHash('sha256').update(sent.body).digest('hex'),
        expiresAt: NOW / 1000 + 7 * 86_400,
      },
    ]);
  });

  it('never keeps the body, a header value, the signature or the secret', async () => {
    const { deliver, recorded } = edge();
    const body = { ...rateEvent, guest_name: 'Ada Lovelace-7f3e' };
    const sent = signed(body, 'a-sender-side-secret-9c1d2e3f4a5b6c7d');
    const headers = {
      ...sent.headers,
      Authorization: 'Bearer token-value-5e8a',
      'X-Trace': 'trace-value-41b2',
      'User-Agent': 'agent-value-0d9c',
    };
    expect((await deliver({ ...sent, headers })).status).toBe(401);
    // Refused later in the pipeline, after the signature verified: the body is read, and must still not be kept.
    const schemaBroken = signed({ ...body, base_rate: 'not a number' });
    expect((await deliver(schemaBroken)).status).toBe(422);

    const [first, second] = recorded();
    expect(first?.headerNames).toEqual([
      'authorization',
      'content-type',
      'user-agent',
      'x-ota-signature',
      'x-trace',
    ]);
    expect(second?.reason).toBe('schema_violation');
    const kept = JSON.stringify(recorded());
    for (const secretish of [
      'Ada Lovelace-7f3e',
      'not a number',
      'HOTEL-1',
      'token-value-5e8a',
      'trace-value-41b2',
      'agent-value-0d9c',
      'application/json',
      sent.headers['X-OTA-Signature'] as string,
      schemaBroken.headers['X-OTA-Signature'] as string,
      SECRET,
      'a-sender-side-secret-9c1d2e3f4a5b6c7d',
    ]) {
      expect(kept).not.toContain(secretish);
    }
  });

  it.each([
    {
      what: 'an unknown source',
      status: 404,
      reason: 'unknown_source',
      sent: () => ({ ...signed(rateEvent), sourceId: 'nope' }),
    },
    {
      what: 'a sender outside the allowlist',
      status: 403,
      reason: 'sender_not_allowed',
      sent: () => ({ ...signed(rateEvent), sourceId: 'ota-locked' }),
    },
    {
      what: 'a body over the cap',
      status: 413,
      reason: 'payload_too_large',
      sent: () => signed({ ...rateEvent, notes: 'x'.repeat(2048) }),
    },
    {
      what: 'a body that is not JSON by its type',
      status: 415,
      reason: 'unsupported_media_type',
      sent: () => ({
        ...signed(rateEvent),
        headers: { ...signed(rateEvent).headers, 'Content-Type': 'text/plain' },
      }),
    },
    {
      what: 'a missing signature',
      status: 401,
      reason: 'missing_signature',
      sent: () => ({ ...signed(rateEvent), headers: { 'Content-Type': 'application/json' } }),
    },
    {
      what: 'a body that is not JSON',
      status: 400,
      reason: 'invalid_json',
      sent: () => signed('{"property_id": '),
    },
    {
      what: 'a body that breaks the schema',
      status: 422,
      reason: 'schema_violation',
      sent: () => signed({ ...rateEvent, currency: 42 }),
    },
  ])('records $what as $status $reason', async ({ status, reason, sent }) => {
    const { deliver, recorded } = edge({ maxBodyBytes: 1024 });
    const request = sent();
    expect((await deliver(request)).json.error).toBe(reason);
    expect(recorded()).toEqual([
      expect.objectContaining({
        sourceId: request.sourceId ?? 'ota-1',
        status,
        reason,
        bodyBytes: request.body.length,
      }),
    ]);
  });

  it('records nothing for an accepted delivery, a duplicate, a 409 or a 5xx: those are retried, not rejected', async () => {
    const { deliver, recorded, ledger } = edge();
    expect((await deliver(signed(rateEvent))).json.status).toBe('accepted');
    expect((await deliver(signed(rateEvent))).json.status).toBe('duplicate');
    ledger.failNextClaims = 1;
    expect((await deliver(signed({ ...rateEvent, event_id: 'ota-evt-2' }))).status).toBe(503);
    const eventId = (await deliver(signed({ ...rateEvent, event_id: 'ota-evt-3' }))).json.eventId as string;
    const entry = await ledger.get(eventId);
    ledger.entries.set(eventId, {
      ...(entry ?? (undefined as never)),
      status: 'received',
      leaseUntil: NOW + 10_000,
    });
    expect((await deliver(signed({ ...rateEvent, event_id: 'ota-evt-3' }))).status).toBe(409);
    expect(recorded()).toEqual([]);
  });

  it('records at most recordsPerSecond per source and second, counts the rest, and records again the next second', async () => {
    const { deliver, recorded, rejections, clock } = edge({ recordsPerSecond: 3 });
    const bad = () => signed({ ...rateEvent }, 'the-wrong-secret-of-at-least-32-chars');
    for (let i = 0; i < 5; i++) expect((await deliver(bad())).status).toBe(401);
    // Another source has a bound of its own.
    for (let i = 0; i < 2; i++) await deliver({ ...signed(rateEvent), sourceId: 'ota-locked' });
    expect(recorded().filter((r) => r.sourceId === 'ota-1')).toHaveLength(3);
    expect(recorded().filter((r) => r.sourceId === 'ota-locked')).toHaveLength(2);
    expect(await rejections.unrecorded({ fromDay: '2026-06-01', toDay: '2026-06-01' })).toEqual([
      { bucket: 'ota-1', day: '2026-06-01', count: 2 },
    ]);

    clock.advance(1000);
    await deliver(bad());
    expect(recorded().filter((r) => r.sourceId === 'ota-1')).toHaveLength(4);
  });

  it('puts every unconfigured source id under one bound, so made-up ids cannot grow the log', async () => {
    const { deliver, recorded, rejections } = edge({ recordsPerSecond: 2 });
    for (let i = 0; i < 6; i++)
      expect((await deliver({ ...signed(rateEvent), sourceId: `made-up-${i}` })).status).toBe(404);
    expect(recorded().map((r) => r.sourceId)).toEqual(['made-up-0', 'made-up-1']);
    expect(await rejections.unrecorded({ fromDay: '2026-06-01', toDay: '2026-06-01' })).toEqual([
      { bucket: UNCONFIGURED_SOURCES, day: '2026-06-01', count: 4 },
    ]);
  });

  it('cuts what a sender chooses to a bounded size', async () => {
    const { deliver, recorded } = edge();
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    for (let i = 0; i < 100; i++) headers[`x-padding-${String(i).padStart(3, '0')}-${'h'.repeat(200)}`] = 'v';
    await deliver({ ...signed(rateEvent), headers, sourceId: 's'.repeat(1000) });
    const [only] = recorded();
    expect(only?.sourceId).toBe('s'.repeat(128));
    expect(only?.headerNames).toHaveLength(64);
    expect(only?.headerNames.every((name) => name.length <= 128)).toBe(true);
  });

  it('answers the refusal unchanged when the log cannot be written, and logs and counts the failure', async () => {
    const { deliver, rejections, logger, metrics } = edge();
    const warn = vi.spyOn(logger, 'warn');
    const sent = signed(rateEvent, 'the-wrong-secret-of-at-least-32-chars');
    const recordedAnswer = await deliver(sent);
    rejections.failNextRecords = 1;
    const failedAnswer = await deliver(sent);

    expect(failedAnswer).toEqual(recordedAnswer);
    expect(metrics.added.filter((name) => name === INGEST_METRICS.rejectionsNotRecorded)).toHaveLength(1);
    expect(warn).toHaveBeenCalledWith(
      'rejection not recorded',
      expect.objectContaining({
        sourceId: 'ota-1',
        status: 401,
        error: 'invalid_signature',
        cause: expect.stringContaining('ProvisionedThroughputExceededException'),
      }),
    );
    expect(warn).toHaveBeenCalledWith('delivery refused', expect.objectContaining({ rejection: 'failed' }));
    expect(JSON.stringify(warn.mock.calls)).not.toContain(sent.headers['X-OTA-Signature']);
  });
});
