import type { DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RoomNightKey, RoomNightState } from '../../lambdas/domain/state';
import { createParityConsumer } from '../../lambdas/parity/consumer';
import {
  checkChangedNights,
  checkNightParity,
  type NightChannelsReader,
  type ParityNightStore,
} from '../../lambdas/parity/on-change';
import { checkPropertyParity } from '../../lambdas/reconcile/parity';
import { fixedClock } from '../../lambdas/shared/clock';
import { paritySortKey } from '../../lambdas/state/dynamodb-parity';
import type { ParityNightKey, ParityRecord } from '../../lambdas/state/ports';
import { InMemoryAriStore } from '../fakes/apply-memory';
import { InMemoryParityStore } from '../fakes/reconcile-memory';
import {
  findingsOnly,
  HORIZON_DAYS,
  nightChange,
  OTHER_PROPERTY,
  PARITY_OPTIONS,
  PARITY_PROPERTY,
  TODAY,
  TRUTH,
} from '../support/parity-changes';

const clock = fixedClock(`${TODAY}T08:00:00Z`);
const settings = { parity: PARITY_OPTIONS, horizonDays: HORIZON_DAYS };

/** The in-memory stores with the single-night reads the DynamoDB stores have, counting the items read. */
function memoryPorts(ari: InMemoryAriStore, parity: InMemoryParityStore) {
  const reads = { channels: 0, findings: 0 };
  const reader: NightChannelsReader = {
    async readNightChannels(key: ParityNightKey): Promise<readonly RoomNightState[]> {
      const page = await ari.readNights({ ...key, from: key.date, to: key.date, limit: 1000 });
      reads.channels += page.items.length;
      return page.items;
    },
  };
  const store: ParityNightStore = {
    putNight: (record) => parity.putNight(record),
    async getNight(key: ParityNightKey): Promise<ParityRecord | undefined> {
      reads.findings += 1;
      return parity.nights.get(key.propertyId)?.get(paritySortKey(key));
    },
  };
  return { reader, store, reads };
}

function sweep(ari: InMemoryAriStore, parity: InMemoryParityStore) {
  return checkPropertyParity(
    { propertyId: PARITY_PROPERTY, from: TODAY, to: '2026-06-03' },
    { ari, store: parity, clock },
    PARITY_OPTIONS,
  );
}

describe('parity on change', () => {
  it('leaves every night with exactly the findings a full sweep leaves, whatever changes come', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(nightChange, { maxLength: 25 }),
        fc.array(nightChange, { minLength: 1, maxLength: 25 }),
        async (before, changes) => {
          const ari = new InMemoryAriStore();
          let version = 0;
          const write = async ({ key, write }: (typeof changes)[number]) => {
            version += 1;
            await ari.writeNight(key, write, String(version).padStart(6, '0'), `e-${version}`);
          };
          for (const change of before) await write(change);
          // Both start from the sweep's findings for the state before the changes.
          const onChange = new InMemoryParityStore();
          const swept = new InMemoryParityStore();
          await sweep(ari, onChange);
          await sweep(ari, swept);

          const { reader, store } = memoryPorts(ari, onChange);
          for (const change of changes) {
            await write(change);
            const { failures } = await checkChangedNights(
              [change.key],
              { ari: reader, store, clock },
              settings,
            );
            expect(failures.size).toBe(0);
          }
          await sweep(ari, swept);

          const nights = (store: InMemoryParityStore) =>
            findingsOnly([...store.nights.values()].flatMap((property) => [...property.values()]));
          expect(nights(onChange)).toEqual(nights(swept));
        },
      ),
      { seed: 20261204, numRuns: 300 },
    );
  });

  it('reads each channel of the night once and its findings once, and checks a night changed twice once', async () => {
    const ari = new InMemoryAriStore();
    const key = { propertyId: PARITY_PROPERTY, roomTypeId: 'dbl', ratePlanId: 'bar', date: TODAY };
    const rate = (channel: string, amountMinor: number, version: string) =>
      ari.writeNight(
        { ...key, channel },
        { rate: { amountMinor, currency: 'EUR' } },
        version,
        `e-${version}`,
      );
    await rate(TRUTH, 1000, '1');
    await rate('ota-a', 1100, '2');
    await rate('ota-b', 1000, '3');
    // A neighbour on the same date and another date: the Query of the night must not read them.
    await ari.writeNight(
      { ...key, ratePlanId: 'nr', channel: TRUTH },
      { availability: { rooms: 1 } },
      '4',
      'e4',
    );
    await ari.writeNight(
      { ...key, date: '2026-06-02', channel: TRUTH },
      { availability: { rooms: 1 } },
      '5',
      'e5',
    );
    const parity = new InMemoryParityStore();
    const { reader, store, reads } = memoryPorts(ari, parity);

    const changed: RoomNightKey[] = [
      { ...key, channel: 'ota-a' },
      { ...key, channel: 'ota-b' },
    ];
    const { outcomes } = await checkChangedNights(changed, { ari: reader, store, clock }, settings);

    expect([...outcomes.values()]).toEqual(['flagged']);
    expect(reads).toEqual({ channels: 3, findings: 0 });
    expect(findingsOnly(parity.nights.get(PARITY_PROPERTY)?.values() ?? [])).toEqual([
      {
        key,
        findings: [
          expect.objectContaining({ kind: 'price', channel: 'ota-a', difference: 100, truthChannel: TRUTH }),
        ],
      },
    ]);

    await rate('ota-a', 1000, '6');
    expect(await checkNightParity(key, { ari: reader, store, clock }, settings)).toBe('cleared');
    expect(parity.nights.get(PARITY_PROPERTY)?.size).toBe(0);
    expect(await checkNightParity(key, { ari: reader, store, clock }, settings)).toBe('clean');
    expect(reads).toEqual({ channels: 9, findings: 2 });
  });

  it('reads nothing for a property without parity or a night outside the horizon', async () => {
    const ari = new InMemoryAriStore();
    const parity = new InMemoryParityStore();
    const { reader, store, reads } = memoryPorts(ari, parity);
    const deps = { ari: reader, store, clock };
    const key = { propertyId: OTHER_PROPERTY, roomTypeId: 'dbl', ratePlanId: 'bar', date: TODAY };
    expect(await checkNightParity(key, deps, settings)).toBe('skipped');
    expect(
      await checkNightParity({ ...key, propertyId: PARITY_PROPERTY, date: '2026-05-31' }, deps, settings),
    ).toBe('skipped');
    expect(
      await checkNightParity({ ...key, propertyId: PARITY_PROPERTY, date: '2026-06-04' }, deps, settings),
    ).toBe('skipped');
    expect(reads).toEqual({ channels: 0, findings: 0 });
  });

  it('reports a night whose check fails and still checks the others', async () => {
    const ari = new InMemoryAriStore();
    const parity = new InMemoryParityStore();
    const { reader, store } = memoryPorts(ari, parity);
    const failing: NightChannelsReader = {
      readNightChannels: async (key) => {
        if (key.roomTypeId === 'broken') throw new Error('ProvisionedThroughputExceededException: injected');
        return reader.readNightChannels(key);
      },
    };
    const key = { propertyId: PARITY_PROPERTY, roomTypeId: 'dbl', ratePlanId: 'bar', date: TODAY };
    const { outcomes, failures } = await checkChangedNights(
      [{ ...key, roomTypeId: 'broken' }, key],
      { ari: failing, store, clock },
      settings,
    );
    expect([...failures.keys()]).toEqual([JSON.stringify([PARITY_PROPERTY, TODAY, 'broken', 'bar'])]);
    expect([...outcomes.values()]).toEqual(['without_truth_rate']);
  });
});

