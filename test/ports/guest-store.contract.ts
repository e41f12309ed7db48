import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { versionOf } from '../../lambdas/domain/state';
import type { GuestStore } from '../../lambdas/state/ports';
import { BYTE_EARLIER, BYTE_LATER, T1, T2, T3 } from './reservation-store.contract';

const v = (occurredAt: string, idempotencyKey: string) => versionOf({ occurredAt, idempotencyKey });
const newGuest = () => `G-${randomUUID()}`;

/** What every GuestStore must do: collect a guest's reservations, and never link an erased guest from an older event. */
export function guestStoreContract(name: string, create: () => GuestStore): void {
  describe(`${name} keeps the GuestStore contract`, () => {
    it('collects each reservation once, and erasing hands every one of them back', async () => {
      const guests = create();
      const guestId = newGuest();
      expect(await guests.link('pms-demo', guestId, 'pms-demo:R-1', v(T1, 'a'))).toBe(true);
      expect(await guests.link('pms-demo', guestId, 'pms-demo:R-2', v(T2, 'b'))).toBe(true);
      // Links do not compete by version: an older event's link is added too.
      expect(await guests.link('pms-demo', guestId, 'pms-demo:R-3', v(T1, 'c'))).toBe(true);
      expect(await guests.link('pms-demo', guestId, 'pms-demo:R-1', v(T2, 'd'))).toBe(true);

      const linked = await guests.erase('pms-demo', guestId, v(T3, 'e'));
      expect([...linked].sort()).toEqual(['pms-demo:R-1', 'pms-demo:R-2', 'pms-demo:R-3']);
      expect(await guests.erase('pms-demo', guestId, v(T3, 'f'))).toEqual([]);
    });

    it('records a guest without a reservation, and erasing it returns no ids', async () => {
      const guests = create();
      const guestId = newGuest();
      expect(await guests.link('pms-demo', guestId, undefined, v(T1, 'c'))).toBe(true);
      expect(await guests.erase('pms-demo', guestId, v(T2, 'd'))).toEqual([]);
    });

    it('refuses a link from an event older than the erasure, or as old, and accepts one from a newer event', async () => {
      const guests = create();
      const guestId = newGuest();
      await guests.link('pms-demo', guestId, 'pms-demo:R-1', v(T1, 'a'));
      expect(await guests.erase('pms-demo', guestId, v(T2, 'x'))).toEqual(['pms-demo:R-1']);

      expect(await guests.link('pms-demo', guestId, 'pms-demo:R-2', v(T1, 'b'))).toBe(false);
      expect(await guests.link('pms-demo', guestId, 'pms-demo:R-2', v(T2, 'x'))).toBe(false);
      expect(await guests.link('pms-demo', guestId, undefined, v(T1, 'b'))).toBe(false);
      expect(await guests.link('pms-demo', guestId, 'pms-demo:R-3', v(T3, 'c'))).toBe(true);
      // Only what was linked after the erasure is there to erase again.
      expect(await guests.erase('pms-demo', guestId, v(T3, 'd'))).toEqual(['pms-demo:R-3']);
    });

    it('keeps the newest erasure when an older one arrives late, so links between the two stay refused', async () => {
      const guests = create();
      const guestId = newGuest();
      await guests.link('pms-demo', guestId, 'pms-demo:R-1', v(T1, 'a'));
      expect(await guests.erase('pms-demo', guestId, v(T3, 'newer'))).toEqual(['pms-demo:R-1']);
      // The older erasure still erases whatever is linked, but does not lower the tombstone.
      expect(await guests.erase('pms-demo', guestId, v(T1, 'older'))).toEqual([]);
      expect(await guests.link('pms-demo', guestId, 'pms-demo:R-2', v(T2, 'between'))).toBe(false);
    });

    it('keeps a tombstone for a guest erased before any link', async () => {
      const guests = create();
      const guestId = newGuest();
      expect(await guests.erase('pms-demo', guestId, v(T2, 'x'))).toEqual([]);
      expect(await guests.link('pms-demo', guestId, 'pms-demo:R-1', v(T1, 'a'))).toBe(false);
      expect(await guests.erase('pms-demo', guestId, v(T3, 'y'))).toEqual([]);
    });

    it('orders versions by their UTF-8 bytes, as DynamoDB compares strings', async () => {
      const guests = create();
      const guestId = newGuest();
      await guests.erase('pms-demo', guestId, v(T1, BYTE_LATER));
      expect(await guests.link('pms-demo', guestId, 'pms-demo:R-1', v(T1, BYTE_EARLIER))).toBe(false);

      const other = newGuest();
      await guests.erase('pms-demo', other, v(T1, BYTE_EARLIER));
      expect(await guests.link('pms-demo', other, 'pms-demo:R-1', v(T1, BYTE_LATER))).toBe(true);
    });

    it('keeps guests of different sources apart', async () => {
      const guests = create();
      const guestId = newGuest();
      await guests.link('pms-a', guestId, 'pms-a:R-1', 'v');
      await guests.link('pms-b', guestId, 'pms-b:R-9', 'v');

      expect(await guests.erase('pms-a', guestId, 'w')).toEqual(['pms-a:R-1']);
      expect(await guests.link('pms-b', guestId, 'pms-b:R-10', 'v')).toBe(true);
      expect([...(await guests.erase('pms-b', guestId, 'w'))].sort()).toEqual(['pms-b:R-10', 'pms-b:R-9']);
    });
  });
}
