import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type NightWrite,
  type RoomNightKey,
  type RoomNightState,
  type Version,
  versionOf,
} from '../../lambdas/domain/state';
import { InvalidCursorError } from '../../lambdas/shared/cursor';
import type { AriQuery, AriStore } from '../../lambdas/state/ports';
import { BYTE_EARLIER, BYTE_LATER } from './reservation-store.contract';

export const EUR = (amountMinor: number) => ({ amountMinor, currency: 'EUR' });
const T1 = '2026-03-01T10:00:00.000Z';
const T2 = '2026-03-01T11:00:00.000Z';
const T3 = '2026-03-01T12:00:00.000Z';

export function nightOf(propertyId: string, overrides: Partial<RoomNightKey> = {}): RoomNightKey {
  return {
    propertyId,
    roomTypeId: 'dbl',
    ratePlanId: 'bar',
    channel: 'cm-demo:booking',
    date: '2026-05-01',
    ...overrides,
  };
}

export function version(occurredAt: string, idempotencyKey: string): Version {
  return versionOf({ occurredAt, idempotencyKey });
}

function keyText(key: RoomNightKey): string {
  return JSON.stringify([key.propertyId, key.date, key.roomTypeId, key.ratePlanId, key.channel]);
}

export function sortedByKey(states: readonly RoomNightState[]): RoomNightState[] {
  return [...states].sort((a, b) => keyText(a.key).localeCompare(keyText(b.key)));
}

async function readOne(store: AriStore, key: RoomNightKey): Promise<RoomNightState | undefined> {
  const { items } = await store.readNights({
    propertyId: key.propertyId,
    from: key.date,
    to: key.date,
    limit: 10,
  });
  return items.find((night) => keyText(night.key) === keyText(key));
}

