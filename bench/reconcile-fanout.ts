/**
 * Reconciliation fanned out over a hotel portfolio: 300 properties × 4 room types × 3 rate plans × 365 nights
 * (1,314,000 room nights) on one source polled property by property, 2 % of the nights drifted in local state.
 * A run is planned with `planRun` into an in-memory queue and N worker loops take its items with `runWorkItem`
 * until it is empty, as N concurrent invocations of the worker function would. Reported: the run's time with 1,
 * 2, 4 and 8 workers and the speed-up over one, the 429s drawn, and how the sweep's time grows from 30 to 300
 * properties against the linear expectation. Nothing here asserts a duration.
 *
 * The provider is the bottleneck, as it is in production, where each worker is a function with its own CPU: the
 * simulator answers every page after a fixed latency and limits requests per second for the whole source at a
 * rate more than 4 workers but fewer than 8 would exceed. The source's client is configured with the same rate
 * (all workers share the runtime's one client per source, so they share its limiter): speed-up should be near
 * linear until the limit binds, then flat, with no 429. No per-property quota: each item is one property, so
 * such a quota paces each worker alone and the source-wide limit is the one that fan-out runs into.
 *
 * Here the workers and the simulator share one Node thread, so their CPU work (30 to 50 µs a room night on the
 * shared 2-core development machine: serialising, parsing, validating, mapping, comparing, correcting) queues up
 * in one place. The latency is set several times a page's CPU so that waiting dominates; the table shows the
 * process's CPU share of wall time, and a share near what the machine can give the process means that figure
 * measured the CPU, not fan-out. A 1.3 M-night sweep is about a minute of that CPU, so 1, 2, 4 and 8 workers are
 * compared on a slice of the portfolio (30 properties by default) and the whole portfolio is swept once with
 * the fastest N, for the growth.
 *
 * Local state is the in-memory ARI store behind the AriStore port: seeding DynamoDB Local with 1.3 M items takes
 * far longer than the bench itself. Each run starts from the same seeded state (the nights the last run corrected
 * are put back) and fresh checkpoints (a full pass), so every run corrects the same drift.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseConfig } from '../lambdas/config/load';
import type { ParitySyncConfig } from '../lambdas/config/schema';
import type { NightWrite, RoomNightKey } from '../lambdas/domain/state';
import type { WorkQueue } from '../lambdas/queue/sqs-work-queue';
import { planRun, runWorkItem, type WorkerDependencies, type WorkMessage } from '../lambdas/reconcile/fanout';
import type { ReconcileRuntime } from '../lambdas/reconcile/runtime';
import { systemClock } from '../lambdas/shared/clock';
import type { RunDetail, SourceFigures } from '../lambdas/state/reconcile-runs';
import { MappingResolver } from '../lambdas/state/resolver';
import {
  canonicalValues,
  DemoDataset,
  generateDataset,
  type IndexedNight,
  type RoomNight,
  seededRandom,
} from '../local/simulator/dataset';
import { MAX_PAGE_SIZE, type Simulator, startSimulator } from '../local/simulator/server';
import { InMemoryAriStore, InMemoryMappingStore } from '../test/fakes/apply-memory';
import { offlineReconcileRuntime, reconcileStores } from '../test/fakes/reconcile-memory';
import { InMemoryReconcileRunStore } from '../test/fakes/reconcile-runs-memory';
import { LINEAR_TOLERANCE } from './reconcile';

export const FANOUT_WORKERS = [1, 2, 4, 8] as const;
const PORTFOLIO_PROPERTIES = 300;
const SCALING_PROPERTIES = 30;
const ROOM_TYPES = ['DBL-STD', 'TWN-STD', 'STE-DLX', 'FAM-SUP'];
const RATE_PLANS = ['BAR', 'NRF', 'MEM'];
const STAY_NIGHTS = 365;
const NIGHTS_PER_PROPERTY = ROOM_TYPES.length * RATE_PLANS.length * STAY_NIGHTS;
/** The simulator's largest page: fewest round trips per property (5 of them at 4,380 nights). */
const PAGE_SIZE = MAX_PAGE_SIZE;
/** The provider's time to answer a page, well above the CPU a page costs this process (see the header). */
const LATENCY_MS = 250;
/** Requests a second the provider allows the source: one worker makes about 3.5, so 6 workers reach it. */
const REQUESTS_PER_SECOND = 20;
/**
 * The client sends at most this many requests back to back; the provider's bucket holds more, so that a send
 * the event loop delayed (a page's CPU, a garbage collection) and one sent on time may arrive together without a
 * 429. The sustained rate is the same on both sides: that is what binds.
 */
