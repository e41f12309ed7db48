import { type AttributeValue, BatchWriteItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PollingOptionsSchema } from '../../lambdas/config/reconcile-options';
import type { Restrictions } from '../../lambdas/domain/canonical';
import {
  compareVersions,
  type NightWrite,
  type RoomNightKey,
  type RoomNightState,
} from '../../lambdas/domain/state';
import { PollingClient, type ProviderNight } from '../../lambdas/reconcile/polling-client';
import {
  type ReconcileRunDeps,
  ReconcileRunOptionsSchema,
  runReconciliation,
} from '../../lambdas/reconcile/run';
import { type Clock, systemClock } from '../../lambdas/shared/clock';
import { ARI_STATE } from '../../lambdas/shared/topology';
import { DynamoDbAriStore } from '../../lambdas/state/dynamodb-ari-store';
import { MappingResolver } from '../../lambdas/state/resolver';
import {
  canonicalValues,
  type DatasetOptions,
  type DemoDataset,
  generateDataset,
  mutateNights,
  nightKey,
  type RoomNight,
  seededRandom,
} from '../../local/simulator/dataset';
import { type Simulator, startSimulator } from '../../local/simulator/server';
import { InMemoryMappingStore } from '../fakes/apply-memory';
import { ManualClock } from '../fakes/clock';
import { InMemoryAuditLog, InMemoryCheckpointStore } from '../fakes/reconcile-memory';
import { type SeededNight, seedNights } from '../support/ari-seed';
import { provisionIsolated } from '../support/aws';

/**
 * A whole reconciliation run with real parts: the provider simulator over loopback HTTP, the polling client,
 * mapping resolution, and DynamoDB Local behind the ARI store. Only the audit log and checkpoint store are
 * in memory.
 */

const TOKEN = 'sim-token-0123456789';
const SOURCE = 'ota-sim';
const WEBHOOK_LAG_MS = 60_000;

let ari: DynamoDbAriStore;
/** Room nights as webhooks delivered them before the run. */
let delivered: (nights: readonly SeededNight[]) => Promise<void>;
/** The ARI table's items of one property, as stored, in key order. */
let storedItems: (propertyId: string) => Promise<Record<string, AttributeValue>[]>;
let removeItems: (items: readonly Record<string, AttributeValue>[]) => Promise<void>;
let simulator: Simulator | undefined;

beforeAll(async () => {
  const topology = await provisionIsolated();
  const tableName = topology.tables[ARI_STATE.id];
  if (tableName === undefined) throw new Error('ARI state table was not provisioned');
  ari = new DynamoDbAriStore(topology.dynamodb, tableName);
  delivered = (nights) => seedNights(topology.dynamodb, tableName, nights);
  storedItems = async (propertyId) => {
    const { Items = [] } = await topology.dynamodb.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'propertyId = :propertyId',
        ExpressionAttributeValues: { ':propertyId': { S: propertyId } },
        ConsistentRead: true,
      }),
    );
    return Items.sort((a, b) => compareVersions(a.sk?.S ?? '', b.sk?.S ?? ''));
  };
  removeItems = async (items) => {
    await topology.dynamodb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [tableName]: items.map((item) => ({
            DeleteRequest: { Key: { pk: item.pk as AttributeValue, sk: item.sk as AttributeValue } },
          })),
        },
      }),
    );
  };
});

describe('room nights seeded for a run', () => {
  it('are stored as exactly the items the ARI store itself writes', async () => {
    const key = (date: string): RoomNightKey => ({
      propertyId: 'seeded-hotel',
      roomTypeId: 'seeded-dbl',
      ratePlanId: 'seeded-bar',
      channel: SOURCE,
      date,
    });
    const nights: SeededNight[] = [
      {
        key: key('2027-01-01'),
        write: {
          rate: { amountMinor: 12_345, currency: 'EUR' },
          availability: { rooms: 4 },
          restrictions: { minLengthOfStay: 2, closedToArrival: true, stopSell: false },
        },
        version: '2026-12-01T10:00:00.000Z#webhook-1',
        eventId: 'webhook-1',
      },
      {
        key: key('2027-01-02'),
        write: { rate: { amountMinor: 9_900, currency: 'EUR' } },
        version: '2026-12-01T10:00:01.000Z#webhook-2',
        eventId: 'webhook-2',
      },
      {
        key: key('2027-01-03'),
        write: { availability: { rooms: 0 }, restrictions: { stopSell: true } },
        version: '2026-12-01T10:00:02.000Z#webhook-3',
        eventId: 'webhook-3',
      },
    ];
    await delivered(nights);
    const seeded = await storedItems('seeded-hotel');
    await removeItems(seeded);
    for (const night of nights) await ari.writeNight(night.key, night.write, night.version, night.eventId);
    const written = await storedItems('seeded-hotel');
    expect(written).toHaveLength(nights.length);
    expect(seeded).toEqual(written);
  });
});

afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

/** Internal ids differ from the provider's codes, and per test, so tests sharing the table never meet. */
function internalId(tag: string, code: string): string {
  return `${tag}-${code.toLowerCase()}`;
}

async function resolverFor(
  tag: string,
  codes: { properties: string[]; roomTypes: string[]; ratePlans: string[] },
) {
  const store = new InMemoryMappingStore();
  for (const code of codes.properties) {
    await store.put(
      { scope: SOURCE, entity: 'property', externalId: code },
      { internalId: internalId(tag, code) },
    );
  }
  for (const code of codes.roomTypes) {
    await store.put(
      { scope: SOURCE, entity: 'roomType', externalId: code },
      { internalId: internalId(tag, code) },
    );
  }
  for (const code of codes.ratePlans) {
    // Global scope: the resolver falls back to it after the source's own.
    await store.put(
      { scope: '*', entity: 'ratePlan', externalId: code },
      { internalId: internalId(tag, code) },
    );
  }
  return new MappingResolver(store, [], systemClock);
}

const PROPERTIES = ['HOTEL001', 'HOTEL002'];
const ROOM_TYPES = ['DBL-STD', 'TWN-STD', 'STE-DLX'];

function keyOf(tag: string, night: RoomNight): RoomNightKey {
  return {
    propertyId: internalId(tag, night.propertyId),
    roomTypeId: internalId(tag, night.roomTypeCode),
    ratePlanId: internalId(tag, night.ratePlanCode),
    channel: SOURCE,
    date: night.date,
  };
}

/** Absent flags mean false, as the provider omits them. */
function normalRestrictions(r: Restrictions | undefined) {
  return r === undefined
    ? undefined
    : {
        minLengthOfStay: r.minLengthOfStay,
        maxLengthOfStay: r.maxLengthOfStay,
        closedToArrival: r.closedToArrival ?? false,
        closedToDeparture: r.closedToDeparture ?? false,
        stopSell: r.stopSell ?? false,
      };
}

/** An older version than the provider's change, as a webhook delivered before it would carry. */
function webhookVersion(night: RoomNight, index: number): string {
  return `${new Date(Date.parse(night.updatedAt) - WEBHOOK_LAG_MS).toISOString()}#webhook-${index}`;
}

function keyText(key: RoomNightKey): string {
  return JSON.stringify([key.propertyId, key.roomTypeId, key.ratePlanId, key.channel, key.date]);
}

