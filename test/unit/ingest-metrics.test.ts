import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { adapterFor } from '../../lambdas/adapters';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfigInput } from '../../lambdas/config/schema';
import { createSecretResolver } from '../../lambdas/config/secrets';
import {
  createIngestHttpHandler,
  type IngestMetrics,
  type IngestMetricUnit,
  powertoolsIngestMetrics,
  rejectionReason,
} from '../../lambdas/ingest/http';
import { prepareSources } from '../../lambdas/ingest/sources';
import { type Crypto, nodeCrypto } from '../../lambdas/shared/crypto';
import { INGEST_METRICS, INGEST_REJECTION_REASONS } from '../../lambdas/shared/metric-names';
import { DEFAULT_REJECTIONS, DEFAULT_SETTINGS } from '../contract/harness';
import { fixture as hospitable } from '../contract/kinds/hospitable';
import { fixture as ota } from '../contract/kinds/ota';
import { fixture as standardWebhooks } from '../contract/kinds/standard-webhooks';
import { ManualClock } from '../fakes/clock';
import { InMemoryLedger, InMemoryQueue } from '../fakes/in-memory';
import { InMemoryRejectionLog } from '../fakes/rejections';

interface Recorded {
  readonly name: string;
  readonly unit: IngestMetricUnit;
  readonly value: number;
  readonly dimensions?: Readonly<Record<string, string>>;
}

/** Records what the handler emits; `published` holds each flushed batch. */
class RecordingMetrics implements IngestMetrics {
  private pending: Recorded[] = [];
  readonly published: Recorded[][] = [];

  addMetric(
    name: string,
    unit: IngestMetricUnit,
    value: number,
    dimensions?: Readonly<Record<string, string>>,
  ) {
    this.pending.push({ name, unit, value, ...(dimensions ? { dimensions } : {}) });
  }

  publish(): void {
    this.published.push(this.pending);
    this.pending = [];
  }

  /** The one batch a single delivery flushed, without the latency (its value depends on the clock). */
  only(): Recorded[] {
    expect(this.published).toHaveLength(1);
    return (this.published[0] ?? []).filter((metric) => metric.name !== INGEST_METRICS.latency);
  }
}

function firstSecret(fixture: typeof ota): string {
  const ref = fixture.source.secrets?.[0];
  if (!ref || !('value' in ref)) throw new Error(`the ${fixture.kind} fixture's first secret is not a value`);
  return ref.value;
}
const OTA_SECRET = firstSecret(ota);
const HOSPITABLE_SECRET = firstSecret(hospitable);
const STANDARD_SECRET = firstSecret(standardWebhooks);
const LOCKED_SOURCE = {
  id: 'ota-locked',
  kind: 'ota' as const,
  secrets: ota.source.secrets,
  allowedCidrs: ['192.0.2.0/24'],
};

const RATE_EVENT = {
  property_id: 'HOTEL-METRICS-7',
  rate_plan_code: 'BAR',
  room_type_code: 'DBL',
  base_rate: 129.99,
  currency: 'EUR',
  effective_date: '2026-07-01',
  event_timestamp: '2026-06-01T00:00:00Z',
  event_id: 'ota-metrics-1',
};

function edge(
  options: {
    metrics?: IngestMetrics;
    crypto?: Crypto;
    maxBodyBytes?: number;
    sources?: ParitySyncConfigInput['sources'];
  } = {},
) {
  const config = parseConfig({
    version: 1,
    sources: options.sources ?? [ota.source, hospitable.source, standardWebhooks.source, LOCKED_SOURCE],
  });
  const ledger = new InMemoryLedger();
  const queue = new InMemoryQueue();
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const metrics = options.metrics ?? new RecordingMetrics();
  const handle = createIngestHttpHandler(
    {
      sources: prepareSources(config, adapterFor),
      secrets: createSecretResolver({}),
      ledger,
      queue,
      clock,
      crypto: options.crypto ?? nodeCrypto,
      settings: {
        ...DEFAULT_SETTINGS,
        ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
      },
      rejections: { recorder: new InMemoryRejectionLog(), ...DEFAULT_REJECTIONS },
    },
    new Logger({ logLevel: 'SILENT' }),
    metrics,
  );
  const deliver = async (
    sourceId: string,
    body: Buffer,
    headers: Record<string, string>,
    sourceIp?: string,
  ) => {
    const result = await handle({
      httpMethod: 'POST',
      pathParameters: { sourceId },
      headers,
      body: body.length ? body.toString('base64') : null,
      isBase64Encoded: true,
      requestContext: { identity: { sourceIp: sourceIp ?? '38.80.170.10' } },
    } as unknown as APIGatewayProxyEvent);
    return {
      status: result.statusCode,
      headers: (result.headers ?? {}) as Record<string, string>,
      body: result.body,
      error: (JSON.parse(result.body) as { error?: string }).error,
    };
  };
  return { ledger, queue, clock, metrics, deliver };
}

