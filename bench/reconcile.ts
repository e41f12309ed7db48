/**
 * Reconciliation throughput: one full reconciliation run (poll the provider simulator over loopback HTTP with
 * rate limiting off, map ids, compare with local state, correct the drift) at several sizes, against the
 * polling client alone paging the same data in the same run. Reported as room nights per second, the time
 * ratio between the largest and smallest size next to the linear expectation, and the cost of mapping,
 * comparing and correcting relative to polling; nothing here asserts a duration.
 *
 * Local state is the in-memory ARI store, so the figures measure ParitySync's own reconciliation work rather
 * than a database; the store's own time is reported separately so that a slow fake cannot hide in the total.
 * The simulator shares the process, so "polling" includes the provider's serialising of its pages too.
 */

import { PollingOptionsSchema } from '../lambdas/config/reconcile-options';
import type { NightWrite, RoomNightKey } from '../lambdas/domain/state';
import { PollingClient } from '../lambdas/reconcile/polling-client';
import {
  type ReconcileRunDeps,
  ReconcileRunOptionsSchema,
  type RunSummary,
  runReconciliation,
} from '../lambdas/reconcile/run';
import { systemClock } from '../lambdas/shared/clock';
import type { AriStore } from '../lambdas/state/ports';
import { MappingResolver } from '../lambdas/state/resolver';
import {
  canonicalValues,
  type DemoDataset,
  generateDataset,
  type RoomNight,
  seededRandom,
} from '../local/simulator/dataset';
import { type Simulator, startSimulator } from '../local/simulator/server';
import { InMemoryAriStore, InMemoryMappingStore } from '../test/fakes/apply-memory';
import { InMemoryAuditLog, InMemoryCheckpointStore } from '../test/fakes/reconcile-memory';

/** A time ratio within this factor of the size ratio reads as linear. */
export const LINEAR_TOLERANCE = 1.3;
const DEFAULT_NIGHTS = [10_000, 100_000] as const;
const DEFAULT_ROUNDS = 3;
/** The largest page the simulator and the client accept: fewest round trips, so the run's own work shows. */
const PAGE_SIZE = 1000;
/** Share of room nights whose local state differs from the provider's (dropped or superseded webhooks). */
const DRIFT_SHARE = 0.02;

const SOURCE = 'ota-bench';
const TOKEN = 'bench-token-0123456789';
const PROPERTIES = Array.from({ length: 20 }, (_, index) => `HOTEL${String(index + 1).padStart(3, '0')}`);
const ROOM_TYPES = ['DBL-STD', 'TWN-STD', 'STE-DLX'];
const RATE_PLANS = ['BAR', 'NRF'];
/** How long before the provider's change the webhook that set local state happened. */
const WEBHOOK_LAG_MS = 60_000;

export interface ReconcileBenchOptions {
  /** Sizes to measure, in room nights; growth is reported between the smallest and the largest. */
  readonly nights?: readonly number[];
  /** Measurements per size; medians are reported. */
  readonly rounds?: number;
  /** Print the tables and a line of progress per size. @default true */
  readonly print?: boolean;
}

export interface ReconcileSizeResult {
  readonly nights: number;
  /** The polling client alone paging every night (HTTP + JSON + record validation). */
  readonly pollNightsPerSecond: number;
  /** A full run with DRIFT_SHARE of the nights drifted, corrected in the run. */
  readonly runNightsPerSecond: number;
  /** The same run again on the now-corrected state: everything compared, nothing written. */
  readonly inSyncNightsPerSecond: number;
  /** Full run time / polling-alone time: 1 would mean mapping, comparing and correcting cost nothing. */
  readonly runToPollRatio: number;
  /** The full run's time outside polling (mapping, comparing, correcting) / polling-alone time. */
  readonly workToPollRatio: number;
  /** Share of the full run spent waiting for pages (the rest is mapping, comparing and correcting). */
  readonly pollingShareOfRun: number;
  /** Share of the full run spent inside the in-memory store (reads by key and conditional writes). */
  readonly storeShareOfRun: number;
  /** Field groups that differ from the provider's before the full run (the same state every round). */
  readonly mismatchedGroups: number;
  /** Of those, groups the full run corrected: properties whose drift stays under the threshold are only observed. */
  readonly correctedGroups: number;
}

