import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfig } from '../../lambdas/config/schema';
import type { Money } from '../../lambdas/domain/money';
import type { RoomNightKey } from '../../lambdas/domain/state';
import { CircuitOpenError, type CircuitState } from '../../lambdas/reconcile/circuit-breaker';
import {
  type FetchLike,
  type HttpResponseLike,
  type PagesParams,
  type PolledPage,
  type PollingOutcome,
  ProviderAuthError,
  ProviderError,
  type ProviderNight,
} from '../../lambdas/reconcile/polling-client';
import {
  type ProgressEvent,
  polledSources,
  type ReconcileDependencies,
  ReconciliationFailedError,
  reconcile,
  runOptionsFor,
  type SourceClient,
  UnknownPolledSourceError,
} from '../../lambdas/reconcile/service';
import { InvalidRequestError } from '../../lambdas/shared/errors';
import { MappingResolver } from '../../lambdas/state/resolver';
import { InMemoryAriStore, InMemoryMappingStore } from '../fakes/apply-memory';
import { ManualClock } from '../fakes/clock';
import {
  InMemoryAuditLog,
  InMemoryCheckpointStore,
  InMemoryCircuitStateStore,
  InMemoryParityStore,
  offlineReconcileRuntime,
  reconcileStores,
} from '../fakes/reconcile-memory';

/** Reconciliation never reads signing secrets; the configuration still requires strong ones. */
const SIGNING_SECRET = 'ipPHutSbhlfpN+tMohv4Ur2rD+tF8LncK2O20LqMSdk=';

const START = Date.parse('2026-05-02T10:00:00.000Z');
const TODAY = '2026-05-02';
const PROVIDER_UPDATED_AT = new Date('2026-05-01T00:00:00.000Z');
const OLD_LOCAL_VERSION = '2026-04-01T00:00:00.000Z#seed';

function polling(host: string, extra: Record<string, unknown> = {}) {
  return {
    baseUrl: `https://${host}.example.test/v1`,
    token: { value: `token-${host}` },
    rateLimit: { requestsPerSecond: 100, burst: 10 },
    ...extra,
  };
}

function buildConfig(overrides: Record<string, unknown> = {}): ParitySyncConfig {
  return parseConfig({
    version: 1,
    sources: [
      { id: 'ota-a', kind: 'ota', secrets: [{ value: SIGNING_SECRET }], polling: polling('a') },
      { id: 'ota-b', kind: 'ota', secrets: [{ value: SIGNING_SECRET }], polling: polling('b') },
      {
        id: 'cm',
        kind: 'channel-manager',
        secrets: [{ value: SIGNING_SECRET }],
        polling: polling('cm', { channel: 'cm:booking', fullPassWindowDays: 30 }),
      },
      { id: 'pms', kind: 'pms', secrets: [{ value: SIGNING_SECRET }] },
    ],
    mappings: [
      { scope: '*', properties: { H1: 'hotel-1' }, roomTypes: { DBL: 'dbl' }, ratePlans: { BAR: 'bar' } },
    ],
    reconciliation: { budgetSeconds: 300, parityHorizonDays: 30 },
    parity: { properties: [{ propertyId: 'hotel-1', sourceOfTruth: 'cm' }] },
    ...overrides,
  });
}

interface Step {
  readonly nights?: readonly ProviderNight[];
  /** Time the provider "takes" for this page. */
  readonly takesMs?: number;
  /** Thrown instead of yielding the page. */
  readonly error?: unknown;
}

/** A provider's client scripted page by page: records what it was asked for, and no HTTP is involved. */
class ScriptedSource implements SourceClient {
  readonly calls: PagesParams[] = [];
  state: CircuitState = 'closed';
  readonly client: SourceClient['client'];

  constructor(clock: ManualClock, steps: readonly Step[]) {
    const calls = this.calls;
    this.client = {
      async *pages(params: PagesParams): AsyncGenerator<PolledPage, PollingOutcome, undefined> {
        calls.push(params);
        for (const [index, step] of steps.entries()) {
          clock.advance(step.takesMs ?? 0);
          if (step.error !== undefined) throw step.error;
          yield page(step.nights ?? [], index === steps.length - 1 ? null : `cursor-${index + 1}`);
        }
        return { status: 'complete' };
      },
    };
  }

  readonly circuitState = () => this.state;
}