const raw = (body: unknown) => Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
const otaHeaders = (body: Buffer) => ota.sign(body, { at: 0, secret: OTA_SECRET });

const received = { name: INGEST_METRICS.received, unit: 'Count', value: 1 };
const rejected = (reason: string) => ({
  name: INGEST_METRICS.rejected,
  unit: 'Count',
  value: 1,
  dimensions: { reason },
});
const signatureFailure = { name: INGEST_METRICS.signatureFailures, unit: 'Count', value: 1 };

describe('ingest metrics: accepted and duplicate deliveries', () => {
  it('counts an enqueued event as received and accepted with action=enqueued, and its latency', async () => {
    const metrics = new RecordingMetrics();
    const { deliver, clock } = edge({ metrics });
    const body = raw(RATE_EVENT);
    const answer = await deliver('ota-rates', body, otaHeaders(body));
    expect(answer.status).toBe(200);
    expect(metrics.only()).toEqual([
      received,
      { name: INGEST_METRICS.accepted, unit: 'Count', value: 1, dimensions: { action: 'enqueued' } },
    ]);
    const latency = metrics.published[0]?.find((metric) => metric.name === INGEST_METRICS.latency);
    expect(latency).toMatchObject({ unit: 'Milliseconds' });
    // The manual clock does not move during the delivery.
    expect(latency?.value).toBe(clock.now().getTime() - Date.UTC(2026, 5, 1));
  });

  it('counts an event that is recorded and not queued as accepted with action=recorded', async () => {
    const metrics = new RecordingMetrics();
    const { deliver, clock, queue } = edge({ metrics });
    const sample = hospitable.samples.find((candidate) => candidate.expect.disposition === 'record');
    if (!sample) throw new Error('the hospitable fixture has no recorded-only sample');
    const body = raw(sample.body);
    // Unsigned-timestamp kinds accept a payload only while it is younger than the dedupe window.
    clock.set(Date.parse((sample.body as { created: string }).created) / 1000 + 60);
    const answer = await deliver(
      'hospitable',
      body,
      hospitable.sign(body, { at: clock.seconds, secret: HOSPITABLE_SECRET }),
    );
    expect(answer.status).toBe(200);
    expect(queue.messages).toHaveLength(0);
    expect(metrics.only()).toEqual([
      received,
      { name: INGEST_METRICS.accepted, unit: 'Count', value: 1, dimensions: { action: 'recorded' } },
    ]);
  });

  it('counts a second delivery of the same event as a duplicate, not as accepted', async () => {
    const metrics = new RecordingMetrics();
    const { deliver } = edge({ metrics });
    const body = raw(RATE_EVENT);
    await deliver('ota-rates', body, otaHeaders(body));
    const again = await deliver('ota-rates', body, otaHeaders(body));
    expect(again.status).toBe(200);
    expect(metrics.published).toHaveLength(2);
    expect(metrics.published[1]?.filter((metric) => metric.name !== INGEST_METRICS.latency)).toEqual([
      received,
      { name: INGEST_METRICS.duplicates, unit: 'Count', value: 1 },
    ]);
  });
});

