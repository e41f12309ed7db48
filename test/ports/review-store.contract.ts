import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import { InvalidCursorError } from '../../lambdas/shared/cursor';
import type { ParkedEvent, ReviewStore } from '../../lambdas/state/ports';
import { reservationChange } from '../support/events';

/** A reservation received at 10:00 on 2026-03-01; `note` becomes its reservation id, to make it any size. */
export function reservationEvent(
  eventId: string,
  overrides: Partial<{ sourceId: string; note: string }> = {},
): CanonicalEvent {
  return reservationChange({
    eventId,
    sourceId: overrides.sourceId ?? 'pms-demo',
    idempotencyKey: `key-${eventId}`,
    receivedAt: '2026-03-01T10:00:00.000Z',
    data: {
      reservationExternalId: overrides.note ?? 'R-1',
      propertyExternalId: 'HOTEL-9',
      roomTypeExternalId: 'DBL',
      arrivalDate: '2026-04-01',
      departureDate: '2026-04-03',
      total: { amountMinor: 25_900, currency: 'EUR' },
    },
  });
}

export function parked(
  event: CanonicalEvent,
  waitingFor: string,
  reason = `unmapped: ${waitingFor}`,
): ParkedEvent {
  return { event, reason, waitingFor, parkedAt: '2026-03-01T10:00:01.000Z' };
}

const byEventId = (entries: readonly ParkedEvent[]) => entries.map((entry) => entry.event.eventId).sort();

/**
 * What every ReviewStore must do: hold parked events by id, find them by the mapping they wait for, and page
 * through all of them. `createEmpty` gives a store that holds nothing yet, for the listing.
 */
