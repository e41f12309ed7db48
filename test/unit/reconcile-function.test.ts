import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import { createReconcileFunction } from '../../lambdas/reconcile/function';
import { InvalidInvocationError } from '../../lambdas/reconcile/invocation';
import { reconcileMetrics } from '../../lambdas/reconcile/metrics';
import type { FetchLike } from '../../lambdas/reconcile/polling-client';
import type { ReconcileRuntime } from '../../lambdas/reconcile/runtime';
import {
  type ReconcileReport,
  ReconciliationFailedError,
  UnknownPolledSourceError,
} from '../../lambdas/reconcile/service';
import type { Clock } from '../../lambdas/shared/clock';
import { MappingResolver } from '../../lambdas/state/resolver';
import { InMemoryAriStore, InMemoryMappingStore } from '../fakes/apply-memory';
import { offlineReconcileRuntime, reconcileStores } from '../fakes/reconcile-memory';

/** Reconciliation never reads signing secrets; the configuration still requires strong ones. */
const SIGNING_SECRET = 'FtoV6tMKA9FJVshCHsJ8TpLRBrngV5ORc7ahYvroId4=';

const TOKEN = 'super-secret-token';
const NOW = new Date('2026-05-02T10:00:00.000Z');
const clock: Clock = { now: () => NOW };

const config = parseConfig({
  version: 1,
  sources: ['ota-a', 'ota-b'].map((id) => ({
    id,
    kind: 'ota',
    secrets: [{ value: SIGNING_SECRET }],
    polling: {
      baseUrl: `https://${id}.example.test/v1`,
      token: { value: TOKEN },
      rateLimit: { requestsPerSecond: 100, burst: 10 },
      maxAttempts: 1,
    },
  })),
  mappings: [
    { scope: '*', properties: { H1: 'hotel-1' }, roomTypes: { DBL: 'dbl' }, ratePlans: { BAR: 'bar' } },
  ],
  reconciliation: { budgetSeconds: 60, parityHorizonDays: 7 },
  parity: { properties: [{ propertyId: 'hotel-1', sourceOfTruth: 'ota-a' }] },
});

/**
 * ota-a answers one page with one night; ota-b refuses the path with a 404 whose body echoes the token, as a
 * careless provider might.
 */
const providerFetch: FetchLike = async (url, init) => {
  const echo = init.headers.Authorization ?? '';
  const body = url.startsWith('https://ota-a.')
    ? JSON.stringify({
        results: [
          {
            property_id: 'H1',
            room_type_code: 'DBL',
            rate_plan_code: 'BAR',
            date: '2026-05-03',
            currency: 'EUR',
            base_rate: '120.00',
            availability: 4,
            updated_at: '2026-05-02T09:00:00.000Z',
          },
        ],
        next_cursor: null,
      })
    : `no such route for ${echo}`;
  return {
    status: url.startsWith('https://ota-a.') ? 200 : 404,
    headers: { get: () => null },
    text: async () => body,
  };
};

class ReadFailingAriStore extends InMemoryAriStore {
  override async readNightsByKey(): Promise<never> {
    throw new Error('ResourceNotFoundException: ARI table unreachable (injected)');
  }
}

/** The real runtime's polling clients (and so the real token handling) over in-memory stores. */
function fakeRuntime(options: { ari?: InMemoryAriStore } = {}) {
  const real = offlineReconcileRuntime({ config, fetch: providerFetch, clock, newRunId: () => 'run-fn' });
  let calls = 0;
  const ari = options.ari ?? new InMemoryAriStore();
  const runtime: ReconcileRuntime = (onProgress) => {
    calls += 1;
    return {
      ...real(onProgress),
      resolver: new MappingResolver(new InMemoryMappingStore(), config.mappings, clock),
      ...reconcileStores({ ari }),
    };
  };
  return { runtime, ari, calls: () => calls };
}

interface LoggedLine {
  readonly level: 'info' | 'error';
  readonly message: string;
  readonly extra: unknown[];
}

/** Serialises errors the way Powertools does (name, message, stack, cause), so nothing they carry is hidden. */
function serialised(lines: readonly LoggedLine[]): string {
  return JSON.stringify(lines, (_key, value: unknown) =>
    value instanceof Error
      ? { name: value.name, message: value.message, stack: value.stack, cause: value.cause }
      : value,
  );
}

function fakeLogger() {
  const lines: LoggedLine[] = [];
  const logger = {
    info: (message: string, ...extra: unknown[]) => lines.push({ level: 'info', message, extra }),
    error: (message: string, ...extra: unknown[]) => lines.push({ level: 'error', message, extra }),
  };
  return { logger, lines };
}

interface SingleMetric {
  readonly dimensions: Record<string, string>;
  readonly metrics: { name: string; unit: string; value: number }[];
}

function fakeMetrics() {
  const singles: SingleMetric[] = [];
  let published = 0;
  const metrics = {
    singleMetric: () => {
      const single: SingleMetric = { dimensions: {}, metrics: [] };
      singles.push(single);
      const recorder = {
        addDimension: (name: string, value: string) => {
          single.dimensions[name] = value;
        },
        addMetric: (name: string, unit: string, value: number) => {
          single.metrics.push({ name, unit, value });
        },
      };
      return recorder;
    },
    publishStoredMetrics: () => {
      published += 1;
    },
  };
  return {
    metrics,
    singles,
    published: () => published,
  };
}

