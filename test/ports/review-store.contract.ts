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
