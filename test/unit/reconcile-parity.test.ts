import { describe, expect, it } from 'vitest';
import type { ParityOptions } from '../../lambdas/config/reconcile-options';
import { ParityOptionsSchema } from '../../lambdas/config/reconcile-options';
import type { Money } from '../../lambdas/domain/money';
import type { Page } from '../../lambdas/domain/page';
import type { RoomNightKey, RoomNightState } from '../../lambdas/domain/state';
import { checkPropertyParity } from '../../lambdas/reconcile/parity';
import { fixedClock } from '../../lambdas/shared/clock';
import { findParityViolations } from '../../lambdas/state/parity';
import type { AriQuery, AriStore } from '../../lambdas/state/ports';
import { InMemoryAriStore } from '../fakes/apply-memory';
import { InMemoryParityStore } from '../fakes/reconcile-memory';

const eur = (amountMinor: number): Money => ({ amountMinor, currency: 'EUR' });

function night(
  channel: string,
  rate: Money | undefined,
  overrides: Partial<RoomNightKey> = {},
): RoomNightState {
  const key: RoomNightKey = {
    propertyId: 'prop-1',
    roomTypeId: 'dbl',
    ratePlanId: 'bar',
    channel,
    date: '2026-06-01',
    ...overrides,
  };
  return rate === undefined
    ? { key, availability: { value: { rooms: 3 }, version: 'v', eventId: 'e' } }
    : { key, rate: { value: rate, version: 'v', eventId: 'e' } };
}

function options(input: unknown): ParityOptions {
  return ParityOptionsSchema.parse(input);
}

const summary = (violations: readonly { channel: string; difference: number; key: { date: string } }[]) =>
  violations.map((violation) => `${violation.key.date} ${violation.channel} ${violation.difference}`);

