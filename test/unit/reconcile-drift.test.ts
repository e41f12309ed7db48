import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DriftOptionsSchema } from '../../lambdas/config/reconcile-options';
import type { Restrictions } from '../../lambdas/domain/canonical';
import { addDays } from '../../lambdas/domain/dates';
import {
  FIELD_GROUPS,
  type FieldGroup,
  type NightWrite,
  type RoomNightKey,
  type RoomNightState,
} from '../../lambdas/domain/state';
import {
  CORRECTION_CONCURRENCY,
  type DriftDependencies,
  type DriftReport,
  reconcileDrift,
  reconcileVersion,
} from '../../lambdas/reconcile/drift';
import type { PolledNight } from '../../lambdas/reconcile/ports';
import { ReconcileRunOptionsSchema } from '../../lambdas/reconcile/run';
import { fixedClock } from '../../lambdas/shared/clock';
import type { AriQuery, AriStore } from '../../lambdas/state/ports';
import { InMemoryAriStore } from '../fakes/apply-memory';
import { InMemoryAuditLog } from '../fakes/reconcile-memory';

const LOCAL_AT = new Date('2026-03-01T08:00:00.000Z');
const POLLED_AT = new Date('2026-03-02T08:00:00.000Z');
const LATER_AT = new Date('2026-03-03T08:00:00.000Z');
const RUN_AT = '2026-03-04T00:00:00.000Z';
const SOURCE = 'cm-demo';

function nightKey(index: number, overrides: Partial<RoomNightKey> = {}): RoomNightKey {
  return {
    propertyId: 'prop-1',
    roomTypeId: `rt-${Math.floor(index / 365)}`,
    ratePlanId: 'bar',
    channel: SOURCE,
    date: addDays('2026-06-01', index % 365),
    ...overrides,
  };
}

function baseValues(index: number) {
  return {
    rate: { amountMinor: 10_000 + index, currency: 'EUR' },
    availability: 5,
    restrictions: { minLengthOfStay: 1 } as Restrictions,
  };
}

async function seedLocal(
  store: InMemoryAriStore,
  key: RoomNightKey,
  write: NightWrite,
  at: Date,
  id: string,
) {
  await store.writeNight(key, write, `${at.toISOString()}#${id}`, id);
}

async function localState(store: AriStore, key: RoomNightKey): Promise<RoomNightState | undefined> {
  const page = await store.readNights({
    propertyId: key.propertyId,
    from: key.date,
    to: key.date,
    limit: 1000,
  });
  return page.items.find((night) => JSON.stringify(night.key) === JSON.stringify(key));
}

function deps(ari: AriStore, audit = new InMemoryAuditLog(), extra: Partial<DriftDependencies> = {}) {
  return { ari, audit, clock: fixedClock(RUN_AT), runId: 'run-1', ...extra } satisfies DriftDependencies;
}

/**
 * 1000 nights with all three groups stored; the provider differs on exactly 20 nights per class, each on a
 * different night, so 60 of 3000 compared fields mismatch (2 %).
 */
async function twoPercentScenario() {
  const ari = new InMemoryAriStore();
  const polled: PolledNight[] = [];
  const changed = new Map<string, FieldGroup>();
  for (let index = 0; index < 1000; index += 1) {
    const key = nightKey(index);
    const local = baseValues(index);
    await seedLocal(
      ari,
      key,
      { ...local, availability: { rooms: local.availability } },
      LOCAL_AT,
      `evt-${index}`,
    );
    const provider = baseValues(index);
    const slot = index % 50;
    if (slot === 0) provider.rate = { amountMinor: provider.rate.amountMinor + 500, currency: 'EUR' };
    if (slot === 1) provider.availability = 2;
    if (slot === 2) provider.restrictions = { minLengthOfStay: 3, closedToArrival: true };
    const group = FIELD_GROUPS[slot];
    if (group) changed.set(JSON.stringify(key), group);
    polled.push({ key, ...provider, updatedAt: POLLED_AT });
  }
  return { ari, polled, changed };
}