describe('parity-on-change stream consumer', () => {
  const record = (sequence: string, pk: string, sk: string): DynamoDBRecord => ({
    eventID: `id-${sequence}`,
    eventName: 'MODIFY',
    dynamodb: {
      Keys: { pk: { S: pk }, sk: { S: sk } },
      SequenceNumber: sequence,
      StreamViewType: 'KEYS_ONLY',
    },
  });

  it('checks each changed night once and reports the records of nights it could not check', async () => {
    const ari = new InMemoryAriStore();
    const parity = new InMemoryParityStore();
    const { reader, store } = memoryPorts(ari, parity);
    const key = { propertyId: PARITY_PROPERTY, roomTypeId: 'suite#1 ä', ratePlanId: 'bar', date: TODAY };
    await ari.writeNight(
      { ...key, channel: TRUTH },
      { rate: { amountMinor: 1000, currency: 'EUR' } },
      '1',
      'e1',
    );
    await ari.writeNight(
      { ...key, channel: 'ota-a' },
      { rate: { amountMinor: 990, currency: 'EUR' } },
      '2',
      'e2',
    );
    const checked: ParityNightKey[] = [];
    const metrics = metricsRecorder();
    const consumer = createParityConsumer(
      {
        ari: {
          readNightChannels: async (night) => {
            checked.push(night);
            if (night.ratePlanId === 'broken') throw new Error('ThrottlingException: injected');
            return reader.readNightChannels(night);
          },
        },
        store,
        clock,
      },
      settings,
      { error: () => undefined },
      metrics,
    );
    const sk = `${TODAY}#suite%231%20%C3%A4#bar`;

    const response = await consumer({
      Records: [
        record('100', `P#${PARITY_PROPERTY}`, `${sk}#cm`),
        record('101', `P#${PARITY_PROPERTY}`, `${TODAY}#dbl#broken#cm`),
        record('102', `P#${PARITY_PROPERTY}`, `${sk}#ota-a`),
        record('103', 'not-a-property', `${sk}#ota-a`),
        record('104', `P#${PARITY_PROPERTY}`, `${TODAY}#dbl#broken#ota-a`),
      ],
    });

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual([
      '101',
      '103',
      '104',
    ]);
    expect(checked).toHaveLength(2);
    expect(findingsOnly(parity.nights.get(PARITY_PROPERTY)?.values() ?? [])).toEqual([
      { key, findings: [expect.objectContaining({ channel: 'ota-a', difference: -10 })] },
    ]);
    expect(metrics.batches).toEqual([
      { NightsChecked: 1, NightsFlagged: 1, NightsCleared: 0, CheckFailures: 1 },
    ]);

    await ari.writeNight(
      { ...key, channel: 'ota-a' },
      { rate: { amountMinor: 1000, currency: 'EUR' } },
      '3',
      'e3',
    );
    await consumer({ Records: [record('105', `P#${PARITY_PROPERTY}`, `${sk}#ota-a`)] });
    expect(metrics.batches.at(-1)).toEqual({
      NightsChecked: 1,
      NightsFlagged: 0,
      NightsCleared: 1,
      CheckFailures: 0,
    });
  });
});

/** The metrics of each published batch, by name. */
function metricsRecorder() {
  const batches: Record<string, number>[] = [];
  let stored: Record<string, number> = {};
  return {
    batches,
    addMetric(name: string, _unit: unknown, value: number) {
      stored[name] = (stored[name] ?? 0) + value;
    },
    publishStoredMetrics() {
      batches.push(stored);
      stored = {};
    },
  };
}