const CLIENT_BURST = 2;
const PROVIDER_BURST = 10;
const DEFAULT_ROUNDS = 1;
const BREAKER_THRESHOLD = 50;
/** Share of each property's room nights whose local state differs from the provider's. */
const DRIFT_SHARE = 0.02;
/** How long before the provider's change the webhook that set local state happened. */
const WEBHOOK_LAG_MS = 60_000;

const SOURCE = 'cm-portfolio';
const TOKEN = 'bench-portfolio-token';
const SIGNING_SECRET = 'bench-portfolio-signing-secret-0123456789';

export interface FanoutBenchOptions {
  /** Properties in the portfolio swept whole. @default BENCH_PORTFOLIO_PROPERTIES or 300 */
  readonly properties?: number;
  /** Properties the worker counts are compared on. @default BENCH_FANOUT_SCALING_PROPERTIES or 30 */
  readonly scalingProperties?: number;
  /** Measurements per worker count and of the whole sweep; medians are reported. @default 1 */
  readonly rounds?: number;
  readonly latencyMs?: number;
  readonly requestsPerSecond?: number;
  /** @default true */
  readonly print?: boolean;
}

export interface WorkerCountResult {
  readonly workers: number;
  readonly seconds: number;
  /** Time with one worker / time with this many. */
  readonly speedUp: number;
  /** The process's CPU time / wall time: near what the machine gives one process (1 when quiet), CPU bound it. */
  readonly cpuShare: number;
  /** 429s the simulator answered (the run's own count of throttled requests agrees, or the bench fails). */
  readonly throttled: number;
  /** Requests sent again after a failure that was not a 429. */
  readonly retries: number;
  readonly requestsPerSecond: number;
}

export interface FanoutGrowthRow {
  readonly measure: string;
  readonly timeRatio: number;
  readonly linearRatio: number;
  readonly linear: boolean;
}

export interface FanoutBenchResult {
  readonly nights: number;
  readonly scalingNights: number;
  readonly workers: readonly WorkerCountResult[];
  /** The whole portfolio swept with the fastest worker count. */
  readonly sweep: { readonly workers: number; readonly seconds: number; readonly throttled: number };
  readonly growth: readonly FanoutGrowthRow[];
  /** Whether the sweep's time grows linearly with room nights (within LINEAR_TOLERANCE). */
  readonly linear: boolean;
}

// ----------------------------------------------------------------------------------------------- portfolio

const propertyCode = (index: number) => `HTL${String(index + 1).padStart(4, '0')}`;
const internalId = (code: string) => `pf-${code.toLowerCase()}`;

type DriftKind = 'missing' | 'stale_rate' | 'stale_all';

interface Portfolio {
  readonly properties: readonly string[];
  readonly dataset: DemoDataset;
  /** Local state as the webhooks left it: equal to the provider's but for the drifted nights. */
  readonly seeded: InMemoryAriStore;
  /** The store the runs correct, put back to `seeded` before each. */
  readonly local: InMemoryAriStore;
  /** Field groups that differ from the provider's, per property. */
  readonly driftGroups: ReadonlyMap<string, number>;
}

function keyOf(night: RoomNight): RoomNightKey {
  return {
    propertyId: internalId(night.propertyId),
    roomTypeId: internalId(night.roomTypeCode),
    ratePlanId: internalId(night.ratePlanCode),
    channel: SOURCE,
    date: night.date,
  };
}

/** The local values of a night: the provider's, or stale ones for a drifted night (undefined: never delivered). */
function localValues(night: RoomNight, kind: DriftKind | undefined): NightWrite | undefined {
  const values = canonicalValues(night);
  if (kind === undefined) return values;
  if (kind === 'missing') return undefined;
  return {
    rate: { ...values.rate, amountMinor: values.rate.amountMinor + 100 },
    availability: kind === 'stale_all' ? { rooms: values.availability.rooms + 1 } : values.availability,
    restrictions:
      kind === 'stale_all'
        ? { ...values.restrictions, stopSell: !values.restrictions.stopSell }
        : values.restrictions,
  };
}