export interface GrowthRow {
  readonly measure: string;
  /** t(largest) / t(smallest). */
  readonly timeRatio: number;
  /** largest / smallest: what a linear cost gives. */
  readonly linearRatio: number;
  readonly linear: boolean;
}

export interface ReconcileBenchResult {
  readonly sizes: readonly ReconcileSizeResult[];
  /** Empty when only one size was measured. */
  readonly growth: readonly GrowthRow[];
  /** Whether the full run's time grows linearly (within LINEAR_TOLERANCE); true with a single size. */
  readonly linear: boolean;
}

// ----------------------------------------------------------------------------------------------- fixtures

/** Wraps a store to add up the time spent in it; calls are sequential within a run, so the sum is exact. */
class TimedAriStore implements AriStore {
  ms = 0;
  constructor(readonly inner: AriStore) {}

  async writeNight(...args: Parameters<AriStore['writeNight']>) {
    const started = performance.now();
    try {
      return await this.inner.writeNight(...args);
    } finally {
      this.ms += performance.now() - started;
    }
  }
  async readNightsByKey(keys: Parameters<AriStore['readNightsByKey']>[0]) {
    const started = performance.now();
    try {
      return await this.inner.readNightsByKey(keys);
    } finally {
      this.ms += performance.now() - started;
    }
  }
  readNights(query: Parameters<AriStore['readNights']>[0]) {
    return this.inner.readNights(query);
  }
}

const internalId = (code: string) => `bench-${code.toLowerCase()}`;

function keyOf(night: RoomNight): RoomNightKey {
  return {
    propertyId: internalId(night.propertyId),
    roomTypeId: internalId(night.roomTypeCode),
    ratePlanId: internalId(night.ratePlanCode),
    channel: SOURCE,
    date: night.date,
  };
}

type DriftKind = 'missing' | 'stale_rate' | 'stale_all';

/**
 * Which nights drift and how: DRIFT_SHARE of them, picked by a seeded shuffle, a third never delivered, a third
 * with a stale rate, a third stale in every group. Returns the kinds and the field groups the run must correct.
 */
function planDrift(size: number): { kinds: Map<number, DriftKind>; groups: number } {
  const random = seededRandom(99);
  const order = Array.from({ length: size }, (_, index) => index);
  const count = Math.round(size * DRIFT_SHARE);
  const kinds = new Map<number, DriftKind>();
  let groups = 0;
  for (let i = 0; i < count; i++) {
    const pick = i + Math.floor(random() * (size - i));
    const chosen = order[pick] as number;
    order[pick] = order[i] as number;
    const kind: DriftKind = i % 3 === 0 ? 'missing' : i % 3 === 1 ? 'stale_rate' : 'stale_all';
    kinds.set(chosen, kind);
    groups += kind === 'stale_rate' ? 1 : 3;
  }
  return { kinds, groups };
}

/** Local state built directly in the store (no HTTP): equal to the provider's except for the drifted nights. */
async function seededStore(nights: readonly RoomNight[], kinds: ReadonlyMap<number, DriftKind>) {
  const store = new InMemoryAriStore();
  for (const [index, night] of nights.entries()) {
    const kind = kinds.get(index);
    if (kind === 'missing') continue;
    const values = canonicalValues(night);
    const write: NightWrite =
      kind === undefined
        ? values
        : {
            rate: { ...values.rate, amountMinor: values.rate.amountMinor + 100 },
            availability:
              kind === 'stale_all' ? { rooms: values.availability.rooms + 1 } : values.availability,
            restrictions:
              kind === 'stale_all'
                ? { ...values.restrictions, stopSell: !values.restrictions.stopSell }
                : values.restrictions,
          };
    const version = `${new Date(Date.parse(night.updatedAt) - WEBHOOK_LAG_MS).toISOString()}#webhook-${index}`;
    await store.writeNight(keyOf(night), write, version, `webhook-${index}`);
  }
  return store;
}

async function resolver(): Promise<MappingResolver> {
  const store = new InMemoryMappingStore();
  const entries = [
    ...PROPERTIES.map((code) => ['property', code] as const),
    ...ROOM_TYPES.map((code) => ['roomType', code] as const),
    ...RATE_PLANS.map((code) => ['ratePlan', code] as const),
  ];
  for (const [entity, code] of entries) {
    await store.put({ scope: SOURCE, entity, externalId: code }, { internalId: internalId(code) });
  }
  return new MappingResolver(store, [], systemClock);
}

