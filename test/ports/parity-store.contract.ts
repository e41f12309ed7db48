import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ParityFinding, ParityNightKey, ParityRecord, ParityStore } from '../../lambdas/state/ports';

/** A price finding of `channel` against the truth's 130.00 EUR. */
function price(key: ParityNightKey, channel: string, channelMinor: number): ParityFinding {
  const truthMinor = 13_000;
  const difference = channelMinor - truthMinor;
  return {
    kind: 'price',
    key,
    truthChannel: 'pms-main',
    channel,
    truthRate: { amountMinor: truthMinor, currency: 'EUR' },
    channelRate: { amountMinor: channelMinor, currency: 'EUR' },
    difference,
    percent: (Math.abs(difference) / truthMinor) * 100,
  };
}

/**
 * The night `date` of `propertyId` (room type dbl, rate plan bar unless `ids` say otherwise) with the findings
 * `findings` makes for its key. Stay dates lie years ahead, as DynamoDB Local deletes items whose TTL has passed.
 */
export function night(
  propertyId: string,
  date: string,
  findings: (key: ParityNightKey) => ParityFinding[],
  ids: Partial<ParityNightKey> = {},
): ParityRecord {
  const key = { propertyId, roomTypeId: 'dbl', ratePlanId: 'bar', date, ...ids };
  return { key, findings: findings(key), checkedAt: '2031-01-01T00:10:00.000Z' };
}

export const oneFinding = (key: ParityNightKey) => [price(key, 'booking', 12_600)];

/** Every page of a query, following the cursors it hands out. */
async function listAll(store: ParityStore, propertyId: string, from: string, to: string, limit = 100) {
  const pages: ParityRecord[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ propertyId, from, to, limit, ...(cursor ? { cursor } : {}) });
    pages.push([...page.items]);
    cursor = page.cursor;
  } while (cursor !== undefined && pages.length < 50);
  return pages;
}

/**
 * What every ParityStore must do: keep each night's latest findings exactly, forget a night put clean, and list
 * one property's nights in date order, a page at a time.
 */
export function parityStoreContract(name: string, create: () => ParityStore): void {
  describe(`${name} keeps the ParityStore contract`, () => {
    it('returns exactly the findings put, money and percentages included', async () => {
      const store = create();
      const propertyId = `prop-${randomUUID()}`;
      const record = night(propertyId, '2031-06-01', (key) => [
        price(key, 'booking', 12_600),
        price(key, 'expedia', 13_001),
        {
          kind: 'currency_mismatch',
          key,
          truthChannel: 'pms-main',
          channel: 'agoda',
          truthRate: { amountMinor: 13_000, currency: 'EUR' },
          channelRate: { amountMinor: 1_950_000, currency: 'JPY' },
        },
      ]);
      await store.putNight(record);
      const page = await store.list({ propertyId, from: '2031-06-01', to: '2031-06-01', limit: 10 });
      expect(page).toEqual({ items: [record] });
    });

    it('replaces a night’s findings, and removes the night when it is put with none', async () => {
      const store = create();
      const propertyId = `prop-${randomUUID()}`;
      await store.putNight(night(propertyId, '2031-06-02', oneFinding));
      const replaced = night(propertyId, '2031-06-02', (key) => [price(key, 'expedia', 14_000)]);
      await store.putNight(replaced);
      expect(
        (await store.list({ propertyId, from: '2031-06-02', to: '2031-06-02', limit: 10 })).items,
      ).toEqual([replaced]);

      await store.putNight(night(propertyId, '2031-06-02', () => []));
      expect(await store.list({ propertyId, from: '2031-06-01', to: '2031-06-30', limit: 10 })).toEqual({
        items: [],
      });
    });

    it('lists the inclusive range of dates, in date order, of the asked property only', async () => {
      const store = create();
      const [propertyId, other] = [`prop-${randomUUID()}`, `prop-${randomUUID()}`];
      for (const date of ['2031-07-05', '2031-06-30', '2031-07-01', '2031-07-03', '2031-07-06']) {
        await store.putNight(night(propertyId, date, oneFinding));
      }
      await store.putNight(night(propertyId, '2031-07-03', oneFinding, { roomTypeId: 'aaa' }));
      await store.putNight(night(other, '2031-07-02', oneFinding));

      const { items } = await store.list({ propertyId, from: '2031-07-01', to: '2031-07-05', limit: 100 });
      expect(items.map((item) => `${item.key.date} ${item.key.roomTypeId}`)).toEqual([
        '2031-07-01 dbl',
        '2031-07-03 aaa',
        '2031-07-03 dbl',
        '2031-07-05 dbl',
      ]);
      expect(items.every((item) => item.key.propertyId === propertyId)).toBe(true);
    });

    it('pages with the cursor it hands out, and hands none out with the last page', async () => {
      const store = create();
      const propertyId = `prop-${randomUUID()}`;
      const dates = ['2031-08-01', '2031-08-02', '2031-08-03', '2031-08-04', '2031-08-05'];
      for (const date of dates) await store.putNight(night(propertyId, date, oneFinding));

      const pages = await listAll(store, propertyId, '2031-08-01', '2031-08-31', 2);
      expect(pages.map((page) => page.map((item) => item.key.date))).toEqual([
        ['2031-08-01', '2031-08-02'],
        ['2031-08-03', '2031-08-04'],
        ['2031-08-05'],
      ]);
      // A page that ends exactly at the last night hands out no cursor either.
      expect(
        (await listAll(store, propertyId, '2031-08-01', '2031-08-04', 2)).map((page) => page.length),
      ).toEqual([2, 2]);
    });

    it('keeps ids containing "#" apart', async () => {
      const store = create();
      const propertyId = `prop-${randomUUID()}`;
      const first = night(propertyId, '2031-09-01', oneFinding, { roomTypeId: 'a#b', ratePlanId: 'c' });
      const second = night(propertyId, '2031-09-01', (key) => [price(key, 'x', 1)], {
        roomTypeId: 'a',
        ratePlanId: 'b#c',
      });
      await store.putNight(first);
      await store.putNight(second);
      const { items } = await store.list({ propertyId, from: '2031-09-01', to: '2031-09-01', limit: 10 });
      expect(items).toHaveLength(2);
      expect(items).toEqual(expect.arrayContaining([first, second]));
    });
  });
}