/**
 * The same share drifted in every property (a seeded pick of its nights), so that any slice of the portfolio
 * holds the same drift per room night: a third never delivered, a third with a stale rate, a third stale in
 * every group.
 */
function driftOf(count: number, random: () => number): Map<number, DriftKind> {
  const order = Array.from({ length: count }, (_, index) => index);
  const kinds = new Map<number, DriftKind>();
  const drifted = Math.round(count * DRIFT_SHARE);
  for (let i = 0; i < drifted; i++) {
    const pick = i + Math.floor(random() * (count - i));
    const chosen = order[pick] as number;
    order[pick] = order[i] as number;
    kinds.set(chosen, i % 3 === 0 ? 'missing' : i % 3 === 1 ? 'stale_rate' : 'stale_all');
  }
  return kinds;
}

/**
 * The simulator's data set, indexed per property in one pass over the update order: DemoDataset filters the
 * whole data set once per property asked for, which over 300 properties costs longer than the bench.
 */
class PortfolioDataset extends DemoDataset {
  #ofProperty: Map<string, IndexedNight[]> | undefined;

  override byUpdate(propertyId?: string): readonly IndexedNight[] {
    const all = super.byUpdate();
    if (propertyId === undefined) return all;
    if (this.#ofProperty === undefined) {
      const grouped = new Map<string, IndexedNight[]>();
      for (const entry of all) {
        const list = grouped.get(entry.night.propertyId);
        if (list === undefined) grouped.set(entry.night.propertyId, [entry]);
        else list.push(entry);
      }
      this.#ofProperty = grouped;
    }
    return this.#ofProperty.get(propertyId) ?? [];
  }

  override replace(nights: readonly RoomNight[]): void {
    super.replace(nights);
    this.#ofProperty = undefined;
  }
}

async function buildPortfolio(count: number): Promise<Portfolio> {
  const properties = Array.from({ length: count }, (_, index) => propertyCode(index));
  const nights: RoomNight[] = [];
  const seeded = new InMemoryAriStore();
  const driftGroups = new Map<string, number>();
  const random = seededRandom(99);
  for (const [index, propertyId] of properties.entries()) {
    // One property at a time: the generator's own limits are well below a portfolio.
    const ofProperty = generateDataset({
      seed: 1000 + index,
      nights: NIGHTS_PER_PROPERTY,
      properties: [propertyId],
      roomTypes: ROOM_TYPES,
      ratePlans: RATE_PLANS,
    }).nights();
    const kinds = driftOf(ofProperty.length, random);
    let groups = 0;
    for (const [at, night] of ofProperty.entries()) {
      const kind = kinds.get(at);
      groups += kind === undefined ? 0 : kind === 'stale_rate' ? 1 : 3;
      const write = localValues(night, kind);
      if (write === undefined) continue;
      const version = `${new Date(Date.parse(night.updatedAt) - WEBHOOK_LAG_MS).toISOString()}#webhook`;
      await seeded.writeNight(keyOf(night), write, version, `webhook-${index}-${at}`);
    }
    nights.push(...ofProperty);
    driftGroups.set(propertyId, groups);
  }
  const dataset = new PortfolioDataset(nights);
  // Indexed here rather than inside the first timed request.
  dataset.byUpdate(properties[0]);
  const local = new InMemoryAriStore();
  for (const [id, state] of seeded.nights) local.nights.set(id, state);
  return { properties, dataset, seeded, local, driftGroups };
}

function configFor(simulator: Simulator, properties: readonly string[], rps: number): ParitySyncConfig {
  return parseConfig({
    version: 1,
    sources: [
      {
        id: SOURCE,
        kind: 'channel-manager',
        secrets: [{ value: SIGNING_SECRET }],
        polling: {
          baseUrl: simulator.url,
          token: { value: TOKEN },
          pageSize: PAGE_SIZE,
          rateLimit: { requestsPerSecond: rps, burst: CLIENT_BURST },
          requestTimeoutMs: 60_000,
          // A pause of this process (collecting a heap of about 2 GB on a busy machine) can reset every idle
          // keep-alive connection at once, failing one request per worker in a row; a remote provider's resets
          // are not correlated so. Retried as ever and counted in the table, they do not open the breaker here.
          breaker: { failureThreshold: BREAKER_THRESHOLD },
          propertyIds: properties,
        },
      },
    ],
    mappings: [
      {
        scope: '*',
        properties: Object.fromEntries(properties.map((code) => [code, internalId(code)])),
        roomTypes: Object.fromEntries(ROOM_TYPES.map((code) => [code, internalId(code)])),
        ratePlans: Object.fromEntries(RATE_PLANS.map((code) => [code, internalId(code)])),
      },
    ],
    reconciliation: { workers: Math.max(2, ...FANOUT_WORKERS) },
  });
}

