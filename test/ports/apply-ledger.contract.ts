import { describe, expect, it } from 'vitest';
import {
  type ApplyLedger,
  type LedgerReader,
  type LedgerRef,
  MAX_NOTE_LENGTH,
} from '../../lambdas/ledger/ports';

export interface ApplyLedgerSubject {
  readonly ledger: ApplyLedger;
  /** The same ledger as the read API sees it: what apply records must show there. */
  readonly reader: LedgerReader;
  /** An event the edge has left in this status, as the apply pipeline finds it. */
  given(status: 'received' | 'enqueued' | 'recorded'): Promise<LedgerRef>;
  /** An event the ledger does not hold: never written, or removed by TTL after the dedupe window. */
  absent(): Promise<LedgerRef>;
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
      expect(await ledger.status((await given('enqueued')).eventId)).toBe('enqueued');
      expect(await ledger.status((await given('recorded')).eventId)).toBe('recorded');
      expect(await ledger.status((await absent()).eventId)).toBeUndefined();
    });

    it('settles an enqueued event as applied exactly once', async () => {
      const { ledger, given } = create();
      const event = await given('enqueued');
      expect(await ledger.settle(event, 'applied', at(1))).toBe(true);
      expect(await ledger.settle(event, 'applied', at(2))).toBe(false);
      expect(await ledger.status(event.eventId)).toBe('applied');
    });

    it('parks an event, parks it again, and settles it as applied once its mapping arrives', async () => {
      const { ledger, given } = create();
      const event = await given('enqueued');
      expect(await ledger.settle(event, 'parked', at(1), 'unmapped: roomType DBL')).toBe(true);
      expect(await ledger.status(event.eventId)).toBe('parked');
      expect(await ledger.settle(event, 'parked', at(2), 'unmapped: ratePlan BAR')).toBe(true);
      expect(await ledger.settle(event, 'applied', at(3))).toBe(true);
      expect(await ledger.status(event.eventId)).toBe('applied');
      expect(await ledger.settle(event, 'parked', at(4), 'unmapped: property H')).toBe(false);
      expect(await ledger.status(event.eventId)).toBe('applied');
    });

    it('holds an event while its source is on hold, then settles it once released', async () => {
      const { ledger, reader, given } = create();
      const event = await given('enqueued');
      expect(await ledger.settle(event, 'held', at(1), 'held: source on hold')).toBe(true);
      expect(await ledger.status(event.eventId)).toBe('held');
      expect((await reader.get(event.eventId))?.reason).toBe('held: source on hold');
      expect(await ledger.settle(event, 'parked', at(2), 'unmapped: roomType DBL')).toBe(true);
      expect(await ledger.settle(event, 'held', at(3), 'held: source on hold')).toBe(true);
      expect(await ledger.settle(event, 'applied', at(4))).toBe(true);
      expect(await ledger.settle(event, 'held', at(5), 'held: source on hold')).toBe(false);
      expect(await ledger.status(event.eventId)).toBe('applied');
    });

    it('keeps a rejected event rejected, whatever a redelivery asks', async () => {
      const { ledger, given } = create();
      const event = await given('enqueued');
      expect(await ledger.settle(event, 'rejected', at(1), 'invalid_dates: departure before arrival')).toBe(
        true,
      );
      expect(await ledger.settle(event, 'applied', at(2))).toBe(false);
      expect(await ledger.settle(event, 'parked', at(3), 'x')).toBe(false);
      expect(await ledger.settle(event, 'rejected', at(4), 'y')).toBe(false);
      expect(await ledger.status(event.eventId)).toBe('rejected');
    });

    it('settles a replayed event again once per job: rejected, applied after a fix, and by a later job', async () => {
      const { ledger, given } = create();
      const event = await given('enqueued');
      expect(await ledger.settle(event, 'rejected', at(1), 'inventory_conflict: too many')).toBe(true);
      expect(await ledger.settle(event, 'applied', at(2), undefined, { replay: 'job-1' })).toBe(true);
      expect(await ledger.status(event.eventId)).toBe('applied');
      // The same job's message delivered twice by SQS: the second settles nothing.
      expect(await ledger.settle(event, 'applied', at(3), undefined, { replay: 'job-1' })).toBe(false);
      expect(await ledger.settle(event, 'applied', at(4), undefined, { replay: 'job-2' })).toBe(true);
      expect(await ledger.status(event.eventId)).toBe('applied');
      expect(await ledger.settle(event, 'applied', at(5))).toBe(false);
    });

    it('settles an event applied before the edge confirmed it', async () => {
      const { ledger, given } = create();
      const event = await given('received');
      expect(await ledger.settle(event, 'applied', at(1))).toBe(true);
      expect(await ledger.status(event.eventId)).toBe('applied');
    });

    it('does not settle an event the edge only recorded', async () => {
      const { ledger, given } = create();
      const event = await given('recorded');
      expect(await ledger.settle(event, 'applied', at(1))).toBe(false);
      expect(await ledger.settle(event, 'rejected', at(2), 'x')).toBe(false);
      expect(await ledger.status(event.eventId)).toBe('recorded');
    });

    it('does not recreate an event it no longer holds when settling it', async () => {
      const { ledger, absent } = create();
      const event = await absent();
      expect(await ledger.settle(event, 'applied', at(1))).toBe(false);
      expect(await ledger.settle(event, 'parked', at(2), 'unmapped')).toBe(false);
      expect(await ledger.status(event.eventId)).toBeUndefined();
    });

    it('lets exactly one of many concurrent settlements of the same event win', async () => {
      const { ledger, given } = create();
      const event = await given('enqueued');
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          ledger.settle(event, index % 2 === 0 ? 'applied' : 'rejected', at(index)),
        ),
      );
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await ledger.status(event.eventId)).toBe(
        outcomes.indexOf(true) % 2 === 0 ? 'applied' : 'rejected',
      );
    });

    it('keeps why the latest attempt failed on the entry, where get finds it, leaving the status alone', async () => {
      const { ledger, reader, given } = create();
      const event = await given('enqueued');
      await ledger.note(event.eventId, 'receive 1 of 5 failed: Error: boom', at(1));
      expect(await reader.get(event.eventId)).toMatchObject({
        status: 'enqueued',
        lastError: 'receive 1 of 5 failed: Error: boom',
        lastErrorAt: at(1),
      });
      expect(await ledger.status(event.eventId)).toBe('enqueued');

      await ledger.note(event.eventId, 'dead-lettered after 5 receives: Error: boom', at(2));
      expect(await reader.get(event.eventId)).toMatchObject({
        status: 'enqueued',
        lastError: 'dead-lettered after 5 receives: Error: boom',
        lastErrorAt: at(2),
      });
      // A redrive can still apply the event, and the entry goes on saying what happened before.
      expect(await ledger.settle(event, 'applied', at(3))).toBe(true);
      expect(await reader.get(event.eventId)).toMatchObject({
        status: 'applied',
        lastError: 'dead-lettered after 5 receives: Error: boom',
        lastErrorAt: at(2),
      });
    });

    it('shows no failure note on an entry that has none', async () => {
      const { ledger, reader, given } = create();
      const event = await given('enqueued');
      expect(await ledger.settle(event, 'rejected', at(1), 'invalid_dates: departure before arrival')).toBe(
        true,
      );
      const entry = await reader.get(event.eventId);
      expect(entry).toMatchObject({ status: 'rejected', reason: 'invalid_dates: departure before arrival' });
      expect(entry).not.toHaveProperty('lastError');
      expect(entry).not.toHaveProperty('lastErrorAt');
    });

    it(`cuts a failure note to ${MAX_NOTE_LENGTH} characters`, async () => {
      const { ledger, reader, given } = create();
      const event = await given('received');
      await ledger.note(event.eventId, `ValidationException: ${'x'.repeat(2 * MAX_NOTE_LENGTH)}`, at(1));
      const lastError = (await reader.get(event.eventId))?.lastError;
      expect(lastError).toHaveLength(MAX_NOTE_LENGTH);
      expect(lastError).toMatch(/^ValidationException: x+$/);
      expect(await ledger.status(event.eventId)).toBe('received');
    });

    it('does not recreate an event it no longer holds when noting a failure', async () => {
      const { ledger, reader, absent } = create();
      const event = await absent();
      await ledger.note(event.eventId, 'receive 1 of 5 failed: Error: boom', at(1));
      expect(await reader.get(event.eventId)).toBeUndefined();
      expect(await ledger.status(event.eventId)).toBeUndefined();
    });

    const lastFailure = 'dead-lettered after 5 receives: Error: boom';

    it('marks an enqueued event dead-lettered with why its last attempt failed, and a redrive still settles it', async () => {
      const { ledger, reader, given } = create();
      const event = await given('enqueued');
      expect(await ledger.deadLetter(event, lastFailure, at(1))).toBe(true);
      expect(await reader.get(event.eventId)).toMatchObject({
        status: 'dead-lettered',
        reason: lastFailure,
        lastError: lastFailure,
        lastErrorAt: at(1),
        updatedAt: at(1),
      });
      expect(await ledger.settle(event, 'applied', at(2))).toBe(true);
      expect(await reader.get(event.eventId)).toMatchObject({ status: 'applied', lastError: lastFailure });
      expect(await reader.get(event.eventId)).not.toHaveProperty('reason');
    });

    it('marks dead-lettered an event still received, parked or held', async () => {
      const { ledger, given } = create();
      const received = await given('received');
      expect(await ledger.deadLetter(received, lastFailure, at(1))).toBe(true);
      expect(await ledger.status(received.eventId)).toBe('dead-lettered');
      for (const waiting of ['parked', 'held'] as const) {
        const event = await given('enqueued');
        await ledger.settle(event, waiting, at(1), `${waiting}: waiting`);
        expect(await ledger.deadLetter(event, lastFailure, at(2))).toBe(true);
        expect(await ledger.status(event.eventId)).toBe('dead-lettered');
      }
    });

    it('never marks dead-lettered an event applied, rejected or only recorded, yet notes why the attempt failed', async () => {
      const { ledger, reader, given } = create();
      const recorded = await given('recorded');
      const applied = await given('enqueued');
      await ledger.settle(applied, 'applied', at(1));
      const rejected = await given('enqueued');
      await ledger.settle(rejected, 'rejected', at(1), 'invalid_dates: departure before arrival');
      for (const [event, status] of [
        [recorded, 'recorded'],
        [applied, 'applied'],
        [rejected, 'rejected'],
      ] as const) {
        expect(await ledger.deadLetter(event, lastFailure, at(2))).toBe(false);
        expect(await reader.get(event.eventId)).toMatchObject({ status, lastError: lastFailure });
      }
      expect((await reader.get(rejected.eventId))?.reason).toBe('invalid_dates: departure before arrival');
    });

    it('marks an event dead-lettered once, and again only after a redrive moved it on', async () => {
      const { ledger, given } = create();
      const event = await given('enqueued');
      expect(await ledger.deadLetter(event, lastFailure, at(1))).toBe(true);
      expect(await ledger.deadLetter(event, lastFailure, at(2))).toBe(false);
      expect(await ledger.settle(event, 'parked', at(3), 'unmapped: roomType DBL')).toBe(true);
      expect(await ledger.deadLetter(event, lastFailure, at(4))).toBe(true);
    });

    it(`cuts the dead-letter reason to ${MAX_NOTE_LENGTH} characters`, async () => {
      const { ledger, reader, given } = create();
      const event = await given('enqueued');
      await ledger.deadLetter(
        event,
        `dead-lettered after 5 receives: ${'x'.repeat(2 * MAX_NOTE_LENGTH)}`,
        at(1),
      );
      const entry = await reader.get(event.eventId);
      expect(entry?.reason).toHaveLength(MAX_NOTE_LENGTH);
      expect(entry?.lastError).toBe(entry?.reason);
    });

    it('does not recreate an event it no longer holds when marking it dead-lettered', async () => {
      const { ledger, reader, absent } = create();
      const event = await absent();
      expect(await ledger.deadLetter(event, lastFailure, at(1))).toBe(false);
      expect(await reader.get(event.eventId)).toBeUndefined();
    });
  });
}
