import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ID_MAX_BYTES, idProblem } from '../../lambdas/domain/applicable';
import { mergeNight } from '../../lambdas/domain/lww';
import {
  type NightWrite,
  type RoomNightKey,
  type RoomNightState,
  type Version,
  versionOf,
} from '../../lambdas/domain/state';
import { ARI_STATE } from '../../lambdas/shared/topology';
import {
  DynamoDbAriStore,
  InvalidAriQueryError,
  InvalidCursorError,
} from '../../lambdas/state/dynamodb-ari-store';
import { EUR, nightOf, sortedByKey, version } from '../ports/ari-store.contract';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

const T1 = '2026-03-01T10:00:00.000Z';
const T2 = '2026-03-01T11:00:00.000Z';
const T3 = '2026-03-01T12:00:00.000Z';

// Last-writer-wins per group and paged range reads are the port's contract (test/ports, run in
// port-contracts.test.ts); these are what only DynamoDB shows: key layout and size, request counts, batching,
// races, cursor and query refusals, and agreement with mergeNight.
describe('DynamoDbAriStore against DynamoDB Local', () => {
  let topology: IsolatedTopology;
  let tableName: string;
  let store: DynamoDbAriStore;

  beforeAll(async () => {
    topology = await provisionIsolated();
    const name = topology.tables[ARI_STATE.id];
    if (name === undefined) throw new Error('ARI state table was not provisioned');
    tableName = name;
    store = new DynamoDbAriStore(topology.dynamodb, tableName);
  });

  it('stores and reads a room night whose every id is as large as the applicability contract allows', async () => {
    // Percent-encoding turns each of these bytes into three sort-key characters: the worst case per id.
    const widest = `${'中'.repeat(33)}#`;
    for (const id of [widest, '#'.repeat(ID_MAX_BYTES)]) expect(idProblem(id)).toBeUndefined();
    const key = nightOf(widest, {
      roomTypeId: widest,
      ratePlanId: '#'.repeat(ID_MAX_BYTES),
      channel: `${'s'.repeat(63)}:${widest}`,
    });
    const written = await store.writeNight(key, { rate: EUR(12_999) }, version(T1, 'widest'), 'evt_widest');
    expect(written).toEqual(['rate']);
    const page = await store.readNights({ propertyId: widest, from: key.date, to: key.date, limit: 10 });
    expect(page.items.map((night) => night.key)).toEqual([key]);
  });

  it('reads exactly the requested nights by key, across batches, skipping absent and repeated keys', async () => {
    const propertyId = `P-${randomUUID()}`;
    const dates = Array.from({ length: 130 }, (_, day) =>
      new Date(Date.UTC(2026, 6, 1 + day)).toISOString().slice(0, 10),
    );
    const stored = dates.map((date) => nightOf(propertyId, { date }));
    for (let i = 0; i < stored.length; i += 16) {
      await Promise.all(
        stored
          .slice(i, i + 16)
          .map((key, offset) =>
            store.writeNight(
              key,
              { availability: { rooms: (i + offset) % 9 } },
              version(T1, `k${i + offset}`),
              'evt',
            ),
          ),
      );
    }
    const absent = nightOf(propertyId, { date: '2030-01-01' });
    const otherChannel = nightOf(propertyId, { date: dates[0] as string, channel: 'ota-demo' });
    const wanted = [...stored.slice(0, 120), absent, otherChannel, stored[5] as RoomNightKey];

    const found = await store.readNightsByKey(wanted);
    expect(sortedByKey(found).map((state) => state.key)).toEqual(
      sortedByKey(stored.slice(0, 120).map((key) => ({ key }))).map((state) => state.key),
    );
    expect(found.find((state) => state.key.date === dates[7])?.availability?.value).toEqual({ rooms: 7 });
    expect(await store.readNightsByKey([])).toEqual([]);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Counts the requests the store sends, to tell the one-write path from the fallback. */
  function countRequests(): { readonly count: () => number } {
    const send = vi.spyOn(topology.dynamodb, 'send');
    return { count: () => send.mock.calls.length };
  }

  describe('writeNight', () => {
    it('stores every group in one write, laid out as documented, and reads it back', async () => {
      const propertyId = `prop-${randomUUID()}`;
      const key = nightOf(propertyId, { roomTypeId: 'suite#1', ratePlanId: 'bar 100%' });
      const write: NightWrite = {
        rate: EUR(12950),
        availability: { rooms: 19, requested: 25, cappedBy: 'physical 20 × buffer 0.95 = 19' },
        restrictions: { minLengthOfStay: 2, closedToArrival: true, stopSell: false },
      };
      const v = version(T1, 'delivery-1');
      const requests = countRequests();

      expect(await store.writeNight(key, write, v, 'evt_1')).toEqual([
        'rate',
        'availability',
        'restrictions',
      ]);
      expect(requests.count()).toBe(1);

      const { Item } = await topology.dynamodb.send(
        new GetItemCommand({
          TableName: tableName,
          Key: {
            pk: { S: `P#${propertyId}` },
            sk: { S: '2026-05-01#suite%231#bar%20100%25#cm-demo%3Abooking' },
          },
          ConsistentRead: true,
        }),
      );
      expect(Item).toEqual({
        pk: { S: `P#${propertyId}` },
        sk: { S: '2026-05-01#suite%231#bar%20100%25#cm-demo%3Abooking' },
        propertyId: { S: propertyId },
        roomTypeId: { S: 'suite#1' },
        ratePlanId: { S: 'bar 100%' },
        channel: { S: 'cm-demo:booking' },
        date: { S: '2026-05-01' },
        rate: { M: { amountMinor: { N: '12950' }, currency: { S: 'EUR' } } },
        rateVersion: { S: v },
        rateEventId: { S: 'evt_1' },
        availability: {
          M: {
            rooms: { N: '19' },
            requested: { N: '25' },
            cappedBy: { S: 'physical 20 × buffer 0.95 = 19' },
          },
        },
        availabilityVersion: { S: v },
        availabilityEventId: { S: 'evt_1' },
        restrictions: {
          M: { minLengthOfStay: { N: '2' }, closedToArrival: { BOOL: true }, stopSell: { BOOL: false } },
        },
        restrictionsVersion: { S: v },
        restrictionsEventId: { S: 'evt_1' },
      });

      const page = await store.readNights({ propertyId, from: '2026-05-01', to: '2026-05-01', limit: 10 });
      expect(page).toEqual({
        items: [
          {
            key,
            rate: { value: write.rate, version: v, eventId: 'evt_1' },
            availability: { value: write.availability, version: v, eventId: 'evt_1' },
            restrictions: { value: write.restrictions, version: v, eventId: 'evt_1' },
          },
        ],
      });
    });

    it('writes the older groups of a late event but keeps the newer rate (the fallback path)', async () => {
      const key = nightOf(`prop-${randomUUID()}`);
      const newer = version(T2, 'rate-update');
      const older = version(T1, 'full-update');
      expect(await store.writeNight(key, { rate: EUR(15000) }, newer, 'evt_newer')).toEqual(['rate']);

      const requests = countRequests();
      const written = await store.writeNight(
        key,
        { rate: EUR(9900), availability: { rooms: 4 } },
        older,
        'evt_older',
      );
      expect(written).toEqual(['availability']);
      // The combined write is refused, then the availability alone goes through.
      expect(requests.count()).toBe(2);

      const [night] = (
        await store.readNights({ propertyId: key.propertyId, from: key.date, to: key.date, limit: 1 })
      ).items;
      expect(night).toEqual({
        key,
        rate: { value: EUR(15000), version: newer, eventId: 'evt_newer' },
        availability: { value: { rooms: 4 }, version: older, eventId: 'evt_older' },
      });
    });

    it('does not send anything for a write that carries no group', async () => {
      const key = nightOf(`prop-${randomUUID()}`);
      const requests = countRequests();
      expect(await store.writeNight(key, {}, version(T1, 'empty'), 'evt_empty')).toEqual([]);
      expect(requests.count()).toBe(0);
      vi.restoreAllMocks();
      expect(
        (await store.readNights({ propertyId: key.propertyId, from: key.date, to: key.date, limit: 1 }))
          .items,
      ).toEqual([]);
    });

    it('ends with the newest value when many writers race on one night', async () => {
      const key = nightOf(`prop-${randomUUID()}`);
      const writers = Array.from({ length: 12 }, (_, index) => ({
        v: version(`2026-03-01T10:00:${String(index).padStart(2, '0')}.000Z`, 'race'),
        index,
      }));
      const results = await Promise.all(
        [...writers].reverse().map(({ v, index }) =>
          store.writeNight(
            key,
            {
              rate: EUR(1000 + index),
              availability: { rooms: index },
              restrictions: { minLengthOfStay: index + 1 },
            },
            v,
            `evt_${index}`,
          ),
        ),
      );
      // The newest writer can never be refused: nothing newer exists.
      expect(results[0]).toEqual(['rate', 'availability', 'restrictions']);
      const newest = writers.at(-1);
      if (newest === undefined) throw new Error('no writers');
      const [night] = (
        await store.readNights({ propertyId: key.propertyId, from: key.date, to: key.date, limit: 1 })
      ).items;
      expect(night).toEqual({
        key,
        rate: { value: EUR(1011), version: newest.v, eventId: 'evt_11' },
        availability: { value: { rooms: 11 }, version: newest.v, eventId: 'evt_11' },
        restrictions: { value: { minLengthOfStay: 12 }, version: newest.v, eventId: 'evt_11' },
      });
    });
  });

  describe('readNights', () => {
    const dates = ['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04', '2026-05-05'];
    let propertyId: string;
    let allKeys: RoomNightKey[];

    beforeAll(async () => {
      propertyId = `prop-${randomUUID()}`;
      allKeys = dates.flatMap((date) =>
        ['dbl', 'twin'].flatMap((roomTypeId) =>
          ['bar', 'nonref'].map((ratePlanId) => nightOf(propertyId, { date, roomTypeId, ratePlanId })),
        ),
      );
      // A neighbouring property's nights must never show up.
      const neighbour = nightOf(`${propertyId}-2`, { date: '2026-05-02' });
      await Promise.all(
        [...allKeys, neighbour].map((key, index) =>
          store.writeNight(
            key,
            { rate: EUR(10000 + index) },
            version(T3, `seed-${index}`),
            `evt_seed_${index}`,
          ),
        ),
      );
    });

    it('rejects a cursor it did not issue for this query', async () => {
      const first = await store.readNights({ propertyId, from: '2026-05-01', to: '2026-05-05', limit: 2 });
      const cursor = first.cursor;
      if (cursor === undefined) throw new Error('expected a second page');
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const base = { propertyId, from: '2026-05-01', to: '2026-05-05', limit: 2 };
      const invalid = [
        'not a cursor!',
        Buffer.from('{"pk":').toString('base64url'),
        encode(['pk', 'sk']),
        encode({ pk: { S: `P#${propertyId}` } }),
        encode({ pk: { S: `P#${propertyId}` }, sk: { N: '1' } }),
        encode({ pk: { S: `P#${propertyId}` }, sk: { S: '2026-05-01#dbl#bar#x' }, extra: { S: '' } }),
      ];
      for (const bad of invalid) {
        await expect(store.readNights({ ...base, cursor: bad })).rejects.toThrow(InvalidCursorError);
      }
      // Issued for another property, or for another date range.
      await expect(store.readNights({ ...base, propertyId: `${propertyId}-2`, cursor })).rejects.toThrow(
        /another property/,
      );
      await expect(store.readNights({ ...base, from: '2026-05-04', cursor })).rejects.toThrow(
        /outside the requested/,
      );
      await expect(store.readNights({ ...base, cursor: '%%%' })).rejects.toMatchObject({
        name: 'InvalidCursorError',
        code: 'invalid_cursor',
      });
      // The genuine cursor still works.
      expect((await store.readNights({ ...base, cursor })).items).toHaveLength(2);
    });

    it('rejects a backwards range, a malformed date and a page size out of bounds', async () => {
      const base = { propertyId, from: '2026-05-01', to: '2026-05-05', limit: 2 };
      await expect(store.readNights({ ...base, from: '2026-05-06' })).rejects.toThrow(InvalidAriQueryError);
      await expect(store.readNights({ ...base, to: '5 May 2026' })).rejects.toThrow(/YYYY-MM-DD/);
      await expect(store.readNights({ ...base, limit: 0 })).rejects.toThrow(InvalidAriQueryError);
      await expect(store.readNights({ ...base, limit: 2.5 })).rejects.toThrow(InvalidAriQueryError);
    });
  });

  describe('agrees with mergeNight', () => {
    interface Event {
      readonly version: Version;
      readonly eventId: string;
      /** Indexes into the run's room nights. */
      readonly nights: readonly number[];
      readonly write: NightWrite;
    }

    const nightWrite: fc.Arbitrary<NightWrite> = fc.record(
      {
        rate: fc.record({
          amountMinor: fc.integer({ min: 0, max: 1_000_000 }),
          currency: fc.constantFrom('EUR', 'JPY'),
        }),
        availability: fc.record(
          {
            rooms: fc.integer({ min: 0, max: 50 }),
            requested: fc.integer({ min: 0, max: 80 }),
            cappedBy: fc.constant('physical 20'),
          },
          { requiredKeys: ['rooms'] },
        ),
        restrictions: fc.record(
          {
            minLengthOfStay: fc.integer({ min: 1, max: 7 }),
            closedToArrival: fc.boolean(),
            stopSell: fc.boolean(),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );

    const scenario = fc.integer({ min: 2, max: 3 }).chain((nightCount) =>
      fc
        .uniqueArray(
          fc.record({
            occurredAt: fc.constantFrom(T1, T2, T3),
            idempotencyKey: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
            nights: fc.uniqueArray(fc.nat({ max: nightCount - 1 }), { minLength: 1, maxLength: nightCount }),
            write: nightWrite,
          }),
          { selector: versionOf, minLength: 5, maxLength: 15 },
        )
        .chain((raw) => {
          const events: Event[] = raw.map(({ occurredAt, idempotencyKey, nights, write }) => ({
            version: version(occurredAt, idempotencyKey),
            eventId: `evt_${idempotencyKey}_${occurredAt}`,
            nights,
            write,
          }));
          const applications = events.flatMap((event) => event.nights.map((night) => ({ event, night })));
          // Each room-night write at least once, some twice, in any order.
          const order = fc
            .array(fc.array(fc.nat(), { minLength: 1, maxLength: 2 }), {
              minLength: applications.length,
              maxLength: applications.length,
            })
            .map((positions) =>
              positions
                .flatMap((copies, index) => copies.map((position) => ({ position, index })))
                .sort((a, b) => a.position - b.position)
                .map(({ index }) => applications[index] as (typeof applications)[number]),
            );
          return fc.record({
            nightCount: fc.constant(nightCount),
            events: fc.constant(events),
            delivered: order,
            inFlight: fc.constantFrom(1, 1, 2, 4),
          });
        }),
    );

    it('ends in the state of applying every event once in version order, whatever the delivery order', async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ nightCount, events, delivered, inFlight }) => {
          const propertyId = `prop-${randomUUID()}`;
          const nights = Array.from({ length: nightCount }, (_, index) =>
            nightOf(propertyId, {
              date: `2026-05-0${1 + (index % 2)}`,
              roomTypeId: index === 2 ? 'dbl#2' : 'dbl',
            }),
          );
          const nightAt = (index: number): RoomNightKey => nights[index] as RoomNightKey;

          // Sequential runs also check what each write reports against mergeNight in the same order.
          const replay = new Map<number, RoomNightState>();
          for (let start = 0; start < delivered.length; start += inFlight) {
            const batch = delivered.slice(start, start + inFlight);
            const results = await Promise.all(
              batch.map(({ event, night }) =>
                store.writeNight(nightAt(night), event.write, event.version, event.eventId),
              ),
            );
            if (inFlight === 1) {
              const [{ event, night }] = batch as [(typeof batch)[number]];
              const merged = mergeNight(
                replay.get(night) ?? { key: nightAt(night) },
                event.write,
                event.version,
                event.eventId,
              );
              replay.set(night, merged.state);
              expect(results[0]).toEqual(merged.written);
            }
          }

          const expected = nights
            .map((key, index) =>
              events
                .filter((event) => event.nights.includes(index))
                .sort((a, b) => (a.version < b.version ? -1 : 1))
                .reduce<RoomNightState>(
                  (state, event) => mergeNight(state, event.write, event.version, event.eventId).state,
                  { key },
                ),
            )
            .filter((state) => state.rate || state.availability || state.restrictions);
          const { items, cursor } = await store.readNights({
            propertyId,
            from: '2026-05-01',
            to: '2026-05-02',
            limit: 10,
          });
          expect(cursor).toBeUndefined();
          expect(sortedByKey(items)).toEqual(sortedByKey(expected));
        }),
        { numRuns: 30 },
      );
    }, 30_000);
  });
});
