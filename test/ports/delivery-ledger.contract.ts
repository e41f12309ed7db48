import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type DeliveryLedger, type LedgerEntry, MAX_RETAINED_EVENT_BYTES } from '../../lambdas/ledger/ports';

export const T0 = Date.parse('2026-03-01T10:00:00.000Z');
export const LEASE_MS = 10_000;
// DynamoDB Local really deletes items whose TTL has passed (within seconds), so the expiry must lie in the
// future of the wall clock, whatever the simulated clock of the test says.
const EXPIRES_AT = Math.floor(Date.now() / 1000) + 30 * 86_400;

/** A first delivery of a new event, as the edge builds it at `nowMs`. */
export function entryAt(nowMs: number, overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    eventId: `evt_${randomUUID()}`,
    sourceId: 'pms-demo',
    kind: 'pms',
    idempotencyKey: 'delivery-42',
    providerEventType: 'reservation.created',
    canonicalType: 'reservation.change',
    status: 'received',
    occurredAt: '2026-03-01T09:59:58.000Z',
    receivedAt: new Date(nowMs).toISOString(),
    updatedAt: new Date(nowMs).toISOString(),
    leaseUntil: nowMs + LEASE_MS,
    deliveryCount: 1,
    expiresAt: EXPIRES_AT,
    ...overrides,
  };
}

/** A later delivery of the same event, as the edge would build it at `nowMs`. */
export function redeliveryAt(first: LedgerEntry, nowMs: number): LedgerEntry {
  return {
    ...first,
    receivedAt: new Date(nowMs).toISOString(),
    updatedAt: new Date(nowMs).toISOString(),
    leaseUntil: nowMs + LEASE_MS,
  };
}

/** An event's JSON of exactly `bytes` bytes of UTF-8, padded with `fill` (topped up with `x`). */
export function eventJsonOf(eventId: string, bytes: number, fill = 'x'): string {
  const room = bytes - Buffer.byteLength(JSON.stringify({ eventId, data: { notes: '' } }));
  if (room < 0) throw new Error(`an event is longer than ${bytes} bytes`);
  const whole = Math.floor(room / Buffer.byteLength(fill));
  const notes = fill.repeat(whole) + 'x'.repeat(room - whole * Buffer.byteLength(fill));
  return JSON.stringify({ eventId, data: { notes } });
}

/**
 * What every DeliveryLedger must do: the edge's claim / confirm / release protocol. `retainedEvent` reads the
 * event JSON the ledger kept for replay, as stored.
 */