function clientFor(simulator: Simulator): PollingClient {
  return new PollingClient(
    PollingOptionsSchema.parse({
      baseUrl: simulator.url,
      pageSize: PAGE_SIZE,
      // The schema's ceiling: at PAGE_SIZE nights a page it is never reached, so no request waits.
      rateLimit: { requestsPerSecond: 1000, burst: 1000 },
      requestTimeoutMs: 60_000,
    }),
    {
      sourceId: SOURCE,
      fetch: (url, init) => fetch(url, init),
      clock: systemClock,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: seededRandom(7),
      token: async () => TOKEN,
    },
  );
}

// ------------------------------------------------------------------------------------------- measurements

const seconds = (startedMs: number) => (performance.now() - startedMs) / 1000;

/** The polling client alone: every page of the same scan a full pass makes, records validated, nothing else. */
async function pollOnly(simulator: Simulator, expected: number): Promise<number> {
  const started = performance.now();
  let nights = 0;
  for await (const page of clientFor(simulator).pages({
    updatedAfter: new Date(0),
    deadline: Date.now() + 15 * 60_000,
  })) {
    nights += page.nights.length;
  }
  const elapsed = seconds(started);
  if (nights !== expected) throw new Error(`polling alone read ${nights} nights, expected ${expected}`);
  return elapsed;
}

interface RunTiming {
  readonly seconds: number;
  readonly pollingSeconds: number;
  readonly storeSeconds: number;
  readonly summary: RunSummary;
}

let runs = 0;

/** One full reconciliation run (a full pass: a fresh checkpoint store) on `store`. */
async function reconcileOnce(
  simulator: Simulator,
  store: InMemoryAriStore,
  mappings: MappingResolver,
): Promise<RunTiming> {
  const client = clientFor(simulator);
  let pollingMs = 0;
  // Times each page's wait: the run pulls pages one at a time, so this is polling and the rest is its own work.
  const timedClient: ReconcileRunDeps['client'] = {
    async *pages(params) {
      const pages = client.pages(params);
      for (;;) {
        const started = performance.now();
        const next = await pages.next();
        pollingMs += performance.now() - started;
        if (next.done) return next.value;
        yield next.value;
      }
    },
  };
  const ari = new TimedAriStore(store);
  const started = performance.now();
  const summary = await runReconciliation(
    ReconcileRunOptionsSchema.parse({ sourceId: SOURCE, channel: SOURCE, budgetMs: 15 * 60_000 }),
    {
      client: timedClient,
      resolver: mappings,
      ari,
      audit: new InMemoryAuditLog(),
      checkpoints: new InMemoryCheckpointStore(),
      clock: systemClock,
      runId: `bench-${++runs}`,
    },
  );
  return {
    seconds: seconds(started),
    pollingSeconds: pollingMs / 1000,
    storeSeconds: ari.ms / 1000,
    summary,
  };
}

/**
 * Fails the bench rather than timing a run that did different work: every night polled and mapped, exactly the
 * planted mismatches found. A property whose drift stays under the threshold is only observed, so the groups
 * corrected can be fewer than those mismatched; what the first run left is what the second one finds.
 */
function check(summary: RunSummary, nights: number, mismatched: number): void {
  const problems = [
    summary.status === 'complete' ? '' : `status ${summary.status}`,
    summary.nightsPolled === nights ? '' : `${summary.nightsPolled} nights polled`,
    summary.mapped === nights ? '' : `${summary.mapped} mapped`,
    summary.drift.overall.mismatched === mismatched
      ? ''
      : `${summary.drift.overall.mismatched} groups mismatched, expected ${mismatched}`,
    summary.skippedCorrections === 0 ? '' : `${summary.skippedCorrections} corrections skipped`,
    summary.throttled === 0 ? '' : `${summary.throttled} throttled requests`,
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new Error(
      `reconciliation of ${nights} nights did not do the expected work: ${problems.join(', ')}`,
    );
  }
}

interface SizeTimings {
  readonly result: ReconcileSizeResult;
  readonly pollSeconds: number;
  readonly runSeconds: number;
  readonly inSyncSeconds: number;
  readonly workSeconds: number;
  readonly seedSeconds: number;
}