function page(nights: readonly ProviderNight[], nextCursor: string | null): PolledPage {
  return { nights, skipped: 0, skippedRecords: [], nextCursor, requests: 1, throttled: 0, retries: 0 };
}

function providerNight(date: string, rate: Money): ProviderNight {
  return {
    propertyExternalId: 'H1',
    roomTypeExternalId: 'DBL',
    ratePlanExternalId: 'BAR',
    date,
    rate,
    updatedAt: PROVIDER_UPDATED_AT,
  };
}

function keyOf(channel: string, date: string): RoomNightKey {
  return { propertyId: 'hotel-1', roomTypeId: 'dbl', ratePlanId: 'bar', channel, date };
}

const eur = (amountMinor: number): Money => ({ amountMinor, currency: 'EUR' });

/** An ARI store whose reads fail a given number of times, as an unreachable table would. */
class FailingAriStore extends InMemoryAriStore {
  failReads = 0;
  override async readNightsByKey(keys: readonly RoomNightKey[]) {
    if (this.failReads > 0) {
      this.failReads -= 1;
      throw new Error('ResourceNotFoundException: ARI table unreachable (injected)');
    }
    return super.readNightsByKey(keys);
  }
}

function harness(options: { config?: ParitySyncConfig; scripts?: Record<string, readonly Step[]> } = {}) {
  const config = options.config ?? buildConfig();
  const clock = new ManualClock(START);
  const sources = new Map<string, ScriptedSource>();
  for (const source of polledSources(config)) {
    sources.set(source.id, new ScriptedSource(clock, options.scripts?.[source.id] ?? [{}]));
  }
  const ari = new FailingAriStore();
  const audit = new InMemoryAuditLog();
  const checkpoints = new InMemoryCheckpointStore();
  const parity = new InMemoryParityStore();
  const events: ProgressEvent[] = [];
  const clientsAskedFor: string[] = [];
  let runs = 0;
  const deps: ReconcileDependencies = {
    config,
    clientFor: (source) => {
      clientsAskedFor.push(source.id);
      const scripted = sources.get(source.id);
      if (!scripted) throw new Error(`no scripted client for ${source.id}`);
      return scripted;
    },
    resolver: new MappingResolver(new InMemoryMappingStore(), config.mappings, clock),
    ari,
    audit,
    checkpoints,
    parity,
    clock,
    newRunId: () => `run-${++runs}`,
    onProgress: (event) => events.push(event),
  };
  const source = (id: string) => {
    const scripted = sources.get(id);
    if (!scripted) throw new Error(`no scripted client for ${id}`);
    return scripted;
  };
  return { config, clock, deps, ari, audit, checkpoints, parity, events, clientsAskedFor, source };
}