/** What every AriStore must do: last writer wins per field group, and ranges read in pages. */
export function ariStoreContract(name: string, create: () => AriStore): void {
  describe(`${name} keeps the AriStore contract`, () => {
    describe('writeNight', () => {
      it('writes every group of a first write and reads them back exactly, by range and by key', async () => {
        const store = create();
        const key = nightOf(`prop-${randomUUID()}`, { roomTypeId: 'suite#1', ratePlanId: 'bar 100%' });
        const write: NightWrite = {
          rate: EUR(12950),
          availability: { rooms: 19, requested: 25, cappedBy: 'physical 20 × buffer 0.95 = 19' },
          restrictions: { minLengthOfStay: 2, closedToArrival: true, stopSell: false },
        };
        const v = version(T1, 'delivery-1');
        expect(await store.writeNight(key, write, v, 'evt_1')).toEqual([
          'rate',
          'availability',
          'restrictions',
        ]);

        const state = {
          key,
          rate: { value: write.rate, version: v, eventId: 'evt_1' },
          availability: { value: write.availability, version: v, eventId: 'evt_1' },
          restrictions: { value: write.restrictions, version: v, eventId: 'evt_1' },
        };
        expect(
          await store.readNights({ propertyId: key.propertyId, from: key.date, to: key.date, limit: 10 }),
        ).toEqual({ items: [state] });
        expect(await store.readNightsByKey([key])).toEqual([state]);
      });

      it('keeps ids containing the separator apart', async () => {
        const store = create();
        const propertyId = `prop-${randomUUID()}`;
        const first = nightOf(propertyId, { roomTypeId: 'a#b', ratePlanId: 'c' });
        const second = nightOf(propertyId, { roomTypeId: 'a', ratePlanId: 'b#c' });
        await store.writeNight(first, { rate: EUR(100) }, version(T1, 'k1'), 'evt_1');
        await store.writeNight(second, { rate: EUR(200) }, version(T1, 'k2'), 'evt_2');

        const { items } = await store.readNights({
          propertyId,
          from: '2026-05-01',
          to: '2026-05-01',
          limit: 10,
        });
        expect(sortedByKey(items)).toEqual(
          sortedByKey([
            { key: first, rate: { value: EUR(100), version: version(T1, 'k1'), eventId: 'evt_1' } },
            { key: second, rate: { value: EUR(200), version: version(T1, 'k2'), eventId: 'evt_2' } },
          ]),
        );
      });

      it('writes the older groups of a late event but keeps the newer rate', async () => {
        const store = create();
        const key = nightOf(`prop-${randomUUID()}`);
        const newer = version(T2, 'rate-update');
        const older = version(T1, 'full-update');
        expect(await store.writeNight(key, { rate: EUR(15000) }, newer, 'evt_newer')).toEqual(['rate']);
        expect(
          await store.writeNight(key, { rate: EUR(9900), availability: { rooms: 4 } }, older, 'evt_older'),
        ).toEqual(['availability']);
        expect(await readOne(store, key)).toEqual({
          key,
          rate: { value: EUR(15000), version: newer, eventId: 'evt_newer' },
          availability: { value: { rooms: 4 }, version: older, eventId: 'evt_older' },
        });
      });

      it('writes nothing when the same event is applied again, or an older one, and leaves the groups as they were', async () => {
        const store = create();
        const key = nightOf(`prop-${randomUUID()}`);
        const v = version(T1, 'delivery-7');
        const write: NightWrite = { availability: { rooms: 3 }, restrictions: { stopSell: true } };
        expect(await store.writeNight(key, write, v, 'evt_7')).toEqual(['availability', 'restrictions']);
        const before = await readOne(store, key);

        expect(await store.writeNight(key, write, v, 'evt_7')).toEqual([]);
        expect(
          await store.writeNight(key, { availability: { rooms: 9 } }, version(T1, 'delivery-0'), 'evt_0'),
        ).toEqual([]);
        expect(await readOne(store, key)).toEqual(before);
      });

      it('stores nothing for a write that carries no group', async () => {
        const store = create();
        const key = nightOf(`prop-${randomUUID()}`);
        expect(await store.writeNight(key, {}, version(T1, 'empty'), 'evt_empty')).toEqual([]);
        expect(await readOne(store, key)).toBeUndefined();
        expect(await store.readNightsByKey([key])).toEqual([]);
      });

      it('breaks a tie on occurredAt with the idempotency key, in either arrival order', async () => {
        const store = create();
        for (const order of [
          ['a', 'b'],
          ['b', 'a'],
        ] as const) {
          const key = nightOf(`prop-${randomUUID()}`);
          for (const idempotencyKey of order) {
            await store.writeNight(
              key,
              { rate: EUR(idempotencyKey === 'a' ? 100 : 200) },
              version(T1, idempotencyKey),
              `evt_${idempotencyKey}`,
            );
          }
          expect((await readOne(store, key))?.rate).toEqual({
            value: EUR(200),
            version: version(T1, 'b'),
            eventId: 'evt_b',
          });
        }
      });

      it('orders versions by their UTF-8 bytes, as DynamoDB compares strings', async () => {
        const store = create();
        const key = nightOf(`prop-${randomUUID()}`);
        const later = version(T1, BYTE_LATER);
        expect(await store.writeNight(key, { rate: EUR(200) }, later, 'evt_later')).toEqual(['rate']);
        expect(
          await store.writeNight(key, { rate: EUR(100) }, version(T1, BYTE_EARLIER), 'evt_earlier'),
        ).toEqual([]);
        expect((await readOne(store, key))?.rate).toEqual({
          value: EUR(200),
          version: later,
          eventId: 'evt_later',
        });
      });

      it('versions each group on its own', async () => {
        const store = create();
        const key = nightOf(`prop-${randomUUID()}`);
        await store.writeNight(key, { availability: { rooms: 1 } }, version(T3, 'a'), 'evt_a');
        await store.writeNight(key, { restrictions: { stopSell: true } }, version(T1, 'b'), 'evt_b');
        expect(
          await store.writeNight(
            key,
            { rate: EUR(1), availability: { rooms: 2 }, restrictions: { stopSell: false } },
            version(T2, 'c'),
            'evt_c',
          ),
        ).toEqual(['rate', 'restrictions']);
        expect(await readOne(store, key)).toEqual({
          key,
          rate: { value: EUR(1), version: version(T2, 'c'), eventId: 'evt_c' },
          availability: { value: { rooms: 1 }, version: version(T3, 'a'), eventId: 'evt_a' },
          restrictions: { value: { stopSell: false }, version: version(T2, 'c'), eventId: 'evt_c' },
        });
      });
    });

    it('reads exactly the requested nights by key, skipping absent and repeated keys', async () => {
      const store = create();
      const propertyId = `prop-${randomUUID()}`;
      const stored = ['2026-07-01', '2026-07-02', '2026-07-03'].map((date) => nightOf(propertyId, { date }));
      for (const [index, key] of stored.entries()) {
        await store.writeNight(key, { availability: { rooms: index } }, version(T1, `k${index}`), 'evt');
      }
      const absent = nightOf(propertyId, { date: '2030-01-01' });
      const otherChannel = nightOf(propertyId, { date: '2026-07-01', channel: 'ota-demo' });
      const found = await store.readNightsByKey([
        stored[0] as RoomNightKey,
        absent,
        stored[2] as RoomNightKey,
        otherChannel,
        stored[2] as RoomNightKey,
      ]);
      expect(sortedByKey(found)).toEqual(
        sortedByKey(
          [0, 2].map((index) => ({
            key: stored[index] as RoomNightKey,
            availability: { value: { rooms: index }, version: version(T1, `k${index}`), eventId: 'evt' },
          })),
        ),
      );
      expect(await store.readNightsByKey([])).toEqual([]);
    });

    describe('readNights', () => {
      const dates = ['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04', '2026-05-05'];
      let store: AriStore;
      let propertyId: string;
      /** Every seeded night of the property, in the store's key order: date, room type, rate plan. */
      let allKeys: RoomNightKey[];

      beforeAll(async () => {
        store = create();
        propertyId = `prop-${randomUUID()}`;
        allKeys = dates.flatMap((date) =>
          ['dbl', 'twin'].flatMap((roomTypeId) =>
            ['bar', 'nonref'].map((ratePlanId) => nightOf(propertyId, { date, roomTypeId, ratePlanId })),
          ),
        );
        // Written out of order; a neighbouring property's nights, and the nights just outside, must never show up.
        const others = [
          nightOf(`${propertyId}-2`, { date: '2026-05-02' }),
          nightOf(propertyId, { date: '2026-04-30' }),
          nightOf(propertyId, { date: '2026-05-06' }),
        ];
        await Promise.all(
          [...allKeys, ...others]
            .reverse()
            .map((key, index) =>
              store.writeNight(
                key,
                { rate: EUR(10000 + index) },
                version(T3, `seed-${index}`),
                `evt_seed_${index}`,
              ),
            ),
        );
      });

      const readAll = async (query: Omit<AriQuery, 'cursor' | 'propertyId'>) => {
        const pages: RoomNightState[][] = [];
        let cursor: string | undefined;
        do {
          const page = await store.readNights({ ...query, propertyId, ...(cursor ? { cursor } : {}) });
          pages.push([...page.items]);
          cursor = page.cursor;
        } while (cursor !== undefined && pages.length < 50);
        return pages;
      };

      it('returns the nights of the date range, both ends included, in date order', async () => {
        const { items, cursor } = await store.readNights({
          propertyId,
          from: '2026-05-02',
          to: '2026-05-04',
          limit: 100,
        });
        expect(cursor).toBeUndefined();
        expect(items.map((night) => night.key)).toEqual(
          allKeys.filter((key) => key.date >= '2026-05-02' && key.date <= '2026-05-04'),
        );
        expect(
          (
            await store.readNights({
              propertyId: `prop-${randomUUID()}`,
              from: '2026-05-01',
              to: '2026-05-05',
              limit: 10,
            })
          ).items,
        ).toEqual([]);
      });

      it('filters by room type and rate plan', async () => {
        const byRoomType = await readAll({
          from: '2026-05-01',
          to: '2026-05-05',
          roomTypeId: 'twin',
          limit: 100,
        });
        expect(byRoomType.flat().map((night) => night.key)).toEqual(
          allKeys.filter((key) => key.roomTypeId === 'twin'),
        );
        const both = await readAll({
          from: '2026-05-01',
          to: '2026-05-05',
          roomTypeId: 'dbl',
          ratePlanId: 'nonref',
          limit: 100,
        });
        expect(both.flat().map((night) => night.key)).toEqual(
          allKeys.filter((key) => key.roomTypeId === 'dbl' && key.ratePlanId === 'nonref'),
        );
      });

      it('pages through the range with the cursor, every night exactly once, every page but the last full', async () => {
        const pages = await readAll({ from: '2026-05-01', to: '2026-05-05', limit: 3 });
        const nonEmpty = pages.filter((page) => page.length > 0);
        expect(nonEmpty.slice(0, -1).every((page) => page.length === 3)).toBe(true);
        expect(pages.flat().map((night) => night.key)).toEqual(allKeys);
      });

      it('fills each page when a filter skips most nights', async () => {
        const pages = await readAll({
          from: '2026-05-01',
          to: '2026-05-05',
          ratePlanId: 'nonref',
          roomTypeId: 'twin',
          limit: 2,
        });
        expect(pages.flat().map((night) => night.key)).toEqual(
          allKeys.filter((key) => key.ratePlanId === 'nonref' && key.roomTypeId === 'twin'),
        );
        expect(pages[0]).toHaveLength(2);
        expect(pages[1]).toHaveLength(2);
      });

      it('rejects a cursor it did not issue for this query, and still takes the genuine one', async () => {
        const base = { propertyId, from: '2026-05-01', to: '2026-05-05', limit: 2 };
        const { cursor } = await store.readNights(base);
        if (cursor === undefined) throw new Error('expected a second page');
        for (const query of [
          { ...base, cursor: 'not a cursor!' },
          { ...base, cursor: Buffer.from('{"pk":').toString('base64url') },
          { ...base, propertyId: `${propertyId}-2`, cursor },
          { ...base, from: '2026-05-04', cursor },
        ]) {
          const attempt = store.readNights(query);
          await expect(attempt).rejects.toBeInstanceOf(InvalidCursorError);
          await expect(attempt).rejects.toMatchObject({ name: 'InvalidCursorError', code: 'invalid_cursor' });
        }
        expect((await store.readNights({ ...base, cursor })).items.map((night) => night.key)).toEqual(
          allKeys.slice(2, 4),
        );
      });
    });
  });
}
