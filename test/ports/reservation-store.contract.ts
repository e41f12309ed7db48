import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { versionOf } from '../../lambdas/domain/state';
import type { ReservationRecord, ReservationStore } from '../../lambdas/state/ports';

export const T1 = '2026-03-01T09:00:00.000Z';
export const T2 = '2026-03-01T10:00:00.000Z';
export const T3 = '2026-03-01T11:00:00.000Z';

/**
 * Idempotency keys that UTF-8 byte order (DynamoDB's, and compareVersions') and JavaScript's UTF-16 `<` put in
 * opposite orders: by bytes, BYTE_LATER is the newer.
 */
export const BYTE_EARLIER = '\uff61';
export const BYTE_LATER = '\u{1f600}';

export function reservation(
  id: string,
  status: ReservationRecord['status'],
  occurredAt: string,
  overrides: Partial<ReservationRecord> = {},
  idempotencyKey = `evt_${randomUUID()}`,
): ReservationRecord {
  return {
    id,
    sourceId: 'pms-demo',
    reservationExternalId: id.split(':')[1] ?? id,
    propertyId: 'prop-1',
    propertyExternalId: 'HOTEL-9',
    status,
    arrivalDate: '2026-04-01',
    departureDate: '2026-04-03',
    roomTypeExternalId: 'DBL',
    channel: 'booking.com',
    guestExternalId: 'G-1',
    total: { amountMinor: 25_900, currency: 'EUR' },
    version: versionOf({ occurredAt, idempotencyKey }),
    eventId: `evt_${randomUUID()}`,
    ...overrides,
  };
}

const newId = () => `pms-demo:R-${randomUUID()}`;

/** What every ReservationStore must do: last writer wins by version, except that a creation never undoes a cancellation. */
export function reservationStoreContract(name: string, create: () => ReservationStore): void {
  describe(`${name} keeps the ReservationStore contract`, () => {
    it('stores a new reservation and reads every field back', async () => {
      const store = create();
      const record = reservation(newId(), 'confirmed', T1, { roomNumber: '204' });
      expect(await store.apply(record)).toBe(true);
      expect(await store.get(record.id)).toEqual(record);
      expect(await store.get(newId())).toBeUndefined();
    });

    it('keeps the newest version whatever the order updates arrive in', async () => {
      const store = create();
      const id = newId();
      const older = reservation(id, 'modified', T1, { departureDate: '2026-04-04' });
      const newer = reservation(id, 'modified', T2, { departureDate: '2026-04-05' });

      expect(await store.apply(newer)).toBe(true);
      expect(await store.apply(older)).toBe(false);
      expect(await store.apply(newer)).toBe(false);
      expect(await store.get(id)).toEqual(newer);

      const newest = reservation(id, 'checked_in', T3, { roomNumber: '311' });
      expect(await store.apply(newest)).toBe(true);
      expect(await store.get(id)).toEqual(newest);
    });

    it('orders versions by their UTF-8 bytes, as DynamoDB compares strings', async () => {
      const store = create();
      const id = newId();
      const later = reservation(id, 'modified', T1, { roomNumber: 'later' }, BYTE_LATER);
      const earlier = reservation(id, 'modified', T1, { roomNumber: 'earlier' }, BYTE_EARLIER);
      expect(await store.apply(later)).toBe(true);
      expect(await store.apply(earlier)).toBe(false);
      expect(await store.get(id)).toEqual(later);

      const other = newId();
      expect(await store.apply({ ...earlier, id: other })).toBe(true);
      expect(await store.apply({ ...later, id: other })).toBe(true);
      expect((await store.get(other))?.roomNumber).toBe('later');
    });

    it('replaces the record whole: fields the newer event lacks are gone', async () => {
      const store = create();
      const id = newId();
      await store.apply(reservation(id, 'confirmed', T1, { roomNumber: '204' }));
      const {
        total: _total,
        roomNumber: _room,
        channel: _channel,
        ...bare
      } = reservation(id, 'modified', T2);
      expect(await store.apply(bare)).toBe(true);
      const stored = await store.get(id);
      expect(stored).toEqual(bare);
      expect(stored).not.toHaveProperty('roomNumber');
      expect(stored).not.toHaveProperty('total');
    });

    it('keeps a reservation cancelled when its creation arrives late with an older timestamp', async () => {
      const store = create();
      const id = newId();
      const cancellation = reservation(id, 'cancelled', T2);
      expect(await store.apply(cancellation)).toBe(true);
      expect(await store.apply(reservation(id, 'confirmed', T1))).toBe(false);
      expect(await store.get(id)).toEqual(cancellation);
    });

    it('keeps a reservation cancelled when its creation arrives late with a newer timestamp', async () => {
      const store = create();
      const id = newId();
      const cancellation = reservation(id, 'cancelled', T2);
      expect(await store.apply(cancellation)).toBe(true);
      expect(await store.apply(reservation(id, 'confirmed', T3))).toBe(false);
      expect(await store.get(id)).toEqual(cancellation);
    });

    it('lets a cancellation newer than the creation win', async () => {
      const store = create();
      const id = newId();
      await store.apply(reservation(id, 'confirmed', T1));
      const cancellation = reservation(id, 'cancelled', T2);
      expect(await store.apply(cancellation)).toBe(true);
      expect(await store.get(id)).toEqual(cancellation);
    });

    it('lets a newer non-creation change follow a cancellation, as last-writer-wins says', async () => {
      const store = create();
      const id = newId();
      await store.apply(reservation(id, 'cancelled', T1));
      const reinstated = reservation(id, 'modified', T2);
      expect(await store.apply(reinstated)).toBe(true);
      expect(await store.get(id)).toEqual(reinstated);
    });

    it('forgets the guest only on reservations that still name that guest, creating none', async () => {
      const store = create();
      const mine = reservation(newId(), 'confirmed', T1, { guestExternalId: 'G-erase' });
      const someoneElses = reservation(newId(), 'confirmed', T1, { guestExternalId: 'G-other' });
      const { guestExternalId: _none, ...anonymous } = reservation(newId(), 'confirmed', T1);
      const unknown = newId();
      await Promise.all([store.apply(mine), store.apply(someoneElses), store.apply(anonymous)]);

      await store.forgetGuest([mine.id, someoneElses.id, anonymous.id, unknown], 'G-erase');

      const { guestExternalId: _erased, ...withoutGuest } = mine;
      const forgotten = await store.get(mine.id);
      expect(forgotten).toEqual(withoutGuest);
      expect(forgotten).not.toHaveProperty('guestExternalId');
      expect(await store.get(someoneElses.id)).toEqual(someoneElses);
      expect(await store.get(anonymous.id)).toEqual(anonymous);
      expect(await store.get(unknown)).toBeUndefined();
      await store.forgetGuest([], 'G-erase');
    });

    it('keeps its version after forgetting the guest, so an older event still cannot overwrite it', async () => {
      const store = create();
      const id = newId();
      const current = reservation(id, 'modified', T2, { guestExternalId: 'G-erase' });
      await store.apply(current);
      await store.forgetGuest([id], 'G-erase');
      expect(await store.apply(reservation(id, 'modified', T1, { guestExternalId: 'G-erase' }))).toBe(false);
      expect(await store.get(id)).not.toHaveProperty('guestExternalId');
    });
  });
}