describe('findParityViolations', () => {
  it('finds exactly the differences above an absolute tolerance, in either direction', () => {
    const report = findParityViolations(
      [
        night('cm-demo', eur(10_000)),
        night('ota-a', eur(10_100)),
        night('ota-b', eur(10_101)),
        night('ota-c', eur(9_850)),
        night('ota-d', eur(10_000)),
      ],
      options({
        properties: [{ propertyId: 'prop-1', sourceOfTruth: 'cm-demo', tolerance: { absoluteMinor: 100 } }],
      }),
    );
    expect(summary(report.violations)).toEqual(['2026-06-01 ota-b 101', '2026-06-01 ota-c -150']);
    expect(report.violations[0]).toEqual({
      kind: 'price',
      key: { propertyId: 'prop-1', roomTypeId: 'dbl', ratePlanId: 'bar', date: '2026-06-01' },
      truthChannel: 'cm-demo',
      channel: 'ota-b',
      truthRate: eur(10_000),
      channelRate: eur(10_101),
      difference: 101,
      percent: 1.01,
    });
    expect(report.counts).toMatchObject({ nightsChecked: 1, comparisons: 4, violations: 2 });
  });

  it('treats a difference of exactly the percentage tolerance as within it', () => {
    const report = findParityViolations(
      [night('cm-demo', eur(10_000)), night('ota-a', eur(10_500)), night('ota-b', eur(10_501))],
      options({
        properties: [{ propertyId: 'prop-1', sourceOfTruth: 'cm-demo', tolerance: { percent: 5 } }],
      }),
    );
    expect(summary(report.violations)).toEqual(['2026-06-01 ota-b 501']);
    expect(report.violations[0]?.percent).toBeCloseTo(5.01, 10);
  });

  it('with both bounds, reports a difference that exceeds either of them', () => {
    const tolerance = { absoluteMinor: 200, percent: 1 };
    const report = findParityViolations(
      [
        // 150 of 10 000 is 1.5 %: within 200 but over 1 %.
        night('cm-demo', eur(10_000)),
        night('ota-a', eur(10_150)),
        night('ota-b', eur(10_090)),
        // 300 of 50 000 is 0.6 %: within 1 % but over 200.
        night('cm-demo', eur(50_000), { date: '2026-06-02' }),
        night('ota-a', eur(50_300), { date: '2026-06-02' }),
        night('ota-b', eur(50_150), { date: '2026-06-02' }),
      ],
      options({ properties: [{ propertyId: 'prop-1', sourceOfTruth: 'cm-demo', tolerance }] }),
    );
    expect(summary(report.violations)).toEqual(['2026-06-01 ota-a 150', '2026-06-02 ota-a 300']);
    expect(report.counts).toMatchObject({ nightsChecked: 2, comparisons: 4, violations: 2 });
  });

  it('reports any difference when no tolerance is configured, and no percentage against a zero truth rate', () => {
    const report = findParityViolations(
      [
        night('cm-demo', eur(10_000)),
        night('ota-a', eur(10_001)),
        night('cm-demo', eur(0), { date: '2026-06-02' }),
        night('ota-a', eur(1), { date: '2026-06-02' }),
      ],
      options({ properties: [{ propertyId: 'prop-1', sourceOfTruth: 'cm-demo' }] }),
    );
    expect(summary(report.violations)).toEqual(['2026-06-01 ota-a 1', '2026-06-02 ota-a 1']);
    expect(report.violations[1]).not.toHaveProperty('percent');
  });

  it('uses the default tolerance for a property that sets none', () => {
    const report = findParityViolations(
      [night('cm-demo', eur(10_000)), night('ota-a', eur(10_050)), night('ota-b', eur(10_051))],
      options({
        properties: [{ propertyId: 'prop-1', sourceOfTruth: 'cm-demo' }],
        defaultTolerance: { absoluteMinor: 50 },
      }),
    );
    expect(summary(report.violations)).toEqual(['2026-06-01 ota-b 51']);
  });

  it('separates a currency mismatch from price violations', () => {
    const report = findParityViolations(
      [
        night('cm-demo', eur(10_000)),
        night('ota-a', { amountMinor: 10_000, currency: 'USD' }),
        night('ota-b', eur(12_000)),
      ],
      options({ properties: [{ propertyId: 'prop-1', sourceOfTruth: 'cm-demo' }] }),
    );
    expect(summary(report.violations)).toEqual(['2026-06-01 ota-b 2000']);
    expect(report.currencyMismatches).toEqual([
      expect.objectContaining({
        kind: 'currency_mismatch',
        channel: 'ota-a',
        truthRate: eur(10_000),
        channelRate: { amountMinor: 10_000, currency: 'USD' },
      }),
    ]);
    expect(report.counts).toMatchObject({ comparisons: 1, violations: 1, currencyMismatches: 1 });
    expect(report.nights[0]?.findings.map((finding) => finding.kind).sort()).toEqual([
      'currency_mismatch',
      'price',
    ]);
  });

  it('takes the source of truth per property', () => {
    const report = findParityViolations(
      [
        night('cm-demo', eur(10_000)),
        night('ota-a', eur(11_000)),
        night('cm-demo', eur(10_000), { propertyId: 'prop-2' }),
        night('ota-a', eur(11_000), { propertyId: 'prop-2' }),
      ],
      options({
        properties: [
          { propertyId: 'prop-1', sourceOfTruth: 'cm-demo' },
          { propertyId: 'prop-2', sourceOfTruth: 'ota-a' },
        ],
      }),
    );
    expect(report.violations.map((v) => [v.key.propertyId, v.truthChannel, v.channel, v.difference])).toEqual(
      [
        ['prop-1', 'cm-demo', 'ota-a', 1000],
        ['prop-2', 'ota-a', 'cm-demo', -1000],
      ],
    );
  });

  it('compares only channels of the same room type, rate plan and date', () => {
    const report = findParityViolations(
      [
        night('cm-demo', eur(10_000)),
        night('ota-a', eur(20_000), { ratePlanId: 'nonref' }),
        night('ota-a', eur(20_000), { roomTypeId: 'twin' }),
        night('ota-a', eur(10_000)),
      ],
      options({ properties: [{ propertyId: 'prop-1', sourceOfTruth: 'cm-demo' }] }),
    );
    expect(report.violations).toEqual([]);
    expect(report.counts).toMatchObject({ nightsChecked: 1, comparisons: 1, withoutTruthRate: 2 });
  });

  it('skips and counts nights without a truth rate and properties without a source of truth', () => {
    const report = findParityViolations(
      [
        night('ota-a', eur(10_000)),
        night('cm-demo', undefined, { date: '2026-06-02' }),
        night('ota-a', eur(10_000), { date: '2026-06-02' }),
        night('cm-demo', eur(10_000), { propertyId: 'prop-9' }),
        night('ota-a', eur(99_000), { propertyId: 'prop-9' }),
        night('cm-demo', eur(10_000), { date: '2026-06-03' }),
        night('ota-a', eur(10_000), { date: '2026-06-03' }),
      ],
      options({ properties: [{ propertyId: 'prop-1', sourceOfTruth: 'cm-demo' }] }),
    );
    expect(report.counts).toEqual({
      nightsChecked: 1,
      comparisons: 1,
      violations: 0,
      currencyMismatches: 0,
      withoutTruthRate: 2,
      unconfigured: 1,
    });
  });
});