describe('reconcile: sources and their time budget', () => {
  it('reconciles every polled source in configuration order, each under its own run id', async () => {
    const h = harness();
    const report = await reconcile({ parity: false }, h.deps);

    expect(h.clientsAskedFor).toEqual(['ota-a', 'ota-b', 'cm']);
    expect(report.sources.map((s) => [s.sourceId, s.outcome, s.runId])).toEqual([
      ['ota-a', 'reconciled', 'run-1'],
      ['ota-b', 'reconciled', 'run-2'],
      ['cm', 'reconciled', 'run-3'],
    ]);
    expect(report.startedAt).toBe(new Date(START).toISOString());
    expect(report.dryRun).toBe(false);
    expect(report.parity).toEqual([]);
    expect([...h.checkpoints.saved.keys()]).toEqual(['ota-a', 'ota-b', 'cm']);
  });

  it('gives each source an equal share of what is left, so time one finishes early goes to the next', async () => {
    const h = harness({
      scripts: {
        'ota-a': [{ takesMs: 10_000 }],
        'ota-b': [{ takesMs: 2_000 }, { takesMs: 3_000 }],
        cm: [{ takesMs: 1_000 }],
      },
    });
    const report = await reconcile({ parity: false }, h.deps);

    const budgetMs = 300_000;
    // First of three: a third of the whole budget.
    expect(h.source('ota-a').calls[0]?.deadline).toBe(START + budgetMs / 3);
    // ota-a used 10 s of its 100 s: the other two split the 290 s left.
    expect(h.source('ota-b').calls[0]?.deadline).toBe(START + 10_000 + (budgetMs - 10_000) / 2);
    // The last source gets everything that remains, up to the run's own deadline.
    expect(h.source('cm').calls[0]?.deadline).toBe(START + budgetMs);
    expect(report.finishedAt).toBe(new Date(START + 16_000).toISOString());
  });

  it('polls a source with propertyIds one property at a time, each a scan with its share and checkpoint', async () => {
    const base = buildConfig();
    const config = buildConfig({
      sources: base.sources.map((source) =>
        source.id === 'ota-b'
          ? {
              ...source,
              polling: {
                ...source.polling,
                rateLimit: { requestsPerSecond: 100, burst: 10, perPropertyPerMinute: 10 },
                propertyIds: ['H1', 'H2'],
              },
            }
          : source,
      ),
    });
    const h = harness({ config });
    const report = await reconcile({ sourceIds: ['ota-b', 'cm'], parity: false }, h.deps);

    expect(h.events[0]).toMatchObject({ type: 'plan', sources: ['ota-b H1', 'ota-b H2', 'cm'] });
    expect(h.source('ota-b').calls.map((call) => call.propertyId)).toEqual(['H1', 'H2']);
    expect(report.sources.map((source) => [source.sourceId, source.propertyId])).toEqual([
      ['ota-b', 'H1'],
      ['ota-b', 'H2'],
      ['cm', undefined],
    ]);
    // Three scans share the budget: the first property gets a third of it.
    expect(h.source('ota-b').calls[0]?.deadline).toBe(START + 100_000);
    expect([...h.checkpoints.saved.keys()]).toEqual(['ota-b#property=H1', 'ota-b#property=H2', 'cm']);
  });

  it('takes the request budget over the configured one', async () => {
    const h = harness();
    await reconcile({ parity: false, budgetMs: 9_000 }, h.deps);
    expect(h.source('ota-a').calls[0]?.deadline).toBe(START + 3_000);
    expect(h.source('cm').calls[0]?.deadline).toBe(START + 9_000);
  });

  it('polls a first run from the full-pass window: the epoch without fullPassWindowDays', async () => {
    const h = harness();
    await reconcile({ parity: false }, h.deps);
    expect(h.source('ota-a').calls[0]?.updatedAfter).toEqual(new Date(0));
    expect(h.source('cm').calls[0]?.updatedAfter).toEqual(new Date(START - 30 * 86_400_000));
  });
});

describe('reconcile: failures', () => {
  it.each([
    {
      name: 'an open circuit',
      error: new CircuitOpenError('ota-a', new Date(START + 60_000), 5),
      code: 'circuit_open',
      circuit: 'open' as const,
    },
    {
      name: 'a refused credential',
      error: new ProviderAuthError(
        'The polling API of source "ota-a" refused the credential with HTTP 401.',
        401,
      ),
      code: 'provider_auth_failed',
      circuit: 'closed' as const,
    },
    {
      name: 'exhausted retries',
      error: new ProviderError('provider_unavailable', 'The polling API of source "ota-a" failed 6 times.'),
      code: 'provider_unavailable',
      circuit: 'half-open' as const,
    },
  ])('reports $name in source 1 with its code and circuit state, and reconciles the others', async (c) => {
    const h = harness({ scripts: { 'ota-a': [{ error: c.error }] } });
    h.source('ota-a').state = c.circuit;

    const report = await reconcile({}, h.deps);

    expect(report.sources[0]).toEqual({
      outcome: 'failed',
      sourceId: 'ota-a',
      runId: 'run-1',
      error: c.code,
      message: c.error.message,
      circuit: c.circuit,
    });
    expect(report.sources.slice(1).map((s) => [s.sourceId, s.outcome])).toEqual([
      ['ota-b', 'reconciled'],
      ['cm', 'reconciled'],
    ]);
    expect(report.parity.map((p) => p.propertyId)).toEqual(['hotel-1']);
  });

  it('runs the other sources and parity after an internal error, then throws with the partial report', async () => {
    const h = harness({
      scripts: { 'ota-a': [{ nights: [providerNight('2026-05-10', eur(10_000))] }] },
    });
    h.ari.failReads = 1;

    const error = await reconcile({}, h.deps).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );

    expect(error).toBeInstanceOf(ReconciliationFailedError);
    const failed = error as ReconciliationFailedError;
    expect(failed.code).toBe('reconciliation_failed');
    expect(failed.message).toMatch(/1 reconciliation step\(s\) failed.*ARI table unreachable/);
    expect(failed.failures).toHaveLength(1);
    expect(failed.cause).toBe(failed.failures[0]);
    expect(failed.report.sources.map((s) => [s.sourceId, s.outcome])).toEqual([
      ['ota-a', 'failed'],
      ['ota-b', 'reconciled'],
      ['cm', 'reconciled'],
    ]);
    expect(failed.report.sources[0]).toMatchObject({ error: 'internal_error', circuit: 'closed' });
    expect(failed.report.parity).toHaveLength(1);
  });

  it('collects a failing parity check like any internal error', async () => {
    const h = harness();
    h.ari.readNights = async () => {
      throw new Error('parity read failed (injected)');
    };
    const error = await reconcile({}, h.deps).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ReconciliationFailedError);
    const failed = error as ReconciliationFailedError;
    expect(failed.report.sources.every((s) => s.outcome === 'reconciled')).toBe(true);
    expect(failed.report.parity).toEqual([]);
    expect(failed.message).toContain('parity read failed');
  });
});

