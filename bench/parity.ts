/**
 * What rate parity costs. Parity on change: the items read per changed room night (its channels' states by one
 * Query, its findings by one GetItem when it comes out clean), for horizons of 30, 365 and 730 nights and 2 and 4
 * channels; the target is at most channels + 1 whatever the horizon. The full parity sweep (the reconciliation's
 * parity step, every night of every parity property over its horizon): its time from 130k to 1.3M ARI items,
 * against the size ratio (within LINEAR_TOLERANCE reads linear, as bench/reconcile.ts reports growth), and its
 * items read per item held. Reported as counts and ratios; nothing here asserts a duration.
 *
 * Both run on in-memory stores behind the same ports the DynamoDB stores implement, counting the items each read
 * returns: seeding DynamoDB Local with 1.3M items takes far longer than the few minutes a bench run has, and the
 * item counts are what DynamoDB bills. That the DynamoDB store's Query of one night reads that night's channels and
 * not its neighbours is tested against DynamoDB Local (test/integration/parity-on-change.test.ts). The sweep's
 * store keeps each property's items sorted as the table's sort key does, so that a page costs what it reads and
 * not the property's size: the growth measured is the sweep's own.
 */

import { type ParityOptions, ParityOptionsSchema } from '../lambdas/config/reconcile-options';
import { addDays } from '../lambdas/domain/dates';
import type { Page } from '../lambdas/domain/page';
import type { RoomNightKey, RoomNightState } from '../lambdas/domain/state';
import { checkNightParity, type ParityNightStore } from '../lambdas/parity/on-change';
import { checkPropertyParity } from '../lambdas/reconcile/parity';
import { fixedClock } from '../lambdas/shared/clock';
import { paritySortKey } from '../lambdas/state/dynamodb-parity';
import type { AriQuery, AriStore, ParityNightKey, ParityRecord } from '../lambdas/state/ports';
import { InMemoryParityStore } from '../test/fakes/reconcile-memory';
import { LINEAR_TOLERANCE } from './reconcile';

const TODAY = '2026-06-01';
const clock = fixedClock(`${TODAY}T08:00:00Z`);
const TRUTH = 'cm';
const ROOM_TYPES = ['dbl', 'twn'];
const RATE_PLANS = ['bar', 'nrf'];
/** One night in this many has a channel rate out of parity. */
const OUT_OF_PARITY_EVERY = 50;
const TOLERANCE = { absoluteMinor: 5 };

const HORIZONS = [30, 365, 730] as const;
const CHANNEL_COUNTS = [2, 4] as const;
/** Changed nights checked per horizon and channel count. */
const CHANGES = 500;

/** The sweep's horizon, and its sizes in ARI items: properties × horizon × room types × rate plans × channels. */
const SWEEP_HORIZON = 365;
const SWEEP_CHANNELS = 3;
const ITEMS_PER_PROPERTY = SWEEP_HORIZON * ROOM_TYPES.length * RATE_PLANS.length * SWEEP_CHANNELS;
const DEFAULT_SWEEP_PROPERTIES = [30, 300] as const;
const DEFAULT_ROUNDS = 3;

/**
 * ARI items of a few properties, each kept in the ARI table's sort-key order (date, room type, rate plan,
 * channel), with the two reads parity makes, counting the items they return.
 */
class CountingAriStore implements AriStore {
  itemsRead = 0;
  queries = 0;
  private readonly byProperty = new Map<string, RoomNightState[]>();
  private readonly byNight = new Map<string, RoomNightState[]>();

  /** `items` must come in sort-key order, as `seed` makes them. */
  add(propertyId: string, items: readonly RoomNightState[]): void {
    const sorted = this.byProperty.get(propertyId) ?? [];
    for (const item of items) {
      sorted.push(item);
      const night = nightKey(item.key);
      const channels = this.byNight.get(night) ?? [];
      channels.push(item);
      this.byNight.set(night, channels);
    }
    this.byProperty.set(propertyId, sorted);
  }

  async writeNight(): Promise<never> {
    throw new Error('The parity bench reads only: its items are seeded with `add`');
  }

  async readNightsByKey(keys: readonly RoomNightKey[]): Promise<readonly RoomNightState[]> {
    const found = keys.flatMap((key) =>
      (this.byNight.get(nightKey(key)) ?? []).filter((item) => item.key.channel === key.channel),
    );
    this.itemsRead += found.length;
    return found;
  }

  /** One Query of the night's sort-key prefix: its channels and nothing else. */
  async readNightChannels(key: ParityNightKey): Promise<readonly RoomNightState[]> {
    this.queries += 1;
    const channels = this.byNight.get(nightKey(key)) ?? [];
    this.itemsRead += channels.length;
    return channels;
  }

  /** A page of a property's date range; the cursor is the position of the next item. */
  async readNights(query: AriQuery): Promise<Page<RoomNightState>> {
    this.queries += 1;
    const items = this.byProperty.get(query.propertyId) ?? [];
    let index = query.cursor === undefined ? firstOnOrAfter(items, query.from) : Number(query.cursor);
    const page: RoomNightState[] = [];
    for (; index < items.length && page.length < query.limit; index += 1) {
      const item = items[index] as RoomNightState;
      if (item.key.date > query.to) break;
      page.push(item);
    }
    this.itemsRead += page.length;
    const next = items[index];
    return next !== undefined && next.key.date <= query.to
      ? { items: page, cursor: String(index) }
      : { items: page };
  }
}