interface Sample {
  readonly seed: number;
  readonly poll: number;
  readonly run: number;
  readonly runPolling: number;
  readonly runStore: number;
  readonly inSync: number;
}

/**
 * Times `repeats` back-to-back runs of each kind and returns seconds per run, so that a sample of a small size
 * covers as many room nights as one of the largest: JIT and garbage collection then weigh on both alike, and
 * the smaller size's fixed costs are not lost in timer noise.
 */
async function sample(
  size: number,
  repeats: number,
  round: number,
  setting: { simulator: Simulator; nights: readonly RoomNight[]; mappings: MappingResolver },
  drift: { kinds: ReadonlyMap<number, DriftKind>; groups: number },
): Promise<Sample & { corrected: number }> {
  const { simulator, nights, mappings } = setting;
  const seedStarted = performance.now();
  const stores: InMemoryAriStore[] = [];
  for (let i = 0; i < repeats; i++) stores.push(await seededStore(nights, drift.kinds));
  const seed = seconds(seedStarted);
  const pollAll = async () => {
    let total = 0;
    for (let i = 0; i < repeats; i++) total += await pollOnly(simulator, size);
    return total;
  };
  // Alternate which goes first, so that neither always runs on a fuller heap.
  let poll = round % 2 === 0 ? await pollAll() : 0;
  let run = 0;
  let runPolling = 0;
  let runStore = 0;
  let corrected = 0;
  for (const store of stores) {
    const timing = await reconcileOnce(simulator, store, mappings);
    check(timing.summary, size, drift.groups);
    run += timing.seconds;
    runPolling += timing.pollingSeconds;
    runStore += timing.storeSeconds;
    corrected = timing.summary.correctedGroups;
  }
  let inSync = 0;
  for (const store of stores) {
    // Corrected state now equals the provider's: the same run again compares everything and writes nothing.
    const timing = await reconcileOnce(simulator, store, mappings);
    check(timing.summary, size, drift.groups - corrected);
    inSync += timing.seconds;
  }
  if (round % 2 === 1) poll = await pollAll();
  return {
    seed: seed / repeats,
    poll: poll / repeats,
    run: run / repeats,
    runPolling: runPolling / repeats,
    runStore: runStore / repeats,
    inSync: inSync / repeats,
    corrected,
  };
}