describe('reconcile: drift and dry run', () => {
  async function seedStaleRate(h: ReturnType<typeof harness>) {
    await h.ari.writeNight(keyOf('ota-a', '2026-05-10'), { rate: eur(9_000) }, OLD_LOCAL_VERSION, 'evt-seed');
  }
  const staleScript = { 'ota-a': [{ nights: [providerNight('2026-05-10', eur(10_000))] }] };

  it('corrects drift above the threshold when the configuration does not say dry run', async () => {
    const h = harness({ scripts: staleScript });
    await seedStaleRate(h);
    const report = await reconcile({ parity: false }, h.deps);
    const [first] = report.sources;
    expect(first?.outcome === 'reconciled' && first.correctedGroups).toBe(1);
    const [stored] = await h.ari.readNightsByKey([keyOf('ota-a', '2026-05-10')]);
    expect(stored?.rate?.value).toEqual(eur(10_000));
    expect(h.audit.records.map((r) => r.action)).toEqual(['overwritten']);
  });

  it('only measures when the request says dryRun, whatever the configuration', async () => {
    const h = harness({ scripts: staleScript });
    await seedStaleRate(h);
    const report = await reconcile({ parity: false, dryRun: true }, h.deps);
    expect(report.dryRun).toBe(true);
    const [first] = report.sources;
    if (first?.outcome !== 'reconciled') throw new Error('expected ota-a to be reconciled');
    expect(first.drift.overall).toMatchObject({ compared: 1, mismatched: 1, silentMisses: 1 });
    expect(first.drift.properties.map((p) => p.action)).toEqual(['dry_run']);
    expect(first.correctedGroups).toBe(0);
    const [stored] = await h.ari.readNightsByKey([keyOf('ota-a', '2026-05-10')]);
    expect(stored?.rate?.value).toEqual(eur(9_000));
    expect(h.audit.records).toEqual([]);
  });

  it('corrects when the request says dryRun false over a dry-run configuration', async () => {
    const config = buildConfig({
      reconciliation: { budgetSeconds: 300, parityHorizonDays: 30, drift: { dryRun: true } },
    });
    const h = harness({ config, scripts: staleScript });
    await seedStaleRate(h);
    expect((await reconcile({ parity: false }, h.deps)).dryRun).toBe(true);
    const report = await reconcile({ parity: false, dryRun: false }, h.deps);
    expect(report.dryRun).toBe(false);
    const [stored] = await h.ari.readNightsByKey([keyOf('ota-a', '2026-05-10')]);
    expect(stored?.rate?.value).toEqual(eur(10_000));
  });

  it('keys polled nights by the configured channel', async () => {
    const h = harness({ scripts: { cm: [{ nights: [providerNight('2026-05-10', eur(10_000))] }] } });
    await reconcile({ parity: false }, h.deps);
    const [stored] = await h.ari.readNightsByKey([keyOf('cm:booking', '2026-05-10')]);
    expect(stored?.rate?.value).toEqual(eur(10_000));
  });
});