describe('ingest metrics: refusals', () => {
  const throwingCrypto: Crypto = {
    ...nodeCrypto,
    hmacSha256: () => {
      throw new TypeError('crypto backend failed');
    },
  };

  type Case = {
    readonly name: string;
    readonly status: number;
    readonly reason: string;
    readonly signature?: boolean;
    readonly run: () => Promise<{
      status: number;
      headers: Record<string, string>;
      error?: string | undefined;
      metrics: RecordingMetrics;
    }>;
  };

  /** Sends one delivery to a fresh edge, after `prepare`, and returns the answer with the recorder. */
  const send =
    (
      sourceId: string,
      body: Buffer,
      headers: (clockSeconds: number) => Record<string, string>,
      options: Parameters<typeof edge>[0] & {
        sourceIp?: string;
        prepare?: (e: ReturnType<typeof edge>) => void;
      } = {},
    ) =>
    async () => {
      const metrics = new RecordingMetrics();
      const instance = edge({ ...options, metrics });
      options.prepare?.(instance);
      const answer = await instance.deliver(
        sourceId,
        body,
        headers(instance.clock.seconds),
        options.sourceIp,
      );
      return { ...answer, metrics };
    };

  const rate = raw(RATE_EVENT);
  const cases: Case[] = [
    {
      name: 'a body that is not JSON',
      status: 400,
      reason: 'invalid_json',
      run: send('ota-rates', raw('{"property_id": '), () => otaHeaders(raw('{"property_id": '))),
    },
    {
      name: 'a duplicate key',
      status: 400,
      reason: 'duplicate_key',
      run: send('ota-rates', raw('{"a":1,"a":2}'), () => otaHeaders(raw('{"a":1,"a":2}'))),
    },
    {
      name: 'a prototype key',
      status: 400,
      reason: 'forbidden_key',
      run: send('ota-rates', raw('{"__proto__":{}}'), () => otaHeaders(raw('{"__proto__":{}}'))),
    },
    {
      name: 'a body nested too deep',
      status: 400,
      reason: 'too_deep',
      run: send('ota-rates', raw(`[${'['.repeat(100)}${']'.repeat(100)}]`), () =>
        otaHeaders(raw(`[${'['.repeat(100)}${']'.repeat(100)}]`)),
      ),
    },
    {
      name: 'an amount a double cannot hold exactly',
      status: 400,
      reason: 'imprecise_number',
      run: send('ota-rates', raw('{"base_rate":129.99000000000001}'), () =>
        otaHeaders(raw('{"base_rate":129.99000000000001}')),
      ),
    },
    {
      name: 'a missing webhook-id header',
      status: 400,
      reason: 'missing_header',
      run: send('standard-webhooks', raw({ type: 'x' }), (at) => {
        const { 'webhook-id': _id, ...rest } = standardWebhooks.sign(raw({ type: 'x' }), {
          at,
          secret: STANDARD_SECRET,
        });
        return rest;
      }),
    },
    {
      name: 'a missing signature',
      status: 401,
      reason: 'missing_signature',
      signature: true,
      run: send('ota-rates', rate, () => ({ 'content-type': 'application/json' })),
    },
    {
      name: 'a wrong signature',
      status: 401,
      reason: 'invalid_signature',
      signature: true,
      run: send('ota-rates', rate, () => ({ ...otaHeaders(rate), 'x-ota-signature': '00'.repeat(32) })),
    },
    {
      name: 'a missing timestamp',
      status: 401,
      reason: 'missing_timestamp',
      run: send('standard-webhooks', raw({ type: 'x' }), (at) => {
        const { 'webhook-timestamp': _t, ...rest } = standardWebhooks.sign(raw({ type: 'x' }), {
          at,
          secret: STANDARD_SECRET,
        });
        return rest;
      }),
    },
    {
      name: 'a signed timestamp an hour old',
      status: 401,
      reason: 'timestamp_out_of_tolerance',
      run: send('standard-webhooks', raw({ type: 'x' }), (at) =>
        standardWebhooks.sign(raw({ type: 'x' }), { at: at - 3600, secret: STANDARD_SECRET }),
      ),
    },
    {
      name: 'a payload older than the dedupe window',
      status: 401,
      reason: 'stale_event',
      run: send('ota-rates', raw({ ...RATE_EVENT, event_timestamp: '2025-01-01T00:00:00Z' }), () =>
        otaHeaders(raw({ ...RATE_EVENT, event_timestamp: '2025-01-01T00:00:00Z' })),
      ),
    },
    {
      name: 'a sender outside the allowlist',
      status: 403,
      reason: 'sender_not_allowed',
      run: send('ota-locked', rate, () => otaHeaders(rate), { sourceIp: '198.51.100.9' }),
    },
    {
      name: 'an unknown source',
      status: 404,
      reason: 'unknown_source',
      run: send('nobody', rate, () => otaHeaders(rate)),
    },
    {
      name: 'a delivery while another holds the claim',
      status: 409,
      reason: 'delivery_in_progress',
      run: async () => {
        const metrics = new RecordingMetrics();
        const first = edge({ metrics: new RecordingMetrics() });
        const accepted = await first.deliver('ota-rates', rate, otaHeaders(rate));
        const eventId = (JSON.parse(accepted.body) as { eventId: string }).eventId;
        const entry = await first.ledger.get(eventId);
        if (!entry) throw new Error('no ledger entry');
        const second = edge({ metrics });
        second.ledger.entries.set(eventId, {
          ...entry,
          status: 'received',
          leaseUntil: second.clock.now().getTime() + 10_000,
        });
        return { ...(await second.deliver('ota-rates', rate, otaHeaders(rate))), metrics };
      },
    },
    {
      name: 'a body over the cap',
      status: 413,
      reason: 'payload_too_large',
      run: send('ota-rates', rate, () => otaHeaders(rate), { maxBodyBytes: 16 }),
    },
    {
      name: 'a body not declared as JSON',
      status: 415,
      reason: 'unsupported_media_type',
      run: send('ota-rates', rate, () => ({ ...otaHeaders(rate), 'content-type': 'text/plain' })),
    },
    {
      name: 'a schema violation',
      status: 422,
      reason: 'schema_violation',
      run: send('ota-rates', raw({ ...RATE_EVENT, currency: 42 }), () =>
        otaHeaders(raw({ ...RATE_EVENT, currency: 42 })),
      ),
    },
    {
      name: 'the ledger being unavailable',
      status: 503,
      reason: 'ledger_unavailable',
      run: send('ota-rates', rate, () => otaHeaders(rate), {
        prepare: (e) => {
          e.ledger.failNextClaims = 1;
        },
      }),
    },
    {
      name: 'the ledger claiming too late to queue safely',
      status: 503,
      reason: 'ledger_too_slow',
      run: send('ota-rates', rate, () => otaHeaders(rate), {
        prepare: (e) => {
          const claim = e.ledger.claim.bind(e.ledger);
          e.ledger.claim = async (entry, nowMs) => {
            const outcome = await claim(entry, nowMs);
            e.clock.advance(DEFAULT_SETTINGS.claimLeaseMs);
            return outcome;
          };
        },
      }),
    },
    {
      name: 'the queue refusing the event',
      status: 503,
      reason: 'enqueue_failed',
      run: send('ota-rates', rate, () => otaHeaders(rate), {
        prepare: (e) => {
          e.queue.failNextSends = 1;
        },
      }),
    },
    {
      name: 'an unexpected failure',
      status: 500,
      reason: 'internal_error',
      run: send('ota-rates', rate, () => otaHeaders(rate), { crypto: throwingCrypto }),
    },
  ];

  it.each(cases)(
    'counts $name as rejected with reason $reason',
    async ({ run, status, reason, signature }) => {
      const answer = await run();
      expect(answer.status).toBe(status);
      expect(answer.error).toBe(reason);
      expect(answer.metrics.only()).toEqual([
        received,
        rejected(reason),
        ...(signature ? [signatureFailure] : []),
      ]);
    },
  );

  it.each(cases.filter((c) => c.status >= 500))(
    'tells the sender when to retry after $name ($status)',
    async ({ run }) => {
      const answer = await run();
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    },
  );

  it('never puts a secret, a signature, a header or a payload value into a metric', async () => {
    const everything: Recorded[] = [];
    for (const testCase of cases) everything.push(...(await testCase.run()).metrics.published.flat());
    const allowedDimensionValues = new Set<string>([...INGEST_REJECTION_REASONS, 'enqueued', 'recorded']);
    for (const metric of everything) {
      expect(Object.values(INGEST_METRICS)).toContain(metric.name);
      for (const [key, value] of Object.entries(metric.dimensions ?? {})) {
        expect(['reason', 'action']).toContain(key);
        expect(allowedDimensionValues).toContain(value);
      }
    }
    const text = JSON.stringify(everything);
    for (const secretOrValue of [
      OTA_SECRET,
      STANDARD_SECRET,
      'HOTEL-METRICS-7',
      'ota-metrics-1',
      otaHeaders(rate)['x-ota-signature'],
    ]) {
      expect(text).not.toContain(secretOrValue);
    }
  });

  it('folds an unlisted code into `other`, so that the reason dimension stays bounded', () => {
    expect(rejectionReason('schema_violation')).toBe('schema_violation');
    expect(rejectionReason('some_future_code')).toBe('other');
  });
});