describe('drift measurement', () => {
  it('measures exactly 2.00 % on 1000 nights × 3 classes with 60 mismatched fields, per class and scope', async () => {
    const { ari, polled } = await twoPercentScenario();
    const report = await reconcileDrift(polled, deps(ari), DriftOptionsSchema.parse({ dryRun: true }));

    expect(report.overall.compared).toBe(3000);
    expect(report.overall.mismatched).toBe(60);
    expect(report.overall.driftPercent).toBe(2);
    expect(report.overall.driftPercent.toFixed(2)).toBe('2.00');
    expect(report.overall.classes).toEqual({
      rate: { compared: 1000, mismatched: 20 },
      availability: { compared: 1000, mismatched: 20 },
      restrictions: { compared: 1000, mismatched: 20 },
    });
    expect(report.overall.silentMisses).toBe(60);
    expect(report.scopes).toHaveLength(1);
    expect(report.scopes[0]).toMatchObject({ sourceId: SOURCE, propertyId: 'prop-1', driftPercent: 2 });
    expect(report.sources).toEqual([{ sourceId: SOURCE, ...report.overall }]);
    expect(report.mismatches).toHaveLength(60);
  });

  it('compares only the classes the provider sent', async () => {
    const ari = new InMemoryAriStore();
    await seedLocal(ari, nightKey(0), { rate: { amountMinor: 100, currency: 'EUR' } }, LOCAL_AT, 'e');
    const report = await reconcileDrift(
      [{ key: nightKey(0), availability: 4, updatedAt: POLLED_AT }],
      deps(ari),
      DriftOptionsSchema.parse({ dryRun: true }),
    );
    expect(report.overall.classes.rate.compared).toBe(0);
    expect(report.overall.classes.availability).toEqual({ compared: 1, mismatched: 1 });
    expect(report.overall.compared).toBe(1);
  });

  it('treats money of another currency as a mismatch even with the same amount', async () => {
    const ari = new InMemoryAriStore();
    await seedLocal(ari, nightKey(0), { rate: { amountMinor: 100, currency: 'EUR' } }, LOCAL_AT, 'e');
    const report = await reconcileDrift(
      [{ key: nightKey(0), rate: { amountMinor: 100, currency: 'USD' }, updatedAt: POLLED_AT }],
      deps(ari),
      DriftOptionsSchema.parse({ dryRun: true }),
    );
    expect(report.overall.mismatched).toBe(1);
  });

  it('normalises absent restriction flags to false and absent stay limits to unset', async () => {
    const ari = new InMemoryAriStore();
    const stored = { minLengthOfStay: 2, closedToArrival: false, stopSell: false };
    await seedLocal(ari, nightKey(0), { restrictions: stored }, LOCAL_AT, 'e');
    await seedLocal(ari, nightKey(1), { restrictions: stored }, LOCAL_AT, 'e');
    const report = await reconcileDrift(
      [
        { key: nightKey(0), restrictions: { minLengthOfStay: 2 }, updatedAt: POLLED_AT },
        { key: nightKey(1), restrictions: { minLengthOfStay: 2, maxLengthOfStay: 7 }, updatedAt: POLLED_AT },
      ],
      deps(ari),
      DriftOptionsSchema.parse({ dryRun: true }),
    );
    expect(report.mismatches.map((mismatch) => mismatch.key.date)).toEqual([nightKey(1).date]);
  });

  it('matches a capped availability when the provider reports the figure it requested', async () => {
    const ari = new InMemoryAriStore();
    const capped = { rooms: 19, requested: 25, cappedBy: 'physical rooms 20 × buffer 0.95: at most 19' };
    await seedLocal(ari, nightKey(0), { availability: capped }, LOCAL_AT, 'e');
    await seedLocal(ari, nightKey(1), { availability: capped }, LOCAL_AT, 'e');
    const report = await reconcileDrift(
      [
        { key: nightKey(0), availability: 25, updatedAt: POLLED_AT },
        { key: nightKey(1), availability: 19, updatedAt: POLLED_AT },
      ],
      deps(ari),
      DriftOptionsSchema.parse({ dryRun: true }),
    );
    expect(report.overall.compared).toBe(2);
    expect(report.mismatches.map((mismatch) => mismatch.key.date)).toEqual([nightKey(1).date]);
  });

  it('reports drift per source and per property, with a channel manager channel under its source', async () => {
    const ari = new InMemoryAriStore();
    const polled: PolledNight[] = [];
    for (const [channel, propertyId, mismatched] of [
      ['cm-demo:booking', 'prop-1', true],
      ['cm-demo', 'prop-2', false],
      ['ota-x', 'prop-1', false],
    ] as const) {
      for (let index = 0; index < 10; index += 1) {
        const key = nightKey(index, { channel, propertyId });
        await seedLocal(ari, key, { availability: { rooms: 3 } }, LOCAL_AT, 'e');
        const availability = mismatched && index < 2 ? 1 : 3;
        polled.push({ key, availability, updatedAt: POLLED_AT });
      }
    }
    const report = await reconcileDrift(polled, deps(ari), DriftOptionsSchema.parse({ dryRun: true }));
    const scope = (sourceId: string, propertyId: string) =>
      report.scopes.find((entry) => entry.sourceId === sourceId && entry.propertyId === propertyId);
    expect(scope('cm-demo', 'prop-1')).toMatchObject({ compared: 10, mismatched: 2, driftPercent: 20 });
    expect(scope('cm-demo', 'prop-2')).toMatchObject({ compared: 10, mismatched: 0, action: 'in_sync' });
    expect(scope('ota-x', 'prop-1')).toMatchObject({ compared: 10, mismatched: 0 });
    expect(report.sources.find((source) => source.sourceId === 'cm-demo')).toMatchObject({
      compared: 20,
      mismatched: 2,
      driftPercent: 10,
    });
    expect(report.properties.find((property) => property.propertyId === 'prop-1')).toMatchObject({
      compared: 20,
      mismatched: 2,
      driftPercent: 10,
    });
    expect(report.overall).toMatchObject({ compared: 30, mismatched: 2 });
  });

  it('uses the newest report of a night that a poll returned twice', async () => {
    const ari = new InMemoryAriStore();
    await seedLocal(ari, nightKey(0), { availability: { rooms: 3 } }, LOCAL_AT, 'e');
    const report = await reconcileDrift(
      [
        { key: nightKey(0), availability: 3, updatedAt: LATER_AT },
        { key: nightKey(0), availability: 1, updatedAt: POLLED_AT },
      ],
      deps(ari),
      DriftOptionsSchema.parse({ dryRun: true }),
    );
    expect(report.overall).toMatchObject({ compared: 1, mismatched: 0 });
  });
});