describe('ParityOptionsSchema', () => {
  it('defaults to no properties and a zero tolerance', () => {
    expect(ParityOptionsSchema.parse({})).toEqual({ properties: [], defaultTolerance: {} });
  });

  it('rejects a property configured twice, negative tolerances and fractional minor units', () => {
    const entry = { propertyId: 'prop-1', sourceOfTruth: 'cm-demo' };
    expect(ParityOptionsSchema.safeParse({ properties: [entry, entry] }).success).toBe(false);
    expect(ParityOptionsSchema.safeParse({ defaultTolerance: { percent: -1 } }).success).toBe(false);
    expect(ParityOptionsSchema.safeParse({ defaultTolerance: { absoluteMinor: 1.5 } }).success).toBe(false);
  });
});

/** Serves the in-memory store's nights a few at a time, so nights of one date straddle page boundaries. */
function pagedBy(size: number, store: AriStore): AriStore {
  return {
    writeNight: (key, write, version, eventId) => store.writeNight(key, write, version, eventId),
    readNightsByKey: (keys) => store.readNightsByKey(keys),
    readNights: async (query: AriQuery): Promise<Page<RoomNightState>> => {
      const all = (await store.readNights({ ...query, cursor: undefined })).items;
      const start = query.cursor === undefined ? 0 : Number(query.cursor);
      const items = all.slice(start, start + size);
      const next = start + items.length;
      return next < all.length ? { items, cursor: String(next) } : { items };
    },
  };
}

describe('checkPropertyParity', () => {
  const settings = options({ properties: [{ propertyId: 'prop-1', sourceOfTruth: 'cm-demo' }] });
  const clock = fixedClock('2026-03-04T00:00:00.000Z');

  async function seeded() {
    const ari = new InMemoryAriStore();
    const dates = ['2026-06-01', '2026-06-02', '2026-06-03', '2026-06-04'];
    for (const date of dates) {
      for (const [channel, amount] of [
        ['cm-demo', 10_000],
        ['ota-a', date === '2026-06-02' ? 10_700 : 10_000],
        ['ota-b', date === '2026-06-04' ? 9_000 : 10_000],
      ] as const) {
        const key = { propertyId: 'prop-1', roomTypeId: 'dbl', ratePlanId: 'bar', channel, date };
        await ari.writeNight(key, { rate: eur(amount) }, `2026-03-01T00:00:00.000Z#${channel}`, channel);
      }
    }
    return ari;
  }

  it('compares every channel of a night even when the nights arrive split across pages, and stores findings', async () => {
    const ari = await seeded();
    const store = new InMemoryParityStore();
    const report = await checkPropertyParity(
      { propertyId: 'prop-1', from: '2026-06-01', to: '2026-06-30' },
      { ari: pagedBy(2, ari), store, clock },
      settings,
    );
    expect(summary(report.violations)).toEqual(['2026-06-02 ota-a 700', '2026-06-04 ota-b -1000']);
    expect(report.counts).toMatchObject({
      nightsChecked: 4,
      comparisons: 8,
      violations: 2,
      withoutTruthRate: 0,
    });
    // Only the two nights out of parity are written; the clean ones had nothing stored to clear.
    expect(store.puts).toBe(2);

    const first = await store.list({ propertyId: 'prop-1', from: '2026-06-01', to: '2026-06-30', limit: 1 });
    expect(first.items.map((record) => record.key.date)).toEqual(['2026-06-02']);
    expect(first.items[0]?.checkedAt).toBe('2026-03-04T00:00:00.000Z');
    const second = await store.list({
      propertyId: 'prop-1',
      from: '2026-06-01',
      to: '2026-06-30',
      limit: 1,
      cursor: first.cursor,
    });
    expect(second.items.map((record) => record.key.date)).toEqual(['2026-06-04']);
    expect(second.cursor).toBeUndefined();
  });

  it('clears a stored violation once the channel is back in parity', async () => {
    const ari = await seeded();
    const store = new InMemoryParityStore();
    const check = { propertyId: 'prop-1', from: '2026-06-01', to: '2026-06-30' };
    await checkPropertyParity(check, { ari, store, clock }, settings);
    const fixedKey = {
      propertyId: 'prop-1',
      roomTypeId: 'dbl',
      ratePlanId: 'bar',
      channel: 'ota-a',
      date: '2026-06-02',
    };
    await ari.writeNight(fixedKey, { rate: eur(10_000) }, '2026-03-05T00:00:00.000Z#fix', 'fix');
    const putsBefore = store.puts;
    await checkPropertyParity(check, { ari, store, clock }, settings);
    const page = await store.list({ ...check, limit: 10 });
    expect(page.items.map((record) => record.key.date)).toEqual(['2026-06-04']);
    // The night that was cleared and the one still out of parity; the two clean nights cost nothing.
    expect(store.puts - putsBefore).toBe(2);
  });
});