describe('ingest metrics: behaviour', () => {
  it('answers exactly as without metrics, and a failing publish changes nothing for the sender', async () => {
    const failing: IngestMetrics = {
      addMetric: () => {},
      publish: () => {
        throw new Error('stdout closed');
      },
    };
    const body = raw(RATE_EVENT);
    const plain = await edge({ metrics: { addMetric: () => {}, publish: () => {} } }).deliver(
      'ota-rates',
      body,
      otaHeaders(body),
    );
    const measured = await edge().deliver('ota-rates', body, otaHeaders(body));
    const broken = await edge({ metrics: failing }).deliver('ota-rates', body, otaHeaders(body));
    expect(measured).toEqual(plain);
    expect(broken).toEqual(plain);
  });
});

describe('Powertools adapter', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('writes dimensioned metrics as their own EMF documents, keeping the shared buffer to `service` alone', () => {
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const adapter = powertoolsIngestMetrics(
      new Metrics({ namespace: 'ParitySync', serviceName: 'paritysync-ingest' }),
    );
    adapter.addMetric(INGEST_METRICS.received, 'Count', 1);
    adapter.addMetric(INGEST_METRICS.rejected, 'Count', 1, { reason: 'invalid_signature' });
    adapter.addMetric(INGEST_METRICS.signatureFailures, 'Count', 1);
    expect(lines).toEqual([]);
    adapter.publish();

    const documents = lines.map(
      (line) =>
        JSON.parse(line) as Record<string, unknown> & {
          _aws: {
            CloudWatchMetrics: Array<{
              Namespace: string;
              Dimensions: string[][];
              Metrics: Array<{ Name: string }>;
            }>;
          };
        },
    );
    const summary = documents.map((document) => {
      const [directive] = document._aws.CloudWatchMetrics;
      return {
        namespace: directive?.Namespace,
        dimensions: directive?.Dimensions,
        metrics: directive?.Metrics.map((metric) => metric.Name),
        service: document.service,
        reason: document.reason,
      };
    });
    expect(summary).toEqual([
      {
        namespace: 'ParitySync',
        dimensions: [['service', 'reason']],
        metrics: [INGEST_METRICS.rejected],
        service: 'paritysync-ingest',
        reason: 'invalid_signature',
      },
      {
        namespace: 'ParitySync',
        dimensions: [['service']],
        metrics: [INGEST_METRICS.received, INGEST_METRICS.signatureFailures],
        service: 'paritysync-ingest',
        reason: undefined,
      },
    ]);

    lines.length = 0;
    // Powertools warns about an empty flush; that warning is the expected outcome here.
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => {});
    adapter.publish();
    expect(warnings).toHaveBeenCalledTimes(1);
    // Nothing is left over for the next invocation.
    expect(lines.filter((line) => line.includes('CloudWatchMetrics'))).toEqual([]);
  });

  it('gives each dimensioned metric only its own dimensions, delivery after delivery, from one single metric', () => {
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const metrics = new Metrics({ namespace: 'ParitySync', serviceName: 'paritysync-ingest' });
    const singleMetric = vi.spyOn(metrics, 'singleMetric');
    const adapter = powertoolsIngestMetrics(metrics);
    adapter.addMetric(INGEST_METRICS.received, 'Count', 1);
    adapter.addMetric(INGEST_METRICS.rejected, 'Count', 1, { reason: 'invalid_signature' });
    adapter.publish();
    adapter.addMetric(INGEST_METRICS.received, 'Count', 1);
    adapter.addMetric(INGEST_METRICS.accepted, 'Count', 1, { action: 'enqueued' });
    adapter.publish();

    const dimensioned = lines
      .map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: unknown[] } })
      .filter((document) => document.reason !== undefined || document.action !== undefined)
      .map((document) => ({
        dimensions: (document._aws.CloudWatchMetrics[0] as { Dimensions: string[][] }).Dimensions,
        reason: document.reason,
        action: document.action,
      }));
    expect(dimensioned).toEqual([
      { dimensions: [['service', 'reason']], reason: 'invalid_signature', action: undefined },
      { dimensions: [['service', 'action']], reason: undefined, action: 'enqueued' },
    ]);
    expect(singleMetric).toHaveBeenCalledTimes(1);
  });
});