/**
 * The real runtime (one polling client per source, its limiter and breaker, the availability policy) with every
 * store in memory. Its DynamoDB client points at a closed port, so a store left in place would fail loudly.
 */
function inMemoryRuntime(config: ParitySyncConfig, ari: InMemoryAriStore): ReconcileRuntime {
  // Real waits and jitter: the provider's pacing is what the worker counts are measured against.
  const real = offlineReconcileRuntime({
    config,
    clock: systemClock,
    sleep: (ms: number) => new Promise<void>((done) => setTimeout(done, ms)),
    random: Math.random,
  });
  const stores = {
    resolver: new MappingResolver(new InMemoryMappingStore(), config.mappings, systemClock),
    ...reconcileStores({ ari }),
  };
  return (onProgress) => ({ ...real(onProgress), ...stores });
}

// ------------------------------------------------------------------------------------------------- the run

/**
 * The bench's only use of the fan-out: plans one run into an array standing in for the work queue, then
 * `workers` loops take its items until none is left, as concurrent worker invocations would.
 */
async function fanOutRun(
  config: ParitySyncConfig,
  ari: InMemoryAriStore,
  workers: number,
): Promise<RunDetail> {
  const runs = new InMemoryReconcileRunStore();
  const queue: WorkMessage[] = [];
  const work: WorkQueue<WorkMessage> = {
    send: async (bodies) => {
      queue.push(...bodies);
    },
  };
  const planned = await planRun(
    { trigger: 'manual', parity: false },
    { config, runs, work, clock: systemClock },
  );
  if (planned.outcome !== 'planned') throw new Error(`the run was not planned: ${planned.reason}`);
  const deps: WorkerDependencies = {
    runtime: inMemoryRuntime(config, ari),
    runs,
    work,
    budgetMs: 15 * 60_000,
    leaseMs: 30 * 60_000,
  };
  const worker = async () => {
    for (let message = queue.shift(); message !== undefined; message = queue.shift()) {
      await runWorkItem(message, deps);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  const run = await runs.get(planned.runId);
  if (run === undefined) throw new Error(`run ${planned.runId} is not in the run log`);
  return run;
}

// ------------------------------------------------------------------------------------------- measurements

interface Sweep {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly throttled: number;
  /** Requests sent again after a failure (a connection reset, a timeout, a 5xx). */
  readonly retries: number;
}

/** A full garbage collection, without asking for `--expose-gc` on the command line. */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * Puts back the nights a run corrected. A state is replaced on write, never edited, so an entry that is not the
 * seeded object was written; nothing is allocated, which keeps a 1.3 M-entry copy per run out of the heap.
 */
function restoreSeeded(local: InMemoryAriStore, seeded: InMemoryAriStore): void {
  for (const [id, state] of local.nights) {
    const original = seeded.nights.get(id);
    if (original === undefined) local.nights.delete(id);
    else if (original !== state) local.nights.set(id, original);
  }
}

/** Each distinct failure of a run's items once, with how many items it ended. */
function failuresOf(run: RunDetail): string {
  const counts = new Map<string, { count: number; message: string }>();
  for (const item of run.items) {
    if (item.status !== 'failed') continue;
    const seen = counts.get(item.error ?? '');
    if (seen) seen.count += 1;
    else counts.set(item.error ?? '', { count: 1, message: item.message ?? '' });
  }
  return [...counts].map(([error, { count, message }]) => `${count} × ${error}: ${message}`).join('; ');
}

/** Fails the bench rather than timing a run that did different work: every night polled, the planted drift found and corrected. */
function check(run: RunDetail, properties: readonly string[], portfolio: Portfolio, throttled: number): void {
  const source: SourceFigures | undefined = run.sources[0];
  const nights = properties.length * NIGHTS_PER_PROPERTY;
  const groups = properties.reduce((sum, id) => sum + (portfolio.driftGroups.get(id) ?? 0), 0);
  const problems = [
    run.status === 'complete' ? '' : `run ${run.status}`,
    run.done === properties.length ? '' : `${run.done} of ${properties.length} items done`,
    run.failed === 0 ? '' : `${run.failed} items failed (${failuresOf(run)})`,
    source?.nightsPolled === nights ? '' : `${source?.nightsPolled} nights polled, expected ${nights}`,
    source?.mismatched === groups ? '' : `${source?.mismatched} groups mismatched, expected ${groups}`,
    source?.correctedGroups === groups
      ? ''
      : `${source?.correctedGroups} groups corrected, expected ${groups}`,
    source?.throttled === throttled
      ? ''
      : `the run counted ${source?.throttled} 429s, the provider ${throttled}`,
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new Error(
      `a fanned-out run over ${nights} nights did not do the expected work: ${problems.join(', ')}`,
    );
  }
}

async function sweep(
  setting: { simulator: Simulator; portfolio: Portfolio; rps: number },
  properties: readonly string[],
  workers: number,
): Promise<Sweep> {
  const { simulator, portfolio, rps } = setting;
  const ari = portfolio.local;
  restoreSeeded(ari, portfolio.seeded);
  // A full bucket at the provider for every run, as after a quiet spell.
  simulator.setRateLimit({ requestsPerSecond: rps, burst: PROVIDER_BURST });
  const config = configFor(simulator, properties, rps);
  // The garbage of earlier runs is collected now rather than inside this one: with the provider's data and local
  // state resident (about 2 GB), a full collection costs seconds that production workers never pay.
  collectGarbage();
  const refused = simulator.stats().rateLimited;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const run = await fanOutRun(config, ari, workers);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const throttled = simulator.stats().rateLimited - refused;
  check(run, properties, portfolio, throttled);
  return {
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    throttled,
    retries: run.sources[0]?.retries ?? 0,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function wholeFromEnv(name: string, fallback: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be a whole number from 1 to ${max}, received ${JSON.stringify(text)}`);
  }
  return value;
}

export async function reconcileFanout(options: FanoutBenchOptions = {}): Promise<FanoutBenchResult> {
  const count = options.properties ?? wholeFromEnv('BENCH_PORTFOLIO_PROPERTIES', PORTFOLIO_PROPERTIES, 1000);
  const scaling = Math.min(
    count,
    options.scalingProperties ?? wholeFromEnv('BENCH_FANOUT_SCALING_PROPERTIES', SCALING_PROPERTIES, 1000),
  );
  const rounds = options.rounds ?? wholeFromEnv('BENCH_FANOUT_ROUNDS', DEFAULT_ROUNDS, 100);
  const latencyMs = options.latencyMs ?? wholeFromEnv('BENCH_FANOUT_LATENCY_MS', LATENCY_MS, 120_000);
  const rps = options.requestsPerSecond ?? wholeFromEnv('BENCH_FANOUT_RPS', REQUESTS_PER_SECOND, 1000);
  const print = options.print ?? true;
  const log = (line: string) => print && console.log(line);

  log(`reconciliation fan-out bench: building ${count} properties × ${NIGHTS_PER_PROPERTY} room nights…`);
  const built = performance.now();
  const portfolio = await buildPortfolio(count);
  log(`  built and seeded in ${((performance.now() - built) / 1000).toFixed(1)} s`);
  const simulator = await startSimulator({
    port: 0,
    dataset: portfolio.dataset,
    token: TOKEN,
    random: () => 0,
    faults: { slowMs: latencyMs, slowRate: 1 },
  });
  const setting = { simulator, portfolio, rps };
  const slice = portfolio.properties.slice(0, scaling);
  try {
    // JIT, sockets and the resolver's cache warm up on one untimed run of a few properties.
    await sweep(setting, portfolio.properties.slice(0, Math.min(4, scaling)), 2);

    const samples = new Map<number, Sweep[]>(FANOUT_WORKERS.map((n) => [n, []]));
    for (let round = 0; round < rounds; round++) {
      // Alternate the order, so that no worker count always runs on a fuller heap.
      const order = round % 2 === 0 ? [...FANOUT_WORKERS] : [...FANOUT_WORKERS].reverse();
      for (const workers of order) {
        log(`  round ${round + 1}/${rounds}: ${slice.length} properties with ${workers} worker(s)…`);
        samples.get(workers)?.push(await sweep(setting, slice, workers));
      }
    }
    const at = (workers: number, pick: (s: Sweep) => number) =>
      median((samples.get(workers) ?? []).map(pick));
    const single = at(1, (s) => s.seconds);
    const pages = slice.length * Math.ceil(NIGHTS_PER_PROPERTY / PAGE_SIZE);
    const workerResults: WorkerCountResult[] = FANOUT_WORKERS.map((workers) => {
      const seconds = at(workers, (s) => s.seconds);
      return {
        workers,
        seconds,
        speedUp: single / seconds,
        cpuShare: at(workers, (s) => s.cpuSeconds / s.seconds),
        throttled: at(workers, (s) => s.throttled),
        retries: at(workers, (s) => s.retries),
        requestsPerSecond: pages / seconds,
      };
    });
    const best = workerResults.reduce((a, b) => (b.seconds < a.seconds ? b : a));

    const whole: Sweep[] = [];
    if (count > scaling) {
      for (let round = 0; round < rounds; round++) {
        log(`  round ${round + 1}/${rounds}: all ${count} properties with ${best.workers} worker(s)…`);
        whole.push(await sweep(setting, portfolio.properties, best.workers));
      }
    }
    const small = samples.get(best.workers) ?? [];
    const large = whole.length > 0 ? whole : small;
    const linearRatio = count / scaling;
    const growthRow = (measure: string, pick: (s: Sweep) => number): FanoutGrowthRow => {
      const timeRatio = median(large.map(pick)) / median(small.map(pick));
      return { measure, timeRatio, linearRatio, linear: timeRatio <= linearRatio * LINEAR_TOLERANCE };
    };
    const growth =
      count > scaling
        ? [
            growthRow(`sweep with ${best.workers} workers (wall time)`, (s) => s.seconds),
            growthRow('CPU of this process (ParitySync and simulator)', (s) => s.cpuSeconds),
          ]
        : [];
    const linear = growth[0]?.linear ?? true;
    const sweepResult = {
      workers: best.workers,
      seconds: median(large.map((s) => s.seconds)),
      throttled: median(large.map((s) => s.throttled)),
    };

    if (print) {
      console.log(
        `\nReconciliation fanned out over ${slice.length} properties (${slice.length * NIGHTS_PER_PROPERTY} room ` +
          `nights, ${pages} pages of up to ${PAGE_SIZE}), ${DRIFT_SHARE * 100} % drifted and corrected: the ` +
          `provider answers each page after ${latencyMs} ms and allows the source ${rps} requests/s; local state ` +
          `in memory; median of ${rounds}`,
      );
      console.table(
        workerResults.map((r) => ({
          workers: r.workers,
          seconds: Number(r.seconds.toFixed(1)),
          'speed-up vs 1': Number(r.speedUp.toFixed(2)),
          'requests/s': Number(r.requestsPerSecond.toFixed(1)),
          'provider limit': rps,
          '429s': r.throttled,
          retried: r.retries,
          'CPU / wall': `${(r.cpuShare * 100).toFixed(0)} %`,
        })),
      );
      if (growth.length > 0) {
        console.log(
          `\nGrowth from ${scaling} to ${count} properties (${scaling * NIGHTS_PER_PROPERTY} to ` +
            `${count * NIGHTS_PER_PROPERTY} room nights) with ${best.workers} workers: ${sweepResult.seconds.toFixed(1)} s ` +
            `for the whole portfolio, ${sweepResult.throttled} 429s (within ${LINEAR_TOLERANCE}× of linear reads linear)`,
        );
        console.table(
          growth.map((g) => ({
            measure: g.measure,
            't(large) / t(small)': Number(g.timeRatio.toFixed(2)),
            linear: g.linearRatio,
            verdict: g.linear ? 'linear' : 'SUPERLINEAR',
          })),
        );
      }
    }
    return {
      nights: count * NIGHTS_PER_PROPERTY,
      scalingNights: scaling * NIGHTS_PER_PROPERTY,
      workers: workerResults,
      sweep: sweepResult,
      growth,
      linear,
    };
  } finally {
    await simulator.stop();
  }
}

if (require.main === module) {
  reconcileFanout().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
