import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_NOTE_LENGTH } from '../../lambdas/ledger/ports';
import {
  NO_COUNTS,
  type ReplayCursor,
  type ReplayJob,
  type ReplayJobStore,
  type ReplayStep,
} from '../../lambdas/ledger/replay-jobs';

const CREATED = '2026-06-01T12:00:00.000Z';
const LATER = '2026-06-01T12:05:00.000Z';

/** A running job of its own id, so that tests sharing a table never see each other's jobs. */
function jobOf(overrides: Partial<ReplayJob> = {}): ReplayJob {
  return {
    jobId: randomUUID(),
    status: 'running',
    request: {
      source: 'cm-demo',
      from: '2026-05-31T00:00:00.000Z',
      to: '2026-06-01T00:00:00.000Z',
      statuses: ['rejected', 'applied'],
    },
    counts: NO_COUNTS,
    cursor: { status: 0 },
    createdAt: CREATED,
    updatedAt: CREATED,
    ...overrides,
  };
}

function stepOf(from: ReplayCursor, to: ReplayCursor, overrides: Partial<ReplayStep> = {}): ReplayStep {
  return {
    from,
    to,
    done: false,
    add: { matched: 100, replayed: 98, notRetained: 2 },
    at: LATER,
    ...overrides,
  };
}

/**
 * What every ReplayJobStore must do: a job read back exactly; a page recorded once, only from the cursor it was
 * read at and only while the job runs; cancel and fail end a running job and nothing else.
 */
export function replayJobStoreContract(name: string, create: () => ReplayJobStore): void {
  describe(`${name} keeps the ReplayJobStore contract`, () => {
    it('knows no job it never stored, and cancels none', async () => {
      const store = create();
      expect(await store.get(randomUUID())).toBeUndefined();
      expect(await store.cancel(randomUUID(), LATER)).toBeUndefined();
    });

    it('reads a stored job back exactly', async () => {
      const store = create();
      const job = jobOf();
      await store.create(job);
      expect(await store.get(job.jobId)).toEqual(job);
    });

    it('refuses a job id that is already stored, keeping the first job', async () => {
      const store = create();
      const job = jobOf();
      await store.create(job);
      await expect(store.create({ ...job, request: { ...job.request, source: 'other' } })).rejects.toThrow();
      expect(await store.get(job.jobId)).toEqual(job);
    });

    it('advances page by page, adding the counts and moving the cursor, and is done after the last', async () => {
      const store = create();
      const job = jobOf();
      await store.create(job);
      const second: ReplayCursor = { status: 0, page: 'page-2' };
      expect(await store.advance(job.jobId, stepOf({ status: 0 }, second))).toBe(true);
      expect(await store.get(job.jobId)).toEqual({
        ...job,
        cursor: second,
        counts: { matched: 100, replayed: 98, notRetained: 2 },
        updatedAt: LATER,
      });

      const end: ReplayCursor = { status: 2 };
      const last = stepOf(second, end, { done: true, add: { matched: 5, replayed: 5, notRetained: 0 } });
      expect(await store.advance(job.jobId, last)).toBe(true);
      expect(await store.get(job.jobId)).toMatchObject({
        status: 'done',
        cursor: end,
        counts: { matched: 105, replayed: 103, notRetained: 2 },
      });
    });

    it('records a page once: the same step again, or one from another cursor, is refused', async () => {
      const store = create();
      const job = jobOf();
      await store.create(job);
      const step = stepOf({ status: 0 }, { status: 1 });
      expect(await store.advance(job.jobId, step)).toBe(true);
      expect(await store.advance(job.jobId, step)).toBe(false);
      expect(await store.advance(job.jobId, stepOf({ status: 0, page: 'elsewhere' }, { status: 1 }))).toBe(
        false,
      );
      expect((await store.get(job.jobId))?.counts).toEqual({ matched: 100, replayed: 98, notRetained: 2 });
    });

    it('cancels a running job, which then records no page', async () => {
      const store = create();
      const job = jobOf();
      await store.create(job);
      expect(await store.cancel(job.jobId, LATER)).toEqual({ ...job, status: 'cancelled', updatedAt: LATER });
      expect(await store.advance(job.jobId, stepOf({ status: 0 }, { status: 1 }))).toBe(false);
      expect((await store.get(job.jobId))?.counts).toEqual(NO_COUNTS);
    });

    it('answers a job that already ended as it is when cancelled, and does not fail it', async () => {
      const store = create();
      const job = jobOf();
      await store.create(job);
      await store.advance(job.jobId, stepOf({ status: 0 }, { status: 2 }, { done: true }));
      const done = await store.get(job.jobId);
      expect(await store.cancel(job.jobId, '2026-06-01T13:00:00.000Z')).toEqual(done);
      await store.fail(job.jobId, 'too late', '2026-06-01T13:00:00.000Z');
      expect(await store.get(job.jobId)).toEqual(done);
    });

    it('fails a running job with why, keeping at most the length of a note', async () => {
      const store = create();
      const job = jobOf();
      await store.create(job);
      const why = `could not queue the next page: ${'x'.repeat(MAX_NOTE_LENGTH)}`;
      await store.fail(job.jobId, why, LATER);
      expect(await store.get(job.jobId)).toEqual({
        ...job,
        status: 'failed',
        error: why.slice(0, MAX_NOTE_LENGTH),
        updatedAt: LATER,
      });
      expect(await store.cancel(job.jobId, '2026-06-01T13:00:00.000Z')).toMatchObject({ status: 'failed' });
    });
  });
}