describe('reconcile: parity', () => {
  it('counts the seeded differences over today .. today + parityHorizonDays - 1 and stores them', async () => {
    const h = harness();
    const seed = (channel: string, date: string, rate: Money) =>
      h.ari.writeNight(keyOf(channel, date), { rate }, OLD_LOCAL_VERSION, `evt-${channel}-${date}`);
    // Truth 100.00 EUR on four nights inside the horizon.
    for (const date of ['2026-05-02', '2026-05-03', '2026-05-04', '2026-05-31']) {
      await seed('cm', date, eur(10_000));
    }
    await seed('ota-a', '2026-05-02', eur(9_500)); // undercut: violation
    await seed('ota-b', '2026-05-02', eur(10_000)); // equal: clean
    await seed('ota-a', '2026-05-03', { amountMinor: 10_000, currency: 'USD' }); // currency mismatch
    await seed('ota-b', '2026-05-31', eur(10_001)); // last day of the horizon: violation
    // Outside the horizon (yesterday, and today + 30): never read.
    await seed('cm', '2026-05-01', eur(10_000));
    await seed('ota-a', '2026-05-01', eur(1));
    await seed('cm', '2026-06-01', eur(10_000));
    await seed('ota-a', '2026-06-01', eur(1));

    const report = await reconcile({}, h.deps);

    expect(report.parity).toEqual([
      {
        propertyId: 'hotel-1',
        from: TODAY,
        to: '2026-05-31',
        counts: {
          nightsChecked: 4,
          comparisons: 3,
          violations: 2,
          currencyMismatches: 1,
          withoutTruthRate: 0,
          unconfigured: 0,
        },
      },
    ]);
    const stored = await h.parity.list({
      propertyId: 'hotel-1',
      from: '2026-01-01',
      to: '2026-12-31',
      limit: 10,
    });
    expect(stored.items.map((r) => [r.key.date, r.findings.map((f) => `${f.kind}:${f.channel}`)])).toEqual([
      ['2026-05-02', ['price:ota-a']],
      ['2026-05-03', ['currency_mismatch:ota-a']],
      ['2026-05-31', ['price:ota-b']],
    ]);
  });

  it('skips parity when the request says parity: false', async () => {
    const h = harness();
    await h.ari.writeNight(keyOf('cm', TODAY), { rate: eur(1) }, OLD_LOCAL_VERSION, 'evt');
    const report = await reconcile({ parity: false }, h.deps);
    expect(report.parity).toEqual([]);
    expect(h.parity.puts).toBe(0);
    expect(h.events[0]).toEqual({ type: 'plan', sources: ['ota-a', 'ota-b', 'cm'], parityProperties: [] });
  });
});

describe('reconcile: progress and selection', () => {
  it('reports the plan, every page, every source and every parity property in order', async () => {
    const h = harness({
      scripts: {
        'ota-a': [{ nights: [providerNight('2026-05-10', eur(10_000))] }, {}],
      },
    });
    await reconcile({}, h.deps);
    expect(
      h.events.map((e) =>
        e.type === 'page' || e.type === 'plan'
          ? e.type
          : `${e.type}:${'sourceId' in e.result ? e.result.sourceId : e.result.propertyId}`,
      ),
    ).toEqual([
      'plan',
      'page',
      'page',
      'source:ota-a',
      'page',
      'source:ota-b',
      'page',
      'source:cm',
      'parity:hotel-1',
    ]);
    expect(h.events[0]).toEqual({
      type: 'plan',
      sources: ['ota-a', 'ota-b', 'cm'],
      parityProperties: ['hotel-1'],
    });
    expect(h.events[1]).toEqual({
      type: 'page',
      sourceId: 'ota-a',
      // The night is missing locally: its one compared group is a mismatch.
      progress: { pages: 1, nights: 1, skipped: 0, drift: 100 },
    });
  });

  it('reconciles only the requested sources, in the requested order', async () => {
    const h = harness();
    const report = await reconcile({ sourceIds: ['cm', 'ota-a'], parity: false }, h.deps);
    expect(h.clientsAskedFor).toEqual(['cm', 'ota-a']);
    expect(report.sources.map((s) => s.sourceId)).toEqual(['cm', 'ota-a']);
    // Two sources share the budget: the first gets half.
    expect(h.source('cm').calls[0]?.deadline).toBe(START + 150_000);
  });

  it('reconciles a source named twice once', async () => {
    const h = harness();
    const report = await reconcile({ sourceIds: ['cm', 'cm'], parity: false }, h.deps);
    expect(report.sources.map((s) => s.sourceId)).toEqual(['cm']);
  });

  it('reports a source whose client cannot be built as failed and runs the others', async () => {
    const h = harness();
    const clientFor = h.deps.clientFor;
    const deps: ReconcileDependencies = {
      ...h.deps,
      clientFor: (source) => {
        if (source.id === 'ota-a') throw new Error('token resolver misconfigured (injected)');
        return clientFor(source);
      },
    };
    await expect(reconcile({ parity: false }, deps)).rejects.toMatchObject({
      code: 'reconciliation_failed',
      report: {
        sources: [
          { sourceId: 'ota-a', outcome: 'failed', error: 'internal_error', circuit: 'closed' },
          { sourceId: 'ota-b', outcome: 'reconciled' },
          { sourceId: 'cm', outcome: 'reconciled' },
        ],
      },
    });
  });

  it('refuses unknown and unpolled source ids before doing anything, naming every one', async () => {
    const h = harness();
    const error = await reconcile({ sourceIds: ['ota-a', 'nope', 'pms'] }, h.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownPolledSourceError);
    const unknown = error as UnknownPolledSourceError;
    expect(unknown).toBeInstanceOf(InvalidRequestError);
    expect(unknown.code).toBe('unknown_polled_source');
    expect(unknown.message).toContain('"nope"');
    expect(unknown.message).toContain('"pms"');
    expect(unknown.message).toMatch(/no polling block/);
    expect(unknown.message).toContain('ota-a, ota-b, cm');
    expect(h.clientsAskedFor).toEqual([]);
    expect(h.events).toEqual([]);
  });
});