async function readAll(tag: string, dataset: DemoDataset): Promise<Map<string, RoomNightState>> {
  const dates = dataset.nights().map((n) => n.date);
  const from = dates.reduce((a, b) => (a < b ? a : b));
  const to = dates.reduce((a, b) => (a > b ? a : b));
  const found = new Map<string, RoomNightState>();
  for (const property of PROPERTIES) {
    let cursor: string | undefined;
    do {
      const page = await ari.readNights({
        propertyId: internalId(tag, property),
        from,
        to,
        limit: 1000,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const state of page.items) found.set(keyText(state.key), state);
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
  return found;
}

async function startFor(dataset: DemoDataset): Promise<Simulator> {
  simulator = await startSimulator({
    port: 0,
    host: '127.0.0.1',
    dataset,
    token: TOKEN,
    random: seededRandom(1),
  });
  return simulator;
}

const providerKey = (n: ProviderNight) =>
  `${n.propertyExternalId}|${n.roomTypeExternalId}|${n.ratePlanExternalId}|${n.date}`;

/** A client whose pages are also recorded, to see exactly which records a run polled. */
function recordingClient(sim: Simulator, clock: Clock, pageSize: number) {
  const client = new PollingClient(
    PollingOptionsSchema.parse({
      baseUrl: sim.url,
      pageSize,
      // Far above what the simulator is asked for here: pacing is tested elsewhere.
      rateLimit: { requestsPerSecond: 1000, burst: 1000 },
      backoff: { baseMs: 20, capMs: 200 },
      requestTimeoutMs: 1_000,
    }),
    {
      sourceId: SOURCE,
      fetch: (url, init) => fetch(url, init),
      clock,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: seededRandom(7),
      token: async () => TOKEN,
    },
  );
  const polled: string[] = [];
  const recording: ReconcileRunDeps['client'] = {
    async *pages(params) {
      const pages = client.pages(params);
      for (;;) {
        const next = await pages.next();
        if (next.done) return next.value;
        polled.push(...next.value.nights.map(providerKey));
        yield next.value;
      }
    },
  };
  return { client: recording, polled };
}

function datasetOptions(seed: number, nights: number, ratePlans = ['BAR', 'NRF']): DatasetOptions {
  return { seed, nights, properties: PROPERTIES, roomTypes: ROOM_TYPES, ratePlans };
}

describe('runReconciliation against the simulator and DynamoDB Local', () => {
  it('measures 10,000 nights with dropped webhooks exactly and corrects every one above the threshold', async () => {
    const tag = 'drift';
    const dataset = generateDataset(datasetOptions(31, 10_000));
    const nights = dataset.nights();
    // 2 % of the nights lost webhooks: a third never arrived, the rest arrived but were superseded.
    const random = seededRandom(99);
    const order = nights.map((_, index) => index);
    const driftedCount = Math.round(nights.length * 0.02);
    for (let i = 0; i < driftedCount; i++) {
      const pick = i + Math.floor(random() * (order.length - i));
      [order[i], order[pick]] = [order[pick] as number, order[i] as number];
    }
    const kindOf = new Map<number, 'missing' | 'stale_rate' | 'stale_all'>();
    order.slice(0, driftedCount).forEach((nightIndex, i) => {
      kindOf.set(nightIndex, i % 3 === 0 ? 'missing' : i % 3 === 1 ? 'stale_rate' : 'stale_all');
    });
    let expectedMismatches = 0;
    for (const kind of kindOf.values()) expectedMismatches += kind === 'stale_rate' ? 1 : 3;

    await delivered(
      nights.flatMap((night, index) => {
        const kind = kindOf.get(index);
        if (kind === 'missing') return [];
        const values = canonicalValues(night);
        const write: NightWrite =
          kind === undefined
            ? values
            : {
                rate: { ...values.rate, amountMinor: values.rate.amountMinor + 100 },
                ...(kind === 'stale_all'
                  ? {
                      availability: { rooms: values.availability.rooms + 1 },
                      restrictions: { ...values.restrictions, stopSell: !values.restrictions.stopSell },
                    }
                  : { availability: values.availability, restrictions: values.restrictions }),
              };
        return [
          {
            key: keyOf(tag, night),
            write,
            version: webhookVersion(night, index),
            eventId: `webhook-${index}`,
          },
        ];
      }),
    );

    const sim = await startFor(dataset);
    const { client } = recordingClient(sim, systemClock, 1000);
    const audit = new InMemoryAuditLog();
    const checkpoints = new InMemoryCheckpointStore();
    const progress: number[] = [];
    const summary = await runReconciliation(
      ReconcileRunOptionsSchema.parse({ sourceId: SOURCE, channel: SOURCE, budgetMs: 120_000 }),
      {
        client,
        resolver: await resolverFor(tag, {
          properties: PROPERTIES,
          roomTypes: ROOM_TYPES,
          ratePlans: ['BAR', 'NRF'],
        }),
        ari,
        audit,
        checkpoints,
        clock: systemClock,
        runId: 'run-drift',
        onPage: (p) => progress.push(p.nights),
      },
    );

    const compared = nights.length * 3;
    const trueShare = (expectedMismatches * 100) / compared;
    expect(summary.status).toBe('complete');
    expect(summary.nightsPolled).toBe(10_000);
    expect(summary.mapped).toBe(10_000);
    expect(progress).toHaveLength(summary.pages);
    expect(progress.at(-1)).toBe(10_000);
    expect(summary.drift.overall.compared).toBe(compared);
    expect(Math.abs(summary.drift.overall.driftPercent - trueShare)).toBeLessThanOrEqual(0.1);
    expect(summary.drift.overall.mismatched).toBe(expectedMismatches);
    expect(summary.drift.overall.silentMisses).toBe(expectedMismatches);
    expect(summary.drift.properties.map((p) => p.propertyId).sort()).toEqual(
      PROPERTIES.map((p) => internalId(tag, p)),
    );
    expect(summary.drift.properties.reduce((sum, p) => sum + p.mismatched, 0)).toBe(expectedMismatches);
    expect(summary.drift.properties.map((p) => p.action)).toEqual(['corrected', 'corrected']);
    expect(summary.correctedGroups).toBe(expectedMismatches);
    expect(audit.records.filter((r) => r.action === 'overwritten')).toHaveLength(expectedMismatches);
    expect(checkpoints.saved.get(SOURCE)).toEqual({
      watermark: new Date(dataset.latestUpdatedAtMs).toISOString(),
      lastFullPassAt: summary.startedAt,
    });

    const stored = await readAll(tag, dataset);
    expect(stored.size).toBe(10_000);
    for (const night of nights) {
      const state = stored.get(keyText(keyOf(tag, night)));
      const expected = canonicalValues(night);
      expect(state?.rate?.value).toEqual(expected.rate);
      expect(state?.availability?.value.rooms).toBe(expected.availability.rooms);
      expect(normalRestrictions(state?.restrictions?.value)).toEqual(
        normalRestrictions(expected.restrictions),
      );
    }
  }, 90_000);

  it('below the threshold reports mismatches without writing, and skips unmapped nights', async () => {
    const tag = 'quiet';
    // CORP is never mapped: its nights are counted and skipped.
    const dataset = generateDataset(datasetOptions(32, 1_500, ['BAR', 'NRF', 'CORP']));
    const mapped = dataset.byUpdate().filter((entry) => entry.night.ratePlanCode !== 'CORP');
    // One rate in every 167 mapped nights of each property is stale, spread evenly over the pages: 0.2 %.
    const staleIndexes = new Set<number>();
    const seenPerProperty = new Map<string, number>();
    mapped.forEach(({ night }, index) => {
      const withinProperty = seenPerProperty.get(night.propertyId) ?? 0;
      seenPerProperty.set(night.propertyId, withinProperty + 1);
      if (withinProperty % 167 === 83) staleIndexes.add(index);
    });
    await delivered(
      mapped.map(({ night }, index) => {
        const values = canonicalValues(night);
        const write = staleIndexes.has(index)
          ? { ...values, rate: { ...values.rate, amountMinor: values.rate.amountMinor + 1 } }
          : values;
        return {
          key: keyOf(tag, night),
          write,
          version: webhookVersion(night, index),
          eventId: `webhook-${index}`,
        };
      }),
    );

    const sim = await startFor(dataset);
    const { client } = recordingClient(sim, systemClock, 1000);
    const audit = new InMemoryAuditLog();
    const summary = await runReconciliation(
      ReconcileRunOptionsSchema.parse({ sourceId: SOURCE, channel: SOURCE, budgetMs: 60_000 }),
      {
        client,
        resolver: await resolverFor(tag, {
          properties: PROPERTIES,
          roomTypes: ROOM_TYPES,
          ratePlans: ['BAR', 'NRF'],
        }),
        ari,
        audit,
        checkpoints: new InMemoryCheckpointStore(),
        clock: systemClock,
        runId: 'run-quiet',
      },
    );

    expect(summary.nightsPolled).toBe(1_500);
    expect(summary.unmapped).toEqual({
      nights: 500,
      property: 0,
      roomType: 0,
      ratePlan: 500,
      ids: { property: [], roomType: [], ratePlan: ['CORP'] },
    });
    expect(summary.mapped).toBe(1_000);
    expect(summary.drift.overall.mismatched).toBe(staleIndexes.size);
    expect(summary.drift.overall.classes.rate.mismatched).toBe(staleIndexes.size);
    expect(summary.drift.overall.driftPercent).toBeCloseTo((staleIndexes.size * 100) / 3_000, 10);
    expect(summary.drift.overall.driftPercent).toBeLessThan(0.5);
    expect(summary.correctedGroups).toBe(0);
    expect(summary.drift.properties.map((p) => p.action)).toEqual(['observed', 'observed']);
    expect(audit.records).toHaveLength(staleIndexes.size);
    expect(audit.records.every((r) => r.action === 'observed')).toBe(true);

    const stored = await readAll(tag, dataset);
    expect(stored.size).toBe(1_000);
    for (const index of staleIndexes) {
      const night = (mapped[index] as { night: RoomNight }).night;
      expect(stored.get(keyText(keyOf(tag, night)))?.rate?.value.amountMinor).toBe(
        canonicalValues(night).rate.amountMinor + 1,
      );
    }
  });

  it('stops at its budget with a resume cursor, and the next run finishes the scan without overlap', async () => {
    const dataset = generateDataset(datasetOptions(33, 3_000));
    const sim = await startFor(dataset);
    const clock = new ManualClock(Date.parse('2026-05-02T00:00:00.000Z'));
    const checkpoints = new InMemoryCheckpointStore();
    const deps = async (runId: string) => {
      const { client, polled } = recordingClient(sim, clock, 500);
      const run: ReconcileRunDeps = {
        client,
        resolver: await resolverFor('budget', {
          properties: PROPERTIES,
          roomTypes: ROOM_TYPES,
          ratePlans: ['BAR', 'NRF'],
        }),
        ari,
        audit: new InMemoryAuditLog(),
        checkpoints,
        clock,
        runId,
        // Each page "takes" two seconds, so a five-second budget with one-second requests fits three pages.
        onPage: () => clock.advance(2_000),
      };
      return { run, polled };
    };
    // Measuring only keeps this about paging: corrections are covered above.
    const options = (budgetMs: number) =>
      ReconcileRunOptionsSchema.parse({
        sourceId: SOURCE,
        channel: SOURCE,
        budgetMs,
        drift: { dryRun: true },
      });

    const first = await deps('run-1');
    const stopped = await runReconciliation(options(5_000), first.run);
    expect(stopped.status).toBe('budget_exhausted');
    expect(stopped.pages).toBe(3);
    expect(first.polled).toHaveLength(1_500);
    const saved = checkpoints.saved.get(SOURCE);
    expect(saved?.resumeCursor).toEqual(expect.any(String));
    expect(saved?.resumeUpdatedAfter).toBe(new Date(0).toISOString());
    expect(saved?.lastFullPassAt).toBeUndefined();

    const second = await deps('run-2');
    const finished = await runReconciliation(options(600_000), second.run);
    expect(finished.status).toBe('complete');
    expect(finished.resumed).toBe(true);
    expect(finished.fullPass).toBe(true);
    expect(finished.nightsPolled).toBe(second.polled.length);

    const covered = [...first.polled, ...second.polled];
    expect(covered).toHaveLength(dataset.size);
    expect(new Set(covered)).toEqual(new Set(dataset.nights().map(nightKey)));
    expect(checkpoints.saved.get(SOURCE)).toEqual({
      watermark: new Date(dataset.latestUpdatedAtMs).toISOString(),
      lastFullPassAt: finished.startedAt,
    });
  });

  it('keeps the pages it reconciled when the provider fails mid-scan, and the next run resumes after them', async () => {
    const dataset = generateDataset(datasetOptions(35, 2_000));
    const sim = await startFor(dataset);
    const checkpoints = new InMemoryCheckpointStore();
    const resolver = await resolverFor('failure', {
      properties: PROPERTIES,
      roomTypes: ROOM_TYPES,
      ratePlans: ['BAR', 'NRF'],
    });
    const options = ReconcileRunOptionsSchema.parse({
      sourceId: SOURCE,
      channel: SOURCE,
      budgetMs: 60_000,
      drift: { dryRun: true },
    });
    const first = recordingClient(sim, systemClock, 500);
    const failing = runReconciliation(options, {
      client: first.client,
      resolver,
      ari,
      audit: new InMemoryAuditLog(),
      checkpoints,
      clock: systemClock,
      runId: 'run-failing',
      // The provider goes down after the second page and stays down for the rest of the run.
      onPage: ({ pages }) => {
        if (pages === 2) sim.setFaults({ errorRate: 1 });
      },
    });
    // The client's circuit breaker opens on the fifth consecutive failure and ends the run.
    await expect(failing).rejects.toThrow(/Polling of source "ota-sim" is paused/);
    expect(first.polled).toHaveLength(1_000);
    expect(checkpoints.saved.get(SOURCE)?.resumeCursor).toEqual(expect.any(String));

    sim.setFaults(undefined);
    const second = recordingClient(sim, systemClock, 500);
    const resumed = await runReconciliation(options, {
      client: second.client,
      resolver,
      ari,
      audit: new InMemoryAuditLog(),
      checkpoints,
      clock: systemClock,
      runId: 'run-resumed',
    });
    expect(resumed.status).toBe('complete');
    expect(resumed.resumed).toBe(true);
    const covered = [...first.polled, ...second.polled];
    expect(covered).toHaveLength(dataset.size);
    expect(new Set(covered)).toEqual(new Set(dataset.nights().map(nightKey)));
  });

  it('after a complete run re-reads only what changed since the watermark minus the overlap', async () => {
    const dataset = generateDataset(datasetOptions(34, 3_000));
    const sim = await startFor(dataset);
    const clock = new ManualClock(Date.parse('2026-05-02T00:00:00.000Z'));
    const checkpoints = new InMemoryCheckpointStore();
    const resolver = await resolverFor('incremental', {
      properties: PROPERTIES,
      roomTypes: ROOM_TYPES,
      ratePlans: ['BAR', 'NRF'],
    });
    const run = async (runId: string) => {
      const { client, polled } = recordingClient(sim, clock, 500);
      const summary = await runReconciliation(
        ReconcileRunOptionsSchema.parse({
          sourceId: SOURCE,
          channel: SOURCE,
          budgetMs: 600_000,
          watermarkOverlapSeconds: 300,
          drift: { dryRun: true },
        }),
        { client, resolver, ari, audit: new InMemoryAuditLog(), checkpoints, clock, runId },
      );
      return { summary, polled };
    };

    const full = await run('run-full');
    expect(full.summary.status).toBe('complete');
    expect(full.polled).toHaveLength(3_000);
    const watermarkMs = dataset.latestUpdatedAtMs;

    clock.advance(3_600_000);
    const changedAt = new Date(watermarkMs + 120_000);
    const keys = dataset.nights().map(nightKey);
    const changed = [keys[10], keys[1_000], keys[2_500]] as string[];
    mutateNights(dataset, changed, { at: changedAt, random: seededRandom(5) });

    const incremental = await run('run-incremental');
    const overlapStartMs = watermarkMs - 300_000;
    const expected = dataset
      .nights()
      .filter((n) => Date.parse(n.updatedAt) >= overlapStartMs)
      .map(nightKey);
    expect(incremental.summary.fullPass).toBe(false);
    expect(incremental.summary.updatedAfter).toBe(new Date(overlapStartMs).toISOString());
    expect(new Set(incremental.polled)).toEqual(new Set(expected));
    expect(incremental.polled).toHaveLength(expected.length);
    expect(incremental.polled).toEqual(expect.arrayContaining(changed));
    expect(expected.length).toBeLessThan(dataset.size / 4);
    expect(checkpoints.saved.get(SOURCE)?.watermark).toBe(changedAt.toISOString());
    expect(checkpoints.saved.get(SOURCE)?.lastFullPassAt).toBe(full.summary.startedAt);

    // A day after the last full pass, the next run reads the whole window again.
    clock.advance(24 * 3_600_000);
    const periodic = await run('run-periodic');
    expect(periodic.summary.fullPass).toBe(true);
    expect(periodic.polled).toHaveLength(dataset.size);
  });
});
