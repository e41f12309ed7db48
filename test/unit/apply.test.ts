import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyEvent, constrainAvailability } from '../../lambdas/apply/apply';
import { parseConfig } from '../../lambdas/config/load';
import type { AriUpdate, CanonicalEvent, ReservationChange } from '../../lambdas/domain/canonical';
import { compareVersions, versionOf } from '../../lambdas/domain/state';
import { fixedClock } from '../../lambdas/shared/clock';
import { InMemoryAriStore } from '../fakes/apply-memory';
import { applyFakes } from '../fakes/apply-set';
import {
  ariUpdate,
  EVENT_RECEIVED_AT,
  guestChange,
  mappingChange,
  propertyChange,
  reservationChange,
  serviceNotice,
} from '../support/events';

const config = parseConfig({
  version: 1,
  sources: [
    {
      id: 'cm',
      kind: 'channel-manager',
      secrets: [{ value: '5Gn2F0JcrR4vzE/XZ57HXVzusOfEFg9uK+CZ1j3Rqlc=' }],
    },
    { id: 'pms', kind: 'pms', secrets: [{ value: 'JJ8S/EfTAurj9g2rCGi8rjheMIXBFKjg2CoQMaIaN5U=' }] },
  ],
  mappings: [
    {
      scope: 'cm',
      properties: { 'HOTEL-EXT': 'LIS' },
      roomTypes: { DBL: 'double', TWN: { propertyId: 'LIS', roomTypeId: 'twin' } },
      ratePlans: { BAR: 'bar' },
    },
  ],
  properties: [
    {
      propertyId: 'LIS',
      roomTypes: [{ roomTypeId: 'double', physicalRooms: 20 }],
      allotments: [{ channel: 'cm:booking', roomTypeId: 'double', rooms: 8 }],
      inventoryPolicy: { mode: 'cap', buffer: 0.95 },
    },
  ],
});

function harness() {
  return applyFakes({
    clock: fixedClock(EVENT_RECEIVED_AT),
    seeds: config.mappings,
    properties: config.properties,
  });
}

/** A rate update from source `cm` for its mapped hotel, double room and BAR rate. */
function ariEvent(data: Partial<AriUpdate>, occurredAt?: string): CanonicalEvent {
  return ariUpdate({ sourceId: 'cm', occurredAt, data: { propertyExternalId: 'HOTEL-EXT', ...data } });
}

function reservationEvent(data: Partial<ReservationChange>, occurredAt: string): CanonicalEvent {
  return reservationChange({ sourceId: 'pms', occurredAt, data });
}