function nightKey(key: ParityNightKey): string {
  return `${key.propertyId}|${key.date}|${key.roomTypeId}|${key.ratePlanId}`;
}

function firstOnOrAfter(items: readonly RoomNightState[], date: string): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((items[middle] as RoomNightState).key.date < date) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Channel ids in sort-key order, the truth channel among them. */
function channelsOf(count: number): string[] {
  return [TRUTH, ...Array.from({ length: count - 1 }, (_, index) => `ota-${index + 1}`)].sort();
}

/**
 * A property's items over `horizon` nights from today, in sort-key order: every channel at the truth's rate but
 * one night in OUT_OF_PARITY_EVERY, where one channel is 1 % above it.
 */
function seed(propertyId: string, horizon: number, channels: readonly string[]): RoomNightState[] {
  const items: RoomNightState[] = [];
  let night = 0;
  for (let day = 0; day < horizon; day += 1) {
    const date = addDays(TODAY, day);
    for (const roomTypeId of ROOM_TYPES) {
      for (const ratePlanId of RATE_PLANS) {
        night += 1;
        const outOfParity = night % OUT_OF_PARITY_EVERY === 0;
        for (const channel of channels) {
          const amountMinor = outOfParity && channel !== TRUTH ? 10_100 : 10_000;
          items.push({
            key: { propertyId, date, roomTypeId, ratePlanId, channel },
            rate: { value: { amountMinor, currency: 'EUR' }, version: '000001', eventId: 'seed' },
          });
        }
      }
    }
  }
  return items;
}

function parityOptions(propertyIds: readonly string[]): ParityOptions {
  return ParityOptionsSchema.parse({
    properties: propertyIds.map((propertyId) => ({ propertyId, sourceOfTruth: TRUTH, tolerance: TOLERANCE })),
  });
}

/** The findings store with the single-night read parity on change makes, counting it. */
function countingFindings(): { store: ParityNightStore; reads: () => number } {
  const parity = new InMemoryParityStore();
  let reads = 0;
  return {
    store: {
      putNight: (record) => parity.putNight(record),
      async getNight(key: ParityNightKey): Promise<ParityRecord | undefined> {
        reads += 1;
        return parity.nights.get(key.propertyId)?.get(paritySortKey(key));
      },
    },
    reads: () => reads,
  };
}

export interface ChangeReadsRow {
  readonly horizon: number;
  readonly channels: number;
  readonly itemsInTable: number;
  readonly changedNights: number;
  readonly meanReadsPerChange: number;
  readonly maxReadsPerChange: number;
  /** channels + 1 */
  readonly target: number;
  readonly meetsTarget: boolean;
}

/** Items read per changed night, checked one by one as the stream delivers them. */
async function readsPerChange(horizon: number, channelCount: number): Promise<ChangeReadsRow> {
  const propertyId = `h${horizon}-c${channelCount}`;
  const channels = channelsOf(channelCount);
  const ari = new CountingAriStore();
  const items = seed(propertyId, horizon, channels);
  ari.add(propertyId, items);
  const findings = countingFindings();
  const settings = { parity: parityOptions([propertyId]), horizonDays: horizon };
  const deps = { ari, store: findings.store, clock };

  // Spread over the horizon, so that out-of-parity and clean nights both come up.
  const step = Math.max(1, Math.floor(items.length / CHANGES));
  const changed: RoomNightKey[] = [];
  for (let index = 0; index < items.length && changed.length < CHANGES; index += step) {
    changed.push((items[index] as RoomNightState).key);
  }
  let total = 0;
  let max = 0;
  for (const key of changed) {
    const before = ari.itemsRead + findings.reads();
    await checkNightParity(key, deps, settings);
    const reads = ari.itemsRead + findings.reads() - before;
    total += reads;
    max = Math.max(max, reads);
  }
  return {
    horizon,
    channels: channelCount,
    itemsInTable: items.length,
    changedNights: changed.length,
    meanReadsPerChange: total / changed.length,
    maxReadsPerChange: max,
    target: channelCount + 1,
    meetsTarget: max <= channelCount + 1,
  };
}

export interface SweepSizeResult {
  readonly properties: number;
  readonly items: number;
  /** Median seconds of one sweep of every property. */
  readonly seconds: number;
  readonly itemsPerSecond: number;
  /** ARI items read / ARI items in the horizon: 1 means each is read once. */
  readonly readsPerItem: number;
  readonly queries: number;
  readonly nightsFlagged: number;
}