describe('runOptionsFor', () => {
  const config = buildConfig();
  const now = new Date(START);
  const sourceOf = (id: string) => {
    const source = polledSources(config).find((candidate) => candidate.id === id);
    if (!source) throw new Error(id);
    return source;
  };

  it('defaults the channel to the source id and the window to the epoch', () => {
    const options = runOptionsFor(sourceOf('ota-a'), config, 1_234, now, true);
    expect(options).toMatchObject({
      sourceId: 'ota-a',
      channel: 'ota-a',
      budgetMs: 1_234,
      watermarkOverlapSeconds: 300,
      fullPassEveryHours: 24,
      windowStart: new Date(0),
      drift: { thresholdPercent: 0.5, dryRun: true, recordObserved: true },
    });
  });

  it('takes the configured channel, and starts the window fullPassWindowDays before now', () => {
    const options = runOptionsFor(sourceOf('cm'), config, 5_000, now, false);
    expect(options.channel).toBe('cm:booking');
    expect(options.windowStart).toEqual(new Date('2026-04-02T10:00:00.000Z'));
    expect(options.drift.dryRun).toBe(false);
  });
});

// ------------------------------------------------------------------------------------------------ runtime

/** A provider answering whatever the test queues, counting requests and the token they carried. */
function scriptedFetch(statuses: () => number) {
  const requests: { url: string; authorization: string | undefined }[] = [];
  const fetchLike: FetchLike = async (url, init) => {
    requests.push({ url, authorization: init.headers.Authorization });
    const status = statuses();
    const response: HttpResponseLike = {
      status,
      headers: { get: () => null },
      text: async () => (status === 200 ? JSON.stringify({ results: [], next_cursor: null }) : 'unavailable'),
    };
    return response;
  };
  return { fetchLike, requests };
}

function runtimeConfig(properties: unknown[] = []) {
  return parseConfig({
    version: 1,
    sources: [
      {
        id: 'ota-a',
        kind: 'ota',
        secrets: [{ value: SIGNING_SECRET }],
        polling: {
          baseUrl: 'https://a.example.test/v1',
          token: { value: 'super-secret-token' },
          rateLimit: { requestsPerSecond: 100, burst: 10 },
          maxAttempts: 2,
          backoff: { baseMs: 1, capMs: 1 },
          breaker: { failureThreshold: 2, coolDownMs: 60_000 },
        },
      },
    ],
    properties,
  });
}

function runtimeFor(config: ParitySyncConfig, fetchLike: FetchLike, clock: ManualClock) {
  return offlineReconcileRuntime({ config, fetch: fetchLike, clock, newRunId: () => 'runtime-run' });
}