async function measureSize(
  size: number,
  largest: number,
  rounds: number,
  warmUp: boolean,
  print: boolean,
): Promise<SizeTimings> {
  const dataset: DemoDataset = generateDataset({
    seed: 31,
    nights: size,
    properties: PROPERTIES,
    roomTypes: ROOM_TYPES,
    ratePlans: RATE_PLANS,
  });
  dataset.byUpdate(); // Sorted once here, not inside the first timed request.
  const nights = dataset.nights();
  const drift = planDrift(size);
  const mappings = await resolver();
  const simulator = await startSimulator({
    port: 0,
    host: '127.0.0.1',
    dataset,
    token: TOKEN,
    random: () => 0,
  });
  const setting = { simulator, nights, mappings };
  const repeats = Math.max(1, Math.round(largest / size));
  if (print) {
    console.log(
      `reconciliation bench: ${size} room nights, ${rounds} rounds${repeats > 1 ? ` of ${repeats} runs` : ''}…`,
    );
  }
  try {
    // JIT, sockets and the resolver's cache warm up on one untimed sample.
    if (warmUp) await sample(size, repeats, 0, setting, drift);
    const samples: (Sample & { corrected: number })[] = [];
    for (let round = 0; round < rounds; round++)
      samples.push(await sample(size, repeats, round, setting, drift));
    const at = (pick: (s: Sample) => number) => median(samples.map(pick));
    const runSeconds = at((s) => s.run);
    const pollSeconds = at((s) => s.poll);
    const inSyncSeconds = at((s) => s.inSync);
    return {
      pollSeconds,
      runSeconds,
      inSyncSeconds,
      workSeconds: at((s) => s.run - s.runPolling),
      seedSeconds: at((s) => s.seed),
      result: {
        nights: size,
        pollNightsPerSecond: size / pollSeconds,
        runNightsPerSecond: size / runSeconds,
        inSyncNightsPerSecond: size / inSyncSeconds,
        runToPollRatio: at((s) => s.run / s.poll),
        workToPollRatio: at((s) => (s.run - s.runPolling) / s.poll),
        pollingShareOfRun: at((s) => s.runPolling / s.run),
        storeShareOfRun: at((s) => s.runStore / s.run),
        mismatchedGroups: drift.groups,
        correctedGroups: samples[0]?.corrected ?? 0,
      },
    };
  } finally {
    await simulator.stop();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function sizesFromEnv(): number[] | undefined {
  const text = process.env.BENCH_RECONCILE_NIGHTS;
  if (text === undefined || text.trim() === '') return undefined;
  return text.split(',').map((part) => {
    const value = Number(part.trim());
    if (!Number.isInteger(value) || value < 1 || value > 200_000) {
      throw new RangeError(
        `BENCH_RECONCILE_NIGHTS must list whole numbers from 1 to 200000 separated by commas, received ${JSON.stringify(text)}`,
      );
    }
    return value;
  });
}

const pct = (share: number) => `${(share * 100).toFixed(0)} %`;

export async function reconcileThroughput(
  options: ReconcileBenchOptions = {},
): Promise<ReconcileBenchResult> {
  const sizes = [...(options.nights ?? sizesFromEnv() ?? DEFAULT_NIGHTS)].sort((a, b) => a - b);
  const rounds = options.rounds ?? Number(process.env.BENCH_RECONCILE_ROUNDS ?? DEFAULT_ROUNDS);
  const print = options.print ?? true;
  if (sizes.length === 0) throw new RangeError('reconcileThroughput needs at least one size');
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new RangeError(`rounds must be at least 1, received ${rounds}`);

  const largestSize = sizes.at(-1) ?? 0;
  const timings: SizeTimings[] = [];
  for (const [index, size] of sizes.entries()) {
    timings.push(await measureSize(size, largestSize, rounds, index === 0, print));
  }

  const smallest = timings[0];
  const largest = timings.at(-1);
  const growth: GrowthRow[] = [];
  if (smallest && largest && largest.result.nights > smallest.result.nights) {
    const linearRatio = largest.result.nights / smallest.result.nights;
    const row = (measure: string, pick: (t: SizeTimings) => number): GrowthRow => {
      const timeRatio = pick(largest) / pick(smallest);
      // Faster than linear is fine: fixed costs weigh more on the small run.
      return { measure, timeRatio, linearRatio, linear: timeRatio <= linearRatio * LINEAR_TOLERANCE };
    };
    growth.push(
      row(`full run (${DRIFT_SHARE * 100} % drift, corrected)`, (t) => t.runSeconds),
      row('in-sync run (compare only)', (t) => t.inSyncSeconds),
      row('map + compare + correct (run minus its polling)', (t) => t.workSeconds),
      row('polling alone (baseline)', (t) => t.pollSeconds),
      row('seeding the in-memory store (writeNight per night)', (t) => t.seedSeconds),
    );
  }
  const linear = growth[0]?.linear ?? true;

  if (print) {
    console.log(
      `\nReconciliation (simulator over loopback HTTP in this process, rate limit off, ${PAGE_SIZE}-night pages, ` +
        `${DRIFT_SHARE * 100} % of nights drifted; local state in the in-memory ARI store, not DynamoDB): ` +
        `room nights/s, median of ${rounds}`,
    );
    console.table(
      timings.map(({ result: r }) => ({
        'room nights': r.nights,
        'polling alone nights/s': Math.round(r.pollNightsPerSecond),
        'full run nights/s': Math.round(r.runNightsPerSecond),
        'in-sync run nights/s': Math.round(r.inSyncNightsPerSecond),
        'run / polling alone': Number(r.runToPollRatio.toFixed(2)),
        'map+compare+correct / polling alone': Number(r.workToPollRatio.toFixed(2)),
        'run spent in store': pct(r.storeShareOfRun),
        'groups mismatched': r.mismatchedGroups,
        corrected: r.correctedGroups,
      })),
    );
    if (growth.length > 0) {
      console.log(
        `\nGrowth from ${smallest?.result.nights} to ${largest?.result.nights} room nights: time ratio, and linear ` +
          `expectation (within ${LINEAR_TOLERANCE}× reads linear)`,
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
  return { sizes: timings.map((t) => t.result), growth, linear };
}

if (require.main === module) {
  reconcileThroughput().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