describe('correction above the threshold', () => {
  it('leaves local state equal to the provider and audits one record per overwritten group', async () => {
    const { ari, polled, changed } = await twoPercentScenario();
    const audit = new InMemoryAuditLog();
    const report = await reconcileDrift(polled, deps(ari, audit), DriftOptionsSchema.parse({}));

    expect(report.scopes[0]).toMatchObject({ action: 'corrected', correctedGroups: 60, skippedGroups: 0 });
    for (const night of polled) {
      const state = await localState(ari, night.key);
      expect(state?.rate?.value).toEqual(night.rate);
      expect(state?.availability?.value).toEqual({ rooms: night.availability });
      expect(state?.restrictions?.value).toEqual(night.restrictions);
    }
    expect(audit.records).toHaveLength(60);
    const audited = new Map(audit.records.map((record) => [JSON.stringify(record.key), record]));
    expect(audited.size).toBe(60);
    for (const [id, group] of changed) {
      const record = audited.get(id);
      expect(record).toMatchObject({ group, action: 'overwritten', runId: 'run-1', at: RUN_AT });
      expect(record?.before).not.toEqual(record?.after);
    }
    const rateRecord = audit.records.find((record) => record.group === 'rate');
    expect(rateRecord?.before).toEqual({ amountMinor: 10_000, currency: 'EUR' });
    expect(rateRecord?.after).toEqual({ amountMinor: 10_500, currency: 'EUR' });

    const corrected = await localState(ari, nightKey(0));
    expect(corrected?.rate?.version).toBe(reconcileVersion(POLLED_AT, 'run-1'));
    expect(corrected?.rate?.version).toBe('2026-03-02T08:00:00.000Z#reconcile:run-1');
    expect(corrected?.rate?.eventId).toBe('reconcile:run-1');
    // Untouched groups keep the event that wrote them.
    expect(corrected?.availability?.eventId).toBe('evt-0');

    const again = await reconcileDrift(polled, deps(ari, audit), DriftOptionsSchema.parse({ dryRun: true }));
    expect(again.overall.mismatched).toBe(0);
  });

  it('writes a night the store never held, counting it as a silent miss', async () => {
    const ari = new InMemoryAriStore();
    const audit = new InMemoryAuditLog();
    const report = await reconcileDrift(
      [{ key: nightKey(0), availability: 4, updatedAt: POLLED_AT }],
      deps(ari, audit),
      DriftOptionsSchema.parse({}),
    );
    expect(report.overall.silentMisses).toBe(1);
    expect((await localState(ari, nightKey(0)))?.availability?.value).toEqual({ rooms: 4 });
    expect(audit.records).toHaveLength(1);
    expect(audit.records[0]).not.toHaveProperty('before');
  });

  it('writes a long drift several nights at once, each under its own condition, auditing chunk by chunk', async () => {
    let inFlight = 0;
    let mostAtOnce = 0;
    const ari = new (class extends InMemoryAriStore {
      override async writeNight(...args: Parameters<InMemoryAriStore['writeNight']>) {
        inFlight += 1;
        mostAtOnce = Math.max(mostAtOnce, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        try {
          return await super.writeNight(...args);
        } finally {
          inFlight -= 1;
        }
      }
    })();
    const appended: number[] = [];
    const audit = new InMemoryAuditLog();
    const counting = {
      append: async (records: Parameters<InMemoryAuditLog['append']>[0]) => {
        appended.push(records.length);
        await audit.append(records);
      },
    };
    // One night whose local value is newer than the poll: its write is refused, as one at a time would be.
    await seedLocal(ari, nightKey(7), { availability: { rooms: 1 } }, LATER_AT, 'evt-late');
    const nights = Array.from({ length: 40 }, (_, index) => ({
      key: nightKey(index),
      availability: 4,
      updatedAt: POLLED_AT,
    }));
    const report = await reconcileDrift(
      nights,
      deps(ari, audit, { audit: counting }),
      DriftOptionsSchema.parse({}),
    );

    expect(mostAtOnce).toBe(CORRECTION_CONCURRENCY);
    expect(appended).toEqual([
      CORRECTION_CONCURRENCY,
      CORRECTION_CONCURRENCY,
      40 - 1 - 2 * CORRECTION_CONCURRENCY,
    ]);
    expect(report.scopes[0]).toMatchObject({ correctedGroups: 39, skippedGroups: 0 });
    expect(audit.records.map((record) => record.key.date).sort()).toEqual(
      nights
        .filter((_, index) => index !== 7)
        .map((night) => night.key.date)
        .sort(),
    );
    expect((await localState(ari, nightKey(7)))?.availability?.value).toEqual({ rooms: 1 });
    expect((await localState(ari, nightKey(39)))?.availability?.value).toEqual({ rooms: 4 });
  });

  it('never overwrites a local value newer than the poll, nor counts it as a silent miss', async () => {
    const ari = new InMemoryAriStore();
    const audit = new InMemoryAuditLog();
    await seedLocal(ari, nightKey(0), { availability: { rooms: 7 } }, LATER_AT, 'newer');
    await seedLocal(ari, nightKey(1), { availability: { rooms: 7 } }, LOCAL_AT, 'older');
    const report = await reconcileDrift(
      [
        { key: nightKey(0), availability: 2, updatedAt: POLLED_AT },
        { key: nightKey(1), availability: 2, updatedAt: POLLED_AT },
      ],
      deps(ari, audit),
      DriftOptionsSchema.parse({ thresholdPercent: 0 }),
    );
    expect(report.overall).toMatchObject({ compared: 2, mismatched: 2, silentMisses: 1 });
    expect(report.mismatches.map((mismatch) => mismatch.timing)).toEqual(['local_newer', 'provider_newer']);
    expect((await localState(ari, nightKey(0)))?.availability).toEqual({
      value: { rooms: 7 },
      version: `${LATER_AT.toISOString()}#newer`,
      eventId: 'newer',
    });
    expect((await localState(ari, nightKey(1)))?.availability?.value).toEqual({ rooms: 2 });
    expect(audit.records.map((record) => record.key.date)).toEqual([nightKey(1).date]);
  });

  it('leaves a value written during the run alone: the conditional write refuses the older poll', async () => {
    const inner = new InMemoryAriStore();
    await seedLocal(inner, nightKey(0), { rate: { amountMinor: 100, currency: 'EUR' } }, LOCAL_AT, 'old');
    // A webhook newer than the poll lands between the read and the correction.
    const racing: AriStore = {
      readNights: (query: AriQuery) => inner.readNights(query),
      readNightsByKey: async (keys) => {
        const states = await inner.readNightsByKey(keys);
        await seedLocal(
          inner,
          nightKey(0),
          { rate: { amountMinor: 300, currency: 'EUR' } },
          LATER_AT,
          'late',
        );
        return states;
      },
      writeNight: (key, write, version, eventId) => inner.writeNight(key, write, version, eventId),
    };
    const audit = new InMemoryAuditLog();
    const report = await reconcileDrift(
      [{ key: nightKey(0), rate: { amountMinor: 200, currency: 'EUR' }, updatedAt: POLLED_AT }],
      deps(racing, audit),
      DriftOptionsSchema.parse({}),
    );
    expect(report.scopes[0]).toMatchObject({ action: 'corrected', correctedGroups: 0, skippedGroups: 1 });
    expect((await localState(inner, nightKey(0)))?.rate?.value).toEqual({
      amountMinor: 300,
      currency: 'EUR',
    });
    expect(audit.records).toEqual([]);
  });

  it('stores a corrected availability through the inventory policy, which then matches on the next run', async () => {
    const ari = new InMemoryAriStore();
    await seedLocal(ari, nightKey(0), { availability: { rooms: 10 } }, LOCAL_AT, 'e');
    const capAt19 = (_key: RoomNightKey, requested: number) =>
      requested > 19
        ? { rooms: 19, requested, cappedBy: 'physical rooms 20 × buffer 0.95: at most 19' }
        : { rooms: requested };
    const polled = [{ key: nightKey(0), availability: 30, updatedAt: POLLED_AT }];
    await reconcileDrift(
      polled,
      deps(ari, new InMemoryAuditLog(), { availabilityFor: capAt19 }),
      DriftOptionsSchema.parse({}),
    );
    expect((await localState(ari, nightKey(0)))?.availability?.value).toEqual({
      rooms: 19,
      requested: 30,
      cappedBy: 'physical rooms 20 × buffer 0.95: at most 19',
    });
    const again = await reconcileDrift(polled, deps(ari), DriftOptionsSchema.parse({ dryRun: true }));
    expect(again.overall.mismatched).toBe(0);
  });

  it('skips an availability the inventory policy refuses, leaving the stored value', async () => {
    const ari = new InMemoryAriStore();
    await seedLocal(ari, nightKey(0), { availability: { rooms: 10 } }, LOCAL_AT, 'e');
    const report = await reconcileDrift(
      [{ key: nightKey(0), availability: 30, updatedAt: POLLED_AT }],
      deps(ari, new InMemoryAuditLog(), { availabilityFor: () => undefined }),
      DriftOptionsSchema.parse({}),
    );
    expect(report.scopes[0]).toMatchObject({ correctedGroups: 0, skippedGroups: 1 });
    expect((await localState(ari, nightKey(0)))?.availability?.value).toEqual({ rooms: 10 });
  });
});

describe('at or below the threshold, and dry runs', () => {
  async function oneMismatchIn(nights: number) {
    const ari = new InMemoryAriStore();
    const polled: PolledNight[] = [];
    for (let index = 0; index < nights; index += 1) {
      await seedLocal(ari, nightKey(index), { availability: { rooms: 5 } }, LOCAL_AT, `evt-${index}`);
      polled.push({ key: nightKey(index), availability: index === 0 ? 4 : 5, updatedAt: POLLED_AT });
    }
    return {
      ari,
      polled,
      writes: () => [...ari.nights.values()].filter((n) => n.availability?.eventId.startsWith('reconcile')),
    };
  }

  it('records mismatches as observed without writing when drift is under the threshold', async () => {
    const { ari, polled, writes } = await oneMismatchIn(1000);
    const audit = new InMemoryAuditLog();
    const report = await reconcileDrift(polled, deps(ari, audit), DriftOptionsSchema.parse({}));
    expect(report.overall.driftPercent).toBe(0.1);
    expect(report.scopes[0]).toMatchObject({ action: 'observed', correctedGroups: 0 });
    expect(report.mismatches).toHaveLength(1);
    expect(writes()).toEqual([]);
    expect((await localState(ari, nightKey(0)))?.availability?.value).toEqual({ rooms: 5 });
    expect(audit.records).toEqual([
      expect.objectContaining({ action: 'observed', group: 'availability', before: { rooms: 5 }, after: 4 }),
    ]);
  });

  it('does not correct at exactly the threshold: drift must exceed it', async () => {
    const { ari, polled, writes } = await oneMismatchIn(200);
    const report = await reconcileDrift(polled, deps(ari), DriftOptionsSchema.parse({}));
    expect(report.overall.driftPercent).toBe(0.5);
    expect(report.scopes[0]?.action).toBe('observed');
    expect(writes()).toEqual([]);
  });

  it('can leave observed mismatches out of the audit log', async () => {
    const { ari, polled } = await oneMismatchIn(1000);
    const audit = new InMemoryAuditLog();
    await reconcileDrift(polled, deps(ari, audit), DriftOptionsSchema.parse({ recordObserved: false }));
    expect(audit.records).toEqual([]);
  });

  it('writes nothing and audits nothing in a dry run, however large the drift', async () => {
    const { ari, polled } = await twoPercentScenario();
    const before = structuredClone([...ari.nights]);
    const audit = new InMemoryAuditLog();
    const report = await reconcileDrift(polled, deps(ari, audit), DriftOptionsSchema.parse({ dryRun: true }));
    expect(report.scopes[0]).toMatchObject({ action: 'dry_run', correctedGroups: 0, silentMisses: 60 });
    expect([...ari.nights]).toEqual(before);
    expect(audit.records).toEqual([]);
  });
});

describe('DriftOptionsSchema', () => {
  it('defaults to the 0.5 % threshold, no dry run', () => {
    expect(DriftOptionsSchema.parse({})).toEqual({
      thresholdPercent: 0.5,
      dryRun: false,
      recordObserved: true,
    });
  });

  it('gives a run without drift options the same defaults', () => {
    const options = ReconcileRunOptionsSchema.parse({ sourceId: 'cm-1', channel: 'cm-1', budgetMs: 1_000 });
    expect(options.drift).toEqual({ thresholdPercent: 0.5, dryRun: false, recordObserved: true });
  });

  it('rejects thresholds outside 0..100 and unknown options', () => {
    expect(DriftOptionsSchema.safeParse({ thresholdPercent: -1 }).success).toBe(false);
    expect(DriftOptionsSchema.safeParse({ thresholdPercent: 101 }).success).toBe(false);
    expect(DriftOptionsSchema.safeParse({ treshold: 1 }).success).toBe(false);
  });
});

describe('property: correction converges on the provider wherever the provider is newer', () => {
  const times = ['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z', '2026-03-03T00:00:00.000Z'];
  const time = fc.constantFrom(...times);
  const money = fc.record({
    amountMinor: fc.constantFrom(100, 200),
    currency: fc.constantFrom('EUR', 'USD'),
  });
  const restrictions: fc.Arbitrary<Restrictions> = fc.record(
    {
      minLengthOfStay: fc.constantFrom(1, 2),
      closedToArrival: fc.boolean(),
      stopSell: fc.boolean(),
    },
    { requiredKeys: [] },
  );
  const groupValues = {
    rate: money,
    availability: fc.integer({ min: 0, max: 2 }),
    restrictions,
  };
  const localGroup = <T>(value: fc.Arbitrary<T>) =>
    fc.option(fc.record({ value, at: time }), { nil: undefined });
  const night = fc.record({
    date: fc.constantFrom('2026-06-01', '2026-06-02', '2026-06-03'),
    channel: fc.constantFrom('cm-demo', 'cm-demo:booking', 'ota-x'),
    local: fc.record({
      rate: localGroup(groupValues.rate),
      availability: localGroup(groupValues.availability),
      restrictions: localGroup(groupValues.restrictions),
    }),
    provider: fc.record(
      {
        rate: groupValues.rate,
        availability: groupValues.availability,
        restrictions: groupValues.restrictions,
      },
      { requiredKeys: [] },
    ),
    updatedAt: time,
  });

  it('leaves no mismatch for any group whose provider updatedAt is newer than the local one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(night, { selector: (n) => `${n.date}|${n.channel}`, maxLength: 9 }),
        async (nights) => {
          const ari = new InMemoryAriStore();
          const polled: PolledNight[] = [];
          const expectedFixed = new Set<string>();
          for (const [index, entry] of nights.entries()) {
            const key = nightKey(0, { date: entry.date, channel: entry.channel });
            for (const group of FIELD_GROUPS) {
              const local = entry.local[group];
              if (local) {
                const write: NightWrite =
                  group === 'availability'
                    ? { availability: { rooms: local.value as number } }
                    : ({ [group]: local.value } as NightWrite);
                await seedLocal(ari, key, write, new Date(local.at), `evt-${index}-${group}`);
              }
              if (entry.provider[group] !== undefined && (!local || entry.updatedAt > local.at)) {
                expectedFixed.add(`${JSON.stringify(key)}|${group}`);
              }
            }
            polled.push({ key, ...entry.provider, updatedAt: new Date(entry.updatedAt) });
          }
          await reconcileDrift(polled, deps(ari), DriftOptionsSchema.parse({ thresholdPercent: 0 }));
          const after: DriftReport = await reconcileDrift(
            polled,
            deps(ari),
            DriftOptionsSchema.parse({ dryRun: true }),
          );
          for (const mismatch of after.mismatches) {
            expect(expectedFixed.has(`${JSON.stringify(mismatch.key)}|${mismatch.group}`)).toBe(false);
            expect(mismatch.timing).not.toBe('provider_newer');
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