describe('createReconcileRuntime', () => {
  it('keeps one client per source across runs, so a breaker opened by one run fails the next fast', async () => {
    const clock = new ManualClock(START);
    let status = 503;
    const provider = scriptedFetch(() => status);
    const runtime = runtimeFor(runtimeConfig(), provider.fetchLike, clock);
    const checkpoints = new InMemoryCheckpointStore();
    const circuits = new InMemoryCircuitStateStore();
    const run = () =>
      reconcile({ parity: false }, { ...runtime(), ...reconcileStores({ checkpoints, circuits }) });

    const first = await run();
    expect(first.sources[0]).toMatchObject({
      outcome: 'failed',
      error: 'provider_unavailable',
      circuit: 'open',
    });
    expect(provider.requests).toHaveLength(2);
    expect(provider.requests[0]?.authorization).toBe('Bearer super-secret-token');

    clock.advance(30_000);
    const second = await run();
    expect(second.sources[0]).toMatchObject({ outcome: 'failed', error: 'circuit_open', circuit: 'open' });
    expect(provider.requests).toHaveLength(2);

    const [source] = polledSources(runtime().config);
    if (!source) throw new Error('no polled source');
    expect(runtime().clientFor(source)).toBe(runtime().clientFor(source));

    // After the cool-down one probe goes out; the provider is back, so the breaker closes.
    clock.advance(30_000);
    status = 200;
    const third = await run();
    expect(third.sources[0]).toMatchObject({ outcome: 'reconciled', status: 'complete', circuit: 'closed' });
    expect(provider.requests).toHaveLength(3);
  });

  it('saves the breaker after a run, so a cold start takes it up open instead of calling a dead provider', async () => {
    const clock = new ManualClock(START);
    const provider = scriptedFetch(() => 503);
    const circuits = new InMemoryCircuitStateStore();
    const checkpoints = new InMemoryCheckpointStore();
    // Each run in a container of its own: a fresh runtime, fresh clients, the same tables.
    const coldRun = () =>
      reconcile(
        { parity: false },
        {
          ...runtimeFor(runtimeConfig(), provider.fetchLike, clock)(),
          ...reconcileStores({ checkpoints, circuits }),
        },
      );

    expect((await coldRun()).sources[0]).toMatchObject({ outcome: 'failed', circuit: 'open' });
    const [sourceId] = [...circuits.saved.keys()];
    expect(circuits.saved.get(sourceId ?? '')).toEqual({
      state: 'open',
      failures: 2,
      openedAt: new Date(START).toISOString(),
    });
    const requestsAfterFirst = provider.requests.length;

    clock.advance(30_000);
    expect((await coldRun()).sources[0]).toMatchObject({ outcome: 'failed', error: 'circuit_open' });
    expect(provider.requests).toHaveLength(requestsAfterFirst);
  });

  it('constrains corrected availability by the property policy: capped, refused, or left as asked', () => {
    const clock = new ManualClock(START);
    const config = runtimeConfig([
      {
        propertyId: 'hotel-cap',
        roomTypes: [{ roomTypeId: 'dbl', physicalRooms: 10 }],
        inventoryPolicy: { mode: 'cap' },
      },
      {
        propertyId: 'hotel-reject',
        roomTypes: [{ roomTypeId: 'dbl', physicalRooms: 10 }],
        inventoryPolicy: { mode: 'reject' },
      },
    ]);
    const availabilityFor = runtimeFor(config, scriptedFetch(() => 200).fetchLike, clock)().availabilityFor;
    if (!availabilityFor) throw new Error('the runtime sets an availability policy');
    const key = (propertyId: string): RoomNightKey => ({
      propertyId,
      roomTypeId: 'dbl',
      ratePlanId: 'bar',
      channel: 'ota-a',
      date: '2026-05-10',
    });
    expect(availabilityFor(key('hotel-cap'), 12)).toMatchObject({ rooms: 10, requested: 12 });
    expect(availabilityFor(key('hotel-cap'), 8)).toEqual({ rooms: 8 });
    expect(availabilityFor(key('hotel-reject'), 12)).toBeUndefined();
    expect(availabilityFor(key('hotel-reject'), 10)).toEqual({ rooms: 10 });
    expect(availabilityFor(key('hotel-unconfigured'), 500)).toEqual({ rooms: 500 });
  });
});