async function sweep(properties: number, rounds: number): Promise<SweepSizeResult> {
  const ari = new CountingAriStore();
  const propertyIds = Array.from({ length: properties }, (_, index) => `p${String(index).padStart(4, '0')}`);
  const channels = channelsOf(SWEEP_CHANNELS);
  for (const propertyId of propertyIds) ari.add(propertyId, seed(propertyId, SWEEP_HORIZON, channels));
  const options = parityOptions(propertyIds);
  const to = addDays(TODAY, SWEEP_HORIZON - 1);

  const times: number[] = [];
  let reads = 0;
  let queries = 0;
  let flagged = 0;
  for (let round = 0; round < rounds; round += 1) {
    // A fresh findings store each round: every round finds and writes the same findings.
    const store = new InMemoryParityStore();
    ari.itemsRead = 0;
    ari.queries = 0;
    const started = performance.now();
    for (const propertyId of propertyIds) {
      await checkPropertyParity({ propertyId, from: TODAY, to }, { ari, store, clock }, options);
    }
    times.push((performance.now() - started) / 1000);
    reads = ari.itemsRead;
    queries = ari.queries;
    flagged = [...store.nights.values()].reduce((sum, nights) => sum + nights.size, 0);
  }
  const seconds = median(times);
  const items = properties * ITEMS_PER_PROPERTY;
  return {
    properties,
    items,
    seconds,
    itemsPerSecond: items / seconds,
    readsPerItem: reads / items,
    queries,
    nightsFlagged: flagged,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export interface ParityBenchOptions {
  /** Parity properties per sweep size, each of ITEMS_PER_PROPERTY items. @default 30 and 300 (131k, 1.3M) */
  readonly sweepProperties?: readonly number[];
  readonly rounds?: number;
  /** @default true */
  readonly print?: boolean;
}

export interface ParityBenchResult {
  readonly changes: readonly ChangeReadsRow[];
  /** Every changed night read at most channels + 1 items, at every horizon. */
  readonly changeReadsMeetTarget: boolean;
  readonly sweeps: readonly SweepSizeResult[];
  /** t(largest) / t(smallest) and items(largest) / items(smallest). */
  readonly sweepTimeRatio: number;
  readonly sweepSizeRatio: number;
  readonly sweepLinear: boolean;
}

export async function parityCost(options: ParityBenchOptions = {}): Promise<ParityBenchResult> {
  const print = options.print ?? true;
  const rounds = options.rounds ?? Number(process.env.BENCH_PARITY_ROUNDS ?? DEFAULT_ROUNDS);
  const changes: ChangeReadsRow[] = [];
  for (const horizon of HORIZONS) {
    for (const channels of CHANNEL_COUNTS) changes.push(await readsPerChange(horizon, channels));
  }
  const sweeps: SweepSizeResult[] = [];
  for (const properties of options.sweepProperties ?? DEFAULT_SWEEP_PROPERTIES) {
    if (print)
      console.log(`Parity sweep: ${properties} properties, ${properties * ITEMS_PER_PROPERTY} ARI items…`);
    sweeps.push(await sweep(properties, rounds));
  }
  const smallest = sweeps[0];
  const largest = sweeps.at(-1);
  const sweepTimeRatio = smallest && largest ? largest.seconds / smallest.seconds : 1;
  const sweepSizeRatio = smallest && largest ? largest.items / smallest.items : 1;
  const result: ParityBenchResult = {
    changes,
    changeReadsMeetTarget: changes.every((row) => row.meetsTarget),
    sweeps,
    sweepTimeRatio,
    sweepSizeRatio,
    sweepLinear: sweepTimeRatio <= sweepSizeRatio * LINEAR_TOLERANCE,
  };

  if (print) {
    console.log(
      `\nParity on change: items read per changed night (channels' Query + findings GetItem when clean), ` +
        `${CHANGES} changed nights per row, ${ROOM_TYPES.length} room types × ${RATE_PLANS.length} rate plans`,
    );
    console.table(
      changes.map((row) => ({
        'horizon (nights)': row.horizon,
        channels: row.channels,
        'items in table': row.itemsInTable,
        'mean reads / change': Number(row.meanReadsPerChange.toFixed(2)),
        'max reads / change': row.maxReadsPerChange,
        'target (channels + 1)': row.target,
        verdict: row.meetsTarget ? 'meets' : 'OVER',
      })),
    );
    console.log(
      `\nFull parity sweep (${SWEEP_HORIZON}-night horizon, ${SWEEP_CHANNELS} channels, in-memory ARI store in ` +
        `sort-key order): median of ${rounds}`,
    );
    console.table(
      sweeps.map((row) => ({
        properties: row.properties,
        'ARI items': row.items,
        'items/s': Math.round(row.itemsPerSecond),
        'reads / item': Number(row.readsPerItem.toFixed(3)),
        queries: row.queries,
        'nights flagged': row.nightsFlagged,
      })),
    );
    if (sweeps.length > 1) {
      console.log(
        `Growth from ${smallest?.items} to ${largest?.items} items: time ${sweepTimeRatio.toFixed(2)}× for ` +
          `${sweepSizeRatio.toFixed(1)}× the items (within ${LINEAR_TOLERANCE}× of it reads linear): ` +
          `${result.sweepLinear ? 'linear' : 'SUPERLINEAR'}.`,
      );
    }
  }
  return result;
}
