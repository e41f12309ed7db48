import { describe, expect, it } from 'vitest';
import { type ApplyLedger, type LedgerReader, MAX_NOTE_LENGTH } from '../../lambdas/ledger/ports';

export interface ApplyLedgerSubject {
  readonly ledger: ApplyLedger;
  /** The same ledger as the read API sees it: what apply records must show there. */
  readonly reader: LedgerReader;
  /** An event the edge has left in this status, as the apply pipeline finds it; returns its id. */
  given(status: 'received' | 'enqueued' | 'recorded'): Promise<string>;
  /** The id of an event the ledger does not hold: never written, or removed by TTL after the dedupe window. */
  absent(): Promise<string>;
}

const at = (second: number) => new Date(Date.UTC(2026, 2, 1, 10, 0, second)).toISOString();

/**
 * What every ApplyLedger must do: record the apply pipeline's outcome once, from the statuses that allow it, and
 * keep why the latest attempt failed on the entry without changing its status.
 */
export function applyLedgerContract(name: string, create: () => ApplyLedgerSubject): void {
  describe(`${name} keeps the ApplyLedger contract`, () => {
    it('reports the status of an entry, and undefined for an event it does not hold', async () => {
      const { ledger, given, absent } = create();
      expect(await ledger.status(await given('enqueued'))).toBe('enqueued');
      expect(await ledger.status(await given('recorded'))).toBe('recorded');
      expect(await ledger.status(await absent())).toBeUndefined();
    });

    it('settles an enqueued event as applied exactly once', async () => {
      const { ledger, given } = create();
      const eventId = await given('enqueued');
      expect(await ledger.settle(eventId, 'applied', at(1))).toBe(true);
      expect(await ledger.settle(eventId, 'applied', at(2))).toBe(false);
      expect(await ledger.status(eventId)).toBe('applied');
    });

    it('parks an event, parks it again, and settles it as applied once its mapping arrives', async () => {
      const { ledger, given } = create();
      const eventId = await given('enqueued');
      expect(await ledger.settle(eventId, 'parked', at(1), 'unmapped: roomType DBL')).toBe(true);
      expect(await ledger.status(eventId)).toBe('parked');
      expect(await ledger.settle(eventId, 'parked', at(2), 'unmapped: ratePlan BAR')).toBe(true);
      expect(await ledger.settle(eventId, 'applied', at(3))).toBe(true);
      expect(await ledger.status(eventId)).toBe('applied');
      expect(await ledger.settle(eventId, 'parked', at(4), 'unmapped: property H')).toBe(false);
      expect(await ledger.status(eventId)).toBe('applied');
    });

    it('holds an event while its source is on hold, then settles it once released', async () => {
      const { ledger, reader, given } = create();
      const eventId = await given('enqueued');
      expect(await ledger.settle(eventId, 'held', at(1), 'held: source on hold')).toBe(true);
      expect(await ledger.status(eventId)).toBe('held');
      expect((await reader.get(eventId))?.reason).toBe('held: source on hold');
      expect(await ledger.settle(eventId, 'parked', at(2), 'unmapped: roomType DBL')).toBe(true);
      expect(await ledger.settle(eventId, 'held', at(3), 'held: source on hold')).toBe(true);
      expect(await ledger.settle(eventId, 'applied', at(4))).toBe(true);
      expect(await ledger.settle(eventId, 'held', at(5), 'held: source on hold')).toBe(false);
      expect(await ledger.status(eventId)).toBe('applied');
    });

    it('keeps a rejected event rejected, whatever a redelivery asks', async () => {
      const { ledger, given } = create();
      const eventId = await given('enqueued');
      expect(await ledger.settle(eventId, 'rejected', at(1), 'invalid_dates: departure before arrival')).toBe(
        true,
      );
      expect(await ledger.settle(eventId, 'applied', at(2))).toBe(false);
      expect(await ledger.settle(eventId, 'parked', at(3), 'x')).toBe(false);
      expect(await ledger.settle(eventId, 'rejected', at(4), 'y')).toBe(false);
      expect(await ledger.status(eventId)).toBe('rejected');
    });

    it('settles an event applied before the edge confirmed it', async () => {
      const { ledger, given } = create();
      const eventId = await given('received');
      expect(await ledger.settle(eventId, 'applied', at(1))).toBe(true);
      expect(await ledger.status(eventId)).toBe('applied');
    });

    it('does not settle an event the edge only recorded', async () => {
      const { ledger, given } = create();
      const eventId = await given('recorded');
      expect(await ledger.settle(eventId, 'applied', at(1))).toBe(false);
      expect(await ledger.settle(eventId, 'rejected', at(2), 'x')).toBe(false);
      expect(await ledger.status(eventId)).toBe('recorded');
    });

    it('does not recreate an event it no longer holds when settling it', async () => {
      const { ledger, absent } = create();
      const eventId = await absent();
      expect(await ledger.settle(eventId, 'applied', at(1))).toBe(false);
      expect(await ledger.settle(eventId, 'parked', at(2), 'unmapped')).toBe(false);
      expect(await ledger.status(eventId)).toBeUndefined();
    });

    it('lets exactly one of many concurrent settlements of the same event win', async () => {
      const { ledger, given } = create();
      const eventId = await given('enqueued');
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          ledger.settle(eventId, index % 2 === 0 ? 'applied' : 'rejected', at(index)),
        ),
      );
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await ledger.status(eventId)).toBe(outcomes.indexOf(true) % 2 === 0 ? 'applied' : 'rejected');
    });

    it('keeps why the latest attempt failed on the entry, where get finds it, leaving the status alone', async () => {
      const { ledger, reader, given } = create();
      const eventId = await given('enqueued');
      await ledger.note(eventId, 'receive 1 of 5 failed: Error: boom', at(1));
      expect(await reader.get(eventId)).toMatchObject({
        status: 'enqueued',
        lastError: 'receive 1 of 5 failed: Error: boom',
        lastErrorAt: at(1),
      });
      expect(await ledger.status(eventId)).toBe('enqueued');

      await ledger.note(eventId, 'dead-lettered after 5 receives: Error: boom', at(2));
      expect(await reader.get(eventId)).toMatchObject({
        status: 'enqueued',
        lastError: 'dead-lettered after 5 receives: Error: boom',
        lastErrorAt: at(2),
      });
      // A redrive can still apply the event, and the entry goes on saying what happened before.
      expect(await ledger.settle(eventId, 'applied', at(3))).toBe(true);
      expect(await reader.get(eventId)).toMatchObject({
        status: 'applied',
        lastError: 'dead-lettered after 5 receives: Error: boom',
        lastErrorAt: at(2),
      });
    });

    it('shows no failure note on an entry that has none', async () => {
      const { ledger, reader, given } = create();
      const eventId = await given('enqueued');
      expect(await ledger.settle(eventId, 'rejected', at(1), 'invalid_dates: departure before arrival')).toBe(
        true,
      );
      const entry = await reader.get(eventId);
      expect(entry).toMatchObject({ status: 'rejected', reason: 'invalid_dates: departure before arrival' });
      expect(entry).not.toHaveProperty('lastError');
      expect(entry).not.toHaveProperty('lastErrorAt');
    });

    it(`cuts a failure note to ${MAX_NOTE_LENGTH} characters`, async () => {
      const { ledger, reader, given } = create();
      const eventId = await given('received');
      await ledger.note(eventId, `ValidationException: ${'x'.repeat(2 * MAX_NOTE_LENGTH)}`, at(1));
      const lastError = (await reader.get(eventId))?.lastError;
      expect(lastError).toHaveLength(MAX_NOTE_LENGTH);
      expect(lastError).toMatch(/^ValidationException: x+$/);
      expect(await ledger.status(eventId)).toBe('received');
    });

    it('does not recreate an event it no longer holds when noting a failure', async () => {
      const { ledger, reader, absent } = create();
      const eventId = await absent();
      await ledger.note(eventId, 'receive 1 of 5 failed: Error: boom', at(1));
      expect(await reader.get(eventId)).toBeUndefined();
      expect(await ledger.status(eventId)).toBeUndefined();
    });
  });
}