function expectedSingles(report: ReconcileReport): SingleMetric[] {
  return reconcileMetrics(report).map((point) => ({
    dimensions: { ...point.dimensions },
    metrics: [{ name: point.name, unit: point.unit, value: point.value }],
  }));
}

describe('createReconcileFunction', () => {
  it('runs, emits one single metric per point with its dimensions, publishes and logs a summary', async () => {
    const { runtime } = fakeRuntime();
    const { logger, lines } = fakeLogger();
    const recorded = fakeMetrics();
    const handler = createReconcileFunction(runtime, logger, recorded.metrics);

    const report = await handler({ trigger: 'schedule' });

    expect(report.sources.map((s) => [s.sourceId, s.outcome])).toEqual([
      ['ota-a', 'reconciled'],
      ['ota-b', 'failed'],
    ]);
    expect(report.sources[1]).toMatchObject({ error: 'provider_not_found', circuit: 'closed' });
    expect(recorded.singles).toEqual(expectedSingles(report));
    expect(recorded.singles).toContainEqual({
      dimensions: { source: 'ota-b', reason: 'provider_not_found' },
      metrics: [{ name: 'ReconcileFailures', unit: 'Count', value: 1 }],
    });
    expect(recorded.singles).toContainEqual({
      dimensions: { source: 'ota-a' },
      metrics: [{ name: 'NightsPolled', unit: 'Count', value: 1 }],
    });
    expect(recorded.singles).toContainEqual({
      dimensions: { property: 'hotel-1' },
      // The night ota-a's run corrected, checked against no other channel.
      metrics: [{ name: 'ParityNightsChecked', unit: 'Count', value: 1 }],
    });
    expect(recorded.published()).toBe(1);

    expect(lines.map((line) => [line.level, line.message])).toEqual([['info', 'Reconciliation finished']]);
    expect(lines[0]?.extra[0]).toMatchObject({
      dryRun: false,
      sources: [
        {
          sourceId: 'ota-a',
          outcome: 'reconciled',
          status: 'complete',
          fullPass: true,
          nightsPolled: 1,
          driftPercent: 100,
          // Rate and availability were reported; the night was missing locally.
          silentMisses: 2,
          correctedGroups: 2,
          circuit: 'closed',
        },
        { sourceId: 'ota-b', outcome: 'failed', error: 'provider_not_found' },
      ],
      parity: [{ propertyId: 'hotel-1', from: '2026-05-02', to: '2026-05-08' }],
    });
    const logged = serialised(lines);
    expect(logged).toContain('[redacted]');
    expect(logged).not.toContain(TOKEN);
  });

  it('passes the invocation options to the run', async () => {
    const { runtime } = fakeRuntime();
    const recorded = fakeMetrics();
    const handler = createReconcileFunction(runtime, fakeLogger().logger, recorded.metrics);
    const report = await handler({ sourceIds: ['ota-a'], dryRun: true, parity: false });
    expect(report.dryRun).toBe(true);
    expect(report.sources.map((s) => s.sourceId)).toEqual(['ota-a']);
    expect(report.parity).toEqual([]);
    expect(recorded.singles.some((single) => 'property' in single.dimensions)).toBe(false);
  });

  it("records a failed run's partial report, publishes, logs the failure and rethrows it", async () => {
    const { runtime } = fakeRuntime({ ari: new ReadFailingAriStore() });
    const { logger, lines } = fakeLogger();
    const recorded = fakeMetrics();
    const handler = createReconcileFunction(runtime, logger, recorded.metrics);

    const error = await handler({}).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(ReconciliationFailedError);
    const { report } = error as ReconciliationFailedError;
    expect(report.sources.map((s) => s.outcome === 'failed' && s.error)).toEqual([
      'internal_error',
      'provider_not_found',
    ]);
    expect(recorded.singles).toEqual(expectedSingles(report));
    expect(recorded.singles).toContainEqual({
      dimensions: { source: 'ota-a', reason: 'internal_error' },
      metrics: [{ name: 'ReconcileFailures', unit: 'Count', value: 1 }],
    });
    expect(recorded.published()).toBe(1);
    expect(lines.map((line) => [line.level, line.message])).toEqual([
      ['info', 'Reconciliation finished'],
      ['error', 'Reconciliation failed'],
    ]);
    const logged = serialised(lines);
    expect(logged).toContain('ARI table unreachable');
    expect(logged).not.toContain(TOKEN);
  });

  it('rethrows a request for an unpolled source, publishing what little was recorded', async () => {
    const { runtime } = fakeRuntime();
    const recorded = fakeMetrics();
    const handler = createReconcileFunction(runtime, fakeLogger().logger, recorded.metrics);
    await expect(handler({ sourceIds: ['pms'] })).rejects.toBeInstanceOf(UnknownPolledSourceError);
    expect(recorded.singles).toEqual([]);
    expect(recorded.published()).toBe(1);
  });

  it('refuses a malformed invocation before building a run', async () => {
    const { runtime, calls } = fakeRuntime();
    const recorded = fakeMetrics();
    const handler = createReconcileFunction(runtime, fakeLogger().logger, recorded.metrics);
    await expect(handler({ sourceID: ['ota-a'] })).rejects.toBeInstanceOf(InvalidInvocationError);
    expect(calls()).toBe(0);
    expect(recorded.singles).toEqual([]);
  });
});