describe('applyEvent: ARI', () => {
  it('expands the date range to room nights under internal ids and records the event as applied', async () => {
    const h = harness();
    const event = ariEvent({ rate: { amountMinor: 12990, currency: 'EUR' }, channelId: 'booking' });
    const outcome = await applyEvent(event, h.deps);
    expect(outcome).toMatchObject({ status: 'applied', detail: { roomNights: 3, written: { rate: 3 } } });
    const { items } = await h.ari.readNights({
      propertyId: 'LIS',
      from: '2026-07-01',
      to: '2026-07-31',
      limit: 10,
    });
    expect(items.map((n) => [n.key.date, n.key.roomTypeId, n.key.ratePlanId, n.key.channel])).toEqual([
      ['2026-07-01', 'double', 'bar', 'cm:booking'],
      ['2026-07-02', 'double', 'bar', 'cm:booking'],
      ['2026-07-03', 'double', 'bar', 'cm:booking'],
    ]);
    expect(items[0]?.rate?.value).toEqual({ amountMinor: 12990, currency: 'EUR' });
    expect(await h.ledger.status(event.eventId)).toBe('applied');
  });

  it('skips an event the ledger already shows as applied, changing nothing', async () => {
    const h = harness();
    const event = ariEvent({ availability: 3 });
    await applyEvent(event, h.deps);
    h.ari.failNextWrites = 100; // any write attempt would now throw
    expect(await applyEvent(event, h.deps)).toEqual({ status: 'skipped', reason: 'already applied' });
  });

  it('takes the property from the room type mapping when the event names none', async () => {
    const h = harness();
    await applyEvent(
      ariEvent({ propertyExternalId: undefined, roomTypeExternalId: 'TWN', availability: 2 }),
      h.deps,
    );
    const { items } = await h.ari.readNights({
      propertyId: 'LIS',
      from: '2026-07-01',
      to: '2026-07-03',
      limit: 10,
    });
    expect(items.every((n) => n.key.roomTypeId === 'twin')).toBe(true);
  });

  it('caps availability at floor(physical × buffer) and the channel allotment, recording why', async () => {
    const h = harness();
    await applyEvent(ariEvent({ availability: 30, channelId: 'booking' }), h.deps);
    await applyEvent(ariEvent({ availability: 30, dateFrom: '2026-08-01', dateTo: '2026-08-01' }), h.deps);
    const { items } = await h.ari.readNights({
      propertyId: 'LIS',
      from: '2026-07-01',
      to: '2026-08-31',
      limit: 10,
    });
    expect(items[0]?.availability?.value).toEqual({
      rooms: 8,
      requested: 30,
      cappedBy: 'allotment 8 for cm:booking: at most 8',
    });
    expect(items.at(-1)?.availability?.value).toEqual({
      rooms: 19,
      requested: 30,
      cappedBy: 'physical rooms 20 × buffer 0.95: at most 19',
    });
    expect(h.signals.filter((s) => s.kind === 'inventory_capped')).toHaveLength(2);
  });

  it('rejects an over-allocation under the reject policy, with the conflict in the ledger', async () => {
    const settings = { ...config.properties[0], inventoryPolicy: { mode: 'reject', buffer: 1 } } as never;
    expect(() => constrainAvailability(21, settings, 'double', 'cm', 'cm')).toThrow(
      /exceeds physical rooms 20/,
    );
    const h = harness();
    const outcome = await applyEvent(ariEvent({ availability: 21 }), {
      ...h.deps,
      properties: new Map([['LIS', settings]]),
    });
    expect(outcome).toMatchObject({ status: 'rejected', reason: 'inventory_conflict' });
    expect(h.ari.nights.size).toBe(0);
    expect([...h.ledger.entries.values()][0]?.reason).toMatch(
      /^inventory_conflict: requested availability 21/,
    );
  });

  it('parks an unmapped event with the reason, then applies it when the mapping arrives', async () => {
    const h = harness();
    const event = ariEvent({ ratePlanExternalId: 'NRF', rate: { amountMinor: 9900, currency: 'EUR' } });
    const parked = await applyEvent(event, h.deps);
    expect(parked).toEqual({
      status: 'parked',
      reason: 'no ratePlan mapping for external id "NRF"',
      waitingFor: 'ratePlan|NRF',
    });
    expect(await h.ledger.status(event.eventId)).toBe('parked');
    expect(h.review.parked.get(event.eventId)?.waitingFor).toBe('ratePlan|NRF');

    // A mapping event from the mapping service is the same path as an operator's PUT /mappings.
    await h.deps.mappings.put(
      { scope: 'cm', entity: 'ratePlan', externalId: 'NRF' },
      { internalId: 'nrf' },
      '',
      'test',
    );
    const { requeueParked } = await import('../../lambdas/state/parked');
    expect(await requeueParked(h.deps.review, h.deps.requeue, 'ratePlan|NRF')).toBe(1);
    expect(h.requeued.map((e) => e.eventId)).toEqual([event.eventId]);

    const applied = await applyEvent(event, h.deps);
    expect(applied.status).toBe('applied');
    expect(h.review.parked.size).toBe(0);
    expect(await h.ledger.status(event.eventId)).toBe('applied');
  });

  it('lets transient store errors propagate so SQS redelivers, leaving the ledger unsettled', async () => {
    const h = harness();
    h.ari.failNextWrites = 1;
    const event = ariEvent({ availability: 1 });
    await expect(applyEvent(event, h.deps)).rejects.toThrow(/ProvisionedThroughputExceeded/);
    expect(await h.ledger.status(event.eventId)).toBe('enqueued');
    expect((await applyEvent(event, h.deps)).status).toBe('applied');
  });

  it('converges to the in-order state for any delivery order with duplicates (model test)', async () => {
    const groups = fc.record(
      {
        rate: fc.integer({ min: 1, max: 50_000 }),
        availability: fc.integer({ min: 0, max: 8 }),
        minLos: fc.integer({ min: 1, max: 5 }),
      },
      { requiredKeys: [] },
    );
    const events = fc.array(fc.tuple(groups, fc.integer({ min: 0, max: 20 })), {
      minLength: 1,
      maxLength: 8,
    });
    await fc.assert(
      fc.asyncProperty(
        events,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        async (specs, picks, reverse) => {
          const canonical = specs.map(([g, minute]) =>
            ariEvent(
              {
                dateFrom: '2026-07-01',
                dateTo: '2026-07-02',
                // Each group named, so that an event may carry none: the builder adds a rate only when none is.
                rate: g.rate === undefined ? undefined : { amountMinor: g.rate, currency: 'EUR' },
                availability: g.availability,
                restrictions: g.minLos === undefined ? undefined : { minLengthOfStay: g.minLos },
              },
              `2026-06-01T10:${String(minute).padStart(2, '0')}:00.000Z`,
            ),
          );
          const order = reverse ? [...canonical].reverse() : canonical;
          const deliveries = [
            ...order,
            ...picks.map((p) => canonical[p % canonical.length] as CanonicalEvent),
          ];
          const h = harness();
          for (const event of deliveries) await applyEvent(event, h.deps);

          const oracle = new InMemoryAriStore();
          const sorted = [...canonical].sort((a, b) => compareVersions(versionOf(a), versionOf(b)));
          for (const event of sorted) {
            if (event.type !== 'ari.update') continue;
            for (const date of ['2026-07-01', '2026-07-02']) {
              const key = { propertyId: 'LIS', roomTypeId: 'double', ratePlanId: 'bar', channel: 'cm', date };
              const write = {
                ...(event.data.rate ? { rate: event.data.rate } : {}),
                ...(event.data.availability !== undefined
                  ? { availability: { rooms: event.data.availability } }
                  : {}),
                ...(event.data.restrictions ? { restrictions: event.data.restrictions } : {}),
              };
              await oracle.writeNight(key, write, versionOf(event), event.eventId);
            }
          }
          expect([...h.ari.nights.values()]).toEqual([...oracle.nights.values()]);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('applyEvent: reservations, guests, mappings, notices', () => {
  it('keeps one record per reservation with last-writer-wins, and a cancellation that arrives first stays', async () => {
    const h = harness();
    await applyEvent(reservationEvent({ status: 'cancelled' }, '2026-06-01T10:05:00.000Z'), h.deps);
    await applyEvent(
      reservationEvent({ status: 'confirmed', arrivalDate: '2026-07-01' }, '2026-06-01T10:00:00.000Z'),
      h.deps,
    );
    expect((await h.reservations.get('pms:R-1'))?.status).toBe('cancelled');
    await applyEvent(reservationEvent({ status: 'confirmed' }, '2026-06-01T11:00:00.000Z'), h.deps);
    expect((await h.reservations.get('pms:R-1'))?.status).toBe('cancelled');
    await applyEvent(reservationEvent({ status: 'checked_in' }, '2026-06-01T11:00:00.000Z'), h.deps);
    expect((await h.reservations.get('pms:R-1'))?.status).toBe('checked_in');
  });

  it('erases a guest: the guest record goes and no reservation keeps the reference', async () => {
    const h = harness();
    await applyEvent(reservationEvent({ guestExternalId: 'G-9' }, '2026-06-01T10:00:00.000Z'), h.deps);
    expect((await h.reservations.get('pms:R-1'))?.guestExternalId).toBe('G-9');
    const deleted = guestChange({
      sourceId: 'pms',
      occurredAt: '2026-06-01T12:00:00.000Z',
      data: { guestExternalId: 'G-9', change: 'deleted' },
    });
    expect(await applyEvent(deleted, h.deps)).toMatchObject({
      status: 'applied',
      detail: { reservationsUnlinked: 1 },
    });
    expect(h.guests.guests.size).toBe(0);
    expect((await h.reservations.get('pms:R-1'))?.guestExternalId).toBeUndefined();

    // A reservation event older than the erasure, arriving after it, must not bring the guest back.
    await applyEvent(
      reservationEvent({ reservationExternalId: 'R-2', guestExternalId: 'G-9' }, '2026-06-01T11:00:00.000Z'),
      h.deps,
    );
    expect((await h.reservations.get('pms:R-2'))?.guestExternalId).toBeUndefined();
    expect(h.guests.guests.size).toBe(0);
  });

  it('maps a partner hotel globally on mapping.error.resolved and releases events parked on it', async () => {
    const h = harness();
    const unmapped = ariEvent({ propertyExternalId: 'EXP-12345', availability: 1 });
    expect((await applyEvent(unmapped, h.deps)).status).toBe('parked');
    const resolved = mappingChange({
      sourceId: 'mapping',
      data: { change: 'error_resolved', partnerHotelId: 'EXP-12345', referenceHotelId: 'LIS' },
    });
    expect(await applyEvent(resolved, h.deps)).toMatchObject({ status: 'applied', detail: { released: 1 } });
    expect(await h.deps.mappings.resolve('cm', 'property', 'EXP-12345')).toEqual({ internalId: 'LIS' });
    expect(h.requeued.map((e) => e.eventId)).toEqual([unmapped.eventId]);
  });

  it('takes a released event off review before its ledger entry reads applied', async () => {
    const h = harness();
    const unmapped = ariEvent({ propertyExternalId: 'EXP-888', availability: 1 });
    expect((await applyEvent(unmapped, h.deps)).status).toBe('parked');
    await h.mappingStore.put(
      { scope: '*', entity: 'property', externalId: 'EXP-888' },
      { internalId: 'LIS' },
    );
    const order: string[] = [];
    const remove = h.review.remove.bind(h.review);
    const settle = h.ledger.settle.bind(h.ledger);
    h.review.remove = async (eventId) => {
      order.push('review removed');
      await remove(eventId);
    };
    h.ledger.settle = async (eventId, status, at, reason) => {
      order.push(`settled ${status}`);
      return settle(eventId, status, at, reason);
    };

    expect((await applyEvent(unmapped, h.deps)).status).toBe('applied');
    expect(order).toEqual(['review removed', 'settled applied']);
  });

  it('clears the review item of an event released after its ledger entry expired', async () => {
    const h = harness();
    const unmapped = ariEvent({ propertyExternalId: 'EXP-777', availability: 1 });
    expect((await applyEvent(unmapped, h.deps)).status).toBe('parked');
    expect(h.review.parked.has(unmapped.eventId)).toBe(true);
    // The event waited in review longer than the dedupe window: the ledger no longer knows it.
    h.ledger.expired.add(unmapped.eventId);
    await h.mappingStore.put(
      { scope: '*', entity: 'property', externalId: 'EXP-777' },
      { internalId: 'LIS' },
    );

    expect((await applyEvent(unmapped, h.deps)).status).toBe('applied');
    expect(h.review.parked.has(unmapped.eventId)).toBe(false);
  });

  it('points merged property ids at the surviving property', async () => {
    const h = harness();
    const merge = propertyChange({
      sourceId: 'cm',
      data: { change: 'merged', propertyExternalId: 'HOTEL-EXT', mergedExternalIds: ['OLD-1', 'OLD-2'] },
    });
    expect((await applyEvent(merge, h.deps)).status).toBe('applied');
    expect(await h.deps.mappings.resolve('cm', 'property', 'OLD-2')).toEqual({ internalId: 'LIS' });
  });

  it('signals token-expired and access-revoked notices for alarms', async () => {
    const h = harness();
    const notice = serviceNotice({ sourceId: 'pms', data: { notice: 'access_revoked' } });
    expect((await applyEvent(notice, h.deps)).status).toBe('applied');
    expect(h.signals).toContainEqual({ kind: 'service_notice', notice: 'access_revoked', sourceId: 'pms' });
  });
});