export function deliveryLedgerContract(
  name: string,
  create: () => DeliveryLedger,
  retainedEvent: (ledger: DeliveryLedger, eventId: string) => Promise<string | undefined>,
): void {
  describe(`${name} keeps the DeliveryLedger contract`, () => {
    it('claims a new event and stores every field of the entry', async () => {
      const ledger = create();
      const entry = entryAt(T0);
      expect(await ledger.claim(entry, T0)).toEqual({ outcome: 'claimed', entry });
      expect(await ledger.get(entry.eventId)).toEqual(entry);
      expect(await ledger.get(`evt_${randomUUID()}`)).toBeUndefined();
    });

    it('counts the claims itself, whatever delivery count the entry carries', async () => {
      const ledger = create();
      const entry = entryAt(T0, { deliveryCount: 7 });
      const outcome = await ledger.claim(entry, T0);
      expect(outcome.entry.deliveryCount).toBe(1);
      expect((await ledger.get(entry.eventId))?.deliveryCount).toBe(1);
    });

    it('answers in_progress with the stored entry while another claim holds an unexpired lease', async () => {
      const ledger = create();
      const first = entryAt(T0);
      await ledger.claim(first, T0);
      expect(await ledger.claim(redeliveryAt(first, T0 + 2_000), T0 + 2_000)).toEqual({
        outcome: 'in_progress',
        entry: first,
      });
      // The lease still holds at the very instant it ends.
      const atEnd = T0 + LEASE_MS;
      expect((await ledger.claim(redeliveryAt(first, atEnd), atEnd)).outcome).toBe('in_progress');
    });

    it('answers duplicate with the stored entry once the claim is confirmed, however late the retry', async () => {
      const ledger = create();
      const first = entryAt(T0);
      await ledger.claim(first, T0);
      const confirmedAt = new Date(T0 + 50).toISOString();
      await ledger.confirm(first, 'enqueued', confirmedAt, 'msg-1');

      const stored = await ledger.get(first.eventId);
      const { leaseUntil: _released, ...withoutLease } = first;
      expect(stored).toEqual({
        ...withoutLease,
        status: 'enqueued',
        updatedAt: confirmedAt,
        messageId: 'msg-1',
      });
      expect(stored).not.toHaveProperty('leaseUntil');

      const later = T0 + 3_600_000;
      expect(await ledger.claim(redeliveryAt(first, later), later)).toEqual({
        outcome: 'duplicate',
        entry: stored,
      });
    });

    it('records events that are not acted on without a message id', async () => {
      const ledger = create();
      const first = entryAt(T0, { canonicalType: undefined, providerEventType: 'ping' });
      await ledger.claim(first, T0);
      await ledger.confirm(first, 'recorded', new Date(T0 + 10).toISOString());
      const stored = await ledger.get(first.eventId);
      expect(stored?.status).toBe('recorded');
      expect(stored).not.toHaveProperty('messageId');
      expect(stored).not.toHaveProperty('canonicalType');
      expect((await ledger.claim(redeliveryAt(first, T0 + 20), T0 + 20)).outcome).toBe('duplicate');
    });

    it('lets a retry take over an expired lease, keeping the first receivedAt and counting the delivery', async () => {
      const ledger = create();
      const first = entryAt(T0);
      await ledger.claim(first, T0);
      const retryAt = T0 + LEASE_MS + 1;
      const retry = redeliveryAt(first, retryAt);

      const expected = { ...retry, receivedAt: first.receivedAt, deliveryCount: 2 };
      expect(await ledger.claim(retry, retryAt)).toEqual({ outcome: 'claimed', entry: expected });
      expect(await ledger.get(first.eventId)).toEqual(expected);

      const thirdAt = retryAt + LEASE_MS + 1;
      const third = await ledger.claim(redeliveryAt(first, thirdAt), thirdAt);
      expect(third).toMatchObject({
        outcome: 'claimed',
        entry: { receivedAt: first.receivedAt, deliveryCount: 3 },
      });
    });

    it('lets any claim take over a received entry that holds no lease', async () => {
      const ledger = create();
      const first = entryAt(T0, { leaseUntil: undefined });
      await ledger.claim(first, T0);
      expect(await ledger.get(first.eventId)).not.toHaveProperty('leaseUntil');
      const outcome = await ledger.claim(redeliveryAt(first, T0 + 1), T0 + 1);
      expect(outcome).toMatchObject({ outcome: 'claimed', entry: { deliveryCount: 2 } });
    });

    it('lets an immediate retry take over after the lease is released', async () => {
      const ledger = create();
      const first = entryAt(T0);
      await ledger.claim(first, T0);
      await ledger.release(first.eventId, first.leaseUntil ?? 0);
      expect((await ledger.get(first.eventId))?.leaseUntil).toBe(0);

      const outcome = await ledger.claim(redeliveryAt(first, T0 + 100), T0 + 100);
      expect(outcome.outcome).toBe('claimed');
      expect(outcome.entry.deliveryCount).toBe(2);
    });

    it('releases only the claim that set the lease, never a later delivery that took the event over', async () => {
      const ledger = create();
      const first = entryAt(T0);
      await ledger.claim(first, T0);
      const retryAt = T0 + LEASE_MS + 1;
      const retry = redeliveryAt(first, retryAt);
      expect((await ledger.claim(retry, retryAt)).outcome).toBe('claimed');

      // The first claimant's enqueue failed late; giving back its lease must not hand the retry's to a third.
      await ledger.release(first.eventId, first.leaseUntil ?? 0);
      expect((await ledger.get(first.eventId))?.leaseUntil).toBe(retry.leaseUntil);
      const third = redeliveryAt(first, retryAt + 100);
      expect((await ledger.claim(third, retryAt + 100)).outcome).toBe('in_progress');
    });

    it('does not release a confirmed entry', async () => {
      const ledger = create();
      const first = entryAt(T0);
      await ledger.claim(first, T0);
      await ledger.confirm(first, 'enqueued', new Date(T0 + 1).toISOString(), 'msg-1');
      await ledger.release(first.eventId, first.leaseUntil ?? 0);
      expect(await ledger.get(first.eventId)).not.toHaveProperty('leaseUntil');
      expect((await ledger.claim(redeliveryAt(first, T0 + 2), T0 + 2)).outcome).toBe('duplicate');
    });

    it('ignores a confirmation for an entry that is no longer received', async () => {
      const ledger = create();
      const first = entryAt(T0);
      await ledger.claim(first, T0);
      await ledger.confirm(first, 'enqueued', new Date(T0 + 1).toISOString(), 'msg-first');
      await ledger.confirm(first, 'recorded', new Date(T0 + 2).toISOString(), 'msg-second');
      expect(await ledger.get(first.eventId)).toMatchObject({
        status: 'enqueued',
        updatedAt: new Date(T0 + 1).toISOString(),
        messageId: 'msg-first',
      });
    });

    it('does not create entries when confirming or releasing an unknown event', async () => {
      const ledger = create();
      const eventId = `evt_${randomUUID()}`;
      await ledger.confirm({ eventId, sourceId: 'pms-demo' }, 'enqueued', new Date(T0).toISOString(), 'msg');
      await ledger.release(eventId, T0 + LEASE_MS);
      expect(await ledger.get(eventId)).toBeUndefined();
    });

    it('lets exactly one of many concurrent claims of the same event win', async () => {
      const ledger = create();
      const first = entryAt(T0);
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, index) => ledger.claim(redeliveryAt(first, T0 + index), T0 + index)),
      );
      expect(outcomes.filter((outcome) => outcome.outcome === 'claimed')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome.outcome === 'in_progress')).toHaveLength(9);
      expect((await ledger.get(first.eventId))?.deliveryCount).toBe(1);
    });

    it('keeps an enqueued event for replay, exactly as queued, up to the largest it retains', async () => {
      const ledger = create();
      for (const [bytes, fill] of [
        [600, 'x'],
        [MAX_RETAINED_EVENT_BYTES, 'x'],
        // Three bytes of UTF-8 per character: bytes, not characters, are counted.
        [MAX_RETAINED_EVENT_BYTES, '\u20ac'],
      ] as const) {
        const entry = entryAt(T0);
        const event = eventJsonOf(entry.eventId, bytes, fill);
        await ledger.claim(entry, T0);
        await ledger.confirm(entry, 'enqueued', new Date(T0 + 5).toISOString(), 'msg-1', event);
        expect(await ledger.get(entry.eventId)).toMatchObject({ status: 'enqueued', retained: true });
        expect(await retainedEvent(ledger, entry.eventId)).toBe(event);
        expect(await ledger.getWithEvent(entry.eventId)).toEqual({
          entry: await ledger.get(entry.eventId),
          event,
        });
      }
    });

    it('keeps no event larger than that, and says so', async () => {
      const ledger = create();
      for (const [bytes, fill] of [
        [MAX_RETAINED_EVENT_BYTES + 1, 'x'],
        [MAX_RETAINED_EVENT_BYTES + 1, '\u20ac'],
      ] as const) {
        const entry = entryAt(T0);
        await ledger.claim(entry, T0);
        const event = eventJsonOf(entry.eventId, bytes, fill);
        await ledger.confirm(entry, 'enqueued', new Date(T0 + 5).toISOString(), 'msg-1', event);
        expect(await ledger.get(entry.eventId)).toMatchObject({ status: 'enqueued', retained: false });
        expect(await retainedEvent(ledger, entry.eventId)).toBeUndefined();
        expect(await ledger.getWithEvent(entry.eventId)).toEqual({ entry: await ledger.get(entry.eventId) });
      }
    });

    it('keeps nothing for an event only recorded, nor from a confirmation that came too late', async () => {
      const ledger = create();
      const recorded = entryAt(T0);
      await ledger.claim(recorded, T0);
      await ledger.confirm(recorded, 'recorded', new Date(T0 + 5).toISOString());
      expect(await ledger.get(recorded.eventId)).not.toHaveProperty('retained');
      expect(await retainedEvent(ledger, recorded.eventId)).toBeUndefined();

      const late = entryAt(T0);
      await ledger.claim(late, T0);
      await ledger.confirm(late, 'recorded', new Date(T0 + 5).toISOString());
      await ledger.confirm(
        late,
        'enqueued',
        new Date(T0 + 6).toISOString(),
        'msg-1',
        eventJsonOf(late.eventId, 600),
      );
      expect(await ledger.get(late.eventId)).toMatchObject({ status: 'recorded' });
      expect(await retainedEvent(ledger, late.eventId)).toBeUndefined();
    });
  });
}