export function reviewStoreContract(
  name: string,
  create: () => ReviewStore,
  createEmpty: () => Promise<ReviewStore>,
): void {
  describe(`${name} keeps the ReviewStore contract`, () => {
    it('parks an event and gives it back exactly, found by the mapping it waits for', async () => {
      const store = create();
      const event = reservationEvent(`evt_${randomUUID()}`);
      const waitingFor = `roomType|DBL-${randomUUID()}`;
      await store.park(parked(event, waitingFor));
      expect(await store.waitingFor(waitingFor)).toEqual([parked(event, waitingFor)]);
    });

    it('finds only the events waiting for the given mapping key', async () => {
      const store = create();
      const wanted = `roomType|${randomUUID()}`;
      const other = `ratePlan|${randomUUID()}`;
      const first = reservationEvent(`evt_${randomUUID()}`);
      const second = reservationEvent(`evt_${randomUUID()}`, { sourceId: 'ota-demo' });
      const elsewhere = reservationEvent(`evt_${randomUUID()}`);
      await Promise.all([
        store.park(parked(first, wanted)),
        store.park(parked(second, wanted)),
        store.park(parked(elsewhere, other)),
      ]);

      expect(byEventId(await store.waitingFor(wanted))).toEqual([first.eventId, second.eventId].sort());
      expect((await store.waitingFor(other)).map((entry) => entry.event)).toEqual([elsewhere]);
      expect(await store.waitingFor(`property|${randomUUID()}`)).toEqual([]);
    });

    it('re-parking replaces the reason and moves the event to the new mapping key', async () => {
      const store = create();
      const event = reservationEvent(`evt_${randomUUID()}`);
      const before = `property|${randomUUID()}`;
      const after = `roomType|${randomUUID()}`;
      await store.park(parked(event, before, 'unmapped property'));
      await store.park(parked(event, after, 'unmapped room type'));

      expect(await store.waitingFor(before)).toEqual([]);
      expect(await store.waitingFor(after)).toEqual([parked(event, after, 'unmapped room type')]);
    });

    it('removes a parked event, and removing an unknown one is harmless', async () => {
      const store = create();
      const event = reservationEvent(`evt_${randomUUID()}`);
      const staying = reservationEvent(`evt_${randomUUID()}`);
      const waitingFor = `ratePlan|${randomUUID()}`;
      await store.park(parked(event, waitingFor));
      await store.park(parked(staying, waitingFor));
      await store.remove(event.eventId);
      await store.remove(`evt_${randomUUID()}`);
      expect(await store.waitingFor(waitingFor)).toEqual([parked(staying, waitingFor)]);
    });

    describe('waitingInOrder', () => {
      /** Events of one held source whose changes happened in the given order, parked in another order. */
      async function parkShuffled(store: ReviewStore, key: string, count: number) {
        const events = Array.from({ length: count }, (_, index) =>
          reservationChange({
            eventId: `evt_${randomUUID()}`,
            sourceId: 'pms-demo',
            // Keys that sort against the change times, so that only occurredAt can give the order.
            idempotencyKey: `key-${String(count - index).padStart(3, '0')}-${randomUUID()}`,
            occurredAt: new Date(Date.parse('2026-05-01T00:00:00.000Z') + index * 60_000).toISOString(),
            receivedAt: '2026-06-01T12:00:00.000Z',
          }),
        );
        const shuffled = [...events].reverse();
        shuffled.push(...shuffled.splice(0, 2));
        for (const event of shuffled) await store.park(parked(event, key, 'held'));
        return events;
      }

      async function pageThrough(store: ReviewStore, key: string, size: number) {
        const pages = [];
        let cursor: string | undefined;
        do {
          const page = await store.waitingInOrder(key, size, cursor);
          pages.push(page);
          cursor = page.cursor;
        } while (cursor !== undefined && pages.length < 20);
        return pages;
      }

      it('pages through the events waiting for a key in the order their changes happened', async () => {
        const store = create();
        const key = `hold|src-${randomUUID()}`;
        const events = await parkShuffled(store, key, 7);
        await store.park(parked(reservationEvent(`evt_${randomUUID()}`), `hold|other-${randomUUID()}`));

        const pages = await pageThrough(store, key, 3);
        expect(pages.map((page) => page.items.length)).toEqual([3, 3, 1]);
        expect(pages.map((page) => page.cursor !== undefined)).toEqual([true, true, false]);
        expect(pages.flatMap((page) => page.items)).toEqual(
          events.map((event) => parked(event, key, 'held')),
        );
        expect((await store.waitingInOrder(key, 7)).cursor).toBeUndefined();
        expect(await store.waitingInOrder(`hold|none-${randomUUID()}`, 5)).toEqual({ items: [] });
      });

      it('goes on from its cursor although the events before it have since been applied and removed', async () => {
        const store = create();
        const key = `hold|src-${randomUUID()}`;
        const events = await parkShuffled(store, key, 5);
        const first = await store.waitingInOrder(key, 2);
        for (const entry of first.items) await store.remove(entry.event.eventId);
        const rest = await store.waitingInOrder(key, 10, first.cursor);
        expect(rest.items.map((entry) => entry.event.eventId)).toEqual(
          events.slice(2).map((event) => event.eventId),
        );
      });

      it('refuses a cursor issued for another key, or not issued at all', async () => {
        const store = create();
        const key = `hold|src-${randomUUID()}`;
        const other = `hold|src-${randomUUID()}`;
        await parkShuffled(store, other, 3);
        const { cursor } = await store.waitingInOrder(other, 1);
        expect(cursor).toBeDefined();
        await expect(store.waitingInOrder(key, 1, cursor)).rejects.toMatchObject({ code: 'invalid_cursor' });
        const forged = Buffer.from(JSON.stringify({ pk: { S: 'evt_1' } })).toString('base64url');
        await expect(store.waitingInOrder(key, 1, forged)).rejects.toBeInstanceOf(InvalidCursorError);
        await expect(store.waitingInOrder(key, 0)).rejects.toBeInstanceOf(RangeError);
      });
    });

    describe('list', () => {
      let store: ReviewStore;
      let eventIds: string[];

      beforeAll(async () => {
        store = await createEmpty();
        eventIds = Array.from({ length: 5 }, () => `evt_${randomUUID()}`);
        await Promise.all(
          eventIds.map((eventId, index) =>
            store.park(parked(reservationEvent(eventId), `roomType|RT-${index}`)),
          ),
        );
      });

      it('pages through every parked event once, with a cursor on every page but the last', async () => {
        const pages = [];
        let cursor: string | undefined;
        do {
          const page = await store.list(2, cursor);
          pages.push(page);
          cursor = page.cursor;
        } while (cursor !== undefined && pages.length < 10);

        expect(pages.map((page) => page.items.length)).toEqual([2, 2, 1]);
        expect(pages.map((page) => page.cursor !== undefined)).toEqual([true, true, false]);
        const listed = pages.flatMap((page) => page.items.map((entry) => entry.event.eventId));
        expect(listed.sort()).toEqual([...eventIds].sort());
        const first = pages[0]?.items[0];
        expect(first).toEqual(parked(reservationEvent(first?.event.eventId ?? ''), first?.waitingFor ?? ''));
      });

      it('hands out no cursor when the page holds exactly the remaining events', async () => {
        const page = await store.list(5);
        expect(page.items).toHaveLength(5);
        expect(page.cursor).toBeUndefined();
        expect((await store.list(50)).items).toHaveLength(5);
      });

      it('rejects a cursor it did not issue with an invalid_cursor error', async () => {
        const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const forged = [
          'not base64url!',
          Buffer.from('not json').toString('base64url'),
          encode(['pk']),
          encode({ pk: { N: '1' } }),
          encode({ pk: 'evt_1' }),
          encode({ pk: { S: 'evt_1' }, sk: { S: 'x' } }),
          encode({ id: { S: 'evt_1' } }),
          'A'.repeat(5000),
        ];
        for (const cursor of forged) {
          const attempt = store.list(2, cursor);
          await expect(attempt).rejects.toBeInstanceOf(InvalidCursorError);
          await expect(attempt).rejects.toMatchObject({ name: 'InvalidCursorError', code: 'invalid_cursor' });
        }
      });

      it('rejects a page size below one', async () => {
        await expect(store.list(0)).rejects.toBeInstanceOf(RangeError);
        await expect(store.list(1.5)).rejects.toBeInstanceOf(RangeError);
      });
    });
  });
}
