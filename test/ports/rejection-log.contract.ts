import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Rejection, RejectionReader, RejectionRecorder } from '../../lambdas/ledger/rejections';
import { InvalidCursorError } from '../../lambdas/shared/cursor';

export type RejectionLog = RejectionRecorder & RejectionReader;

const DAY_MS = 86_400_000;
// Noon UTC tomorrow: DynamoDB Local really deletes items whose TTL has passed, so every expiry written here lies in
// the wall clock's future, and a few seconds either side stay within one UTC day.
export const NOON = (Math.floor(Date.now() / DAY_MS) + 1) * DAY_MS + DAY_MS / 2;
const iso = (ms: number) => new Date(ms).toISOString();
const dayOf = (ms: number) => iso(ms).slice(0, 10);

/** A signature refused at `ms` for `sourceId`, as the edge records it. */
export function rejectionAt(ms: number, sourceId: string, overrides: Partial<Rejection> = {}): Rejection {
  return {
    at: iso(ms),
    requestId: randomUUID(),
    sourceId,
    senderAddress: '203.0.113.7',
    status: 401,
    reason: 'invalid_signature',
    headerNames: ['content-type', 'x-ota-signature'],
    bodyBytes: 212,
    bodySha256: 'a'.repeat(64),
    expiresAt: Math.floor(ms / 1000) + 7 * 86_400,
    ...overrides,
  };
}

const newSource = () => `src-${randomUUID().slice(0, 8)}`;
const window = (from: number, to: number) => ({ from: iso(from), to: iso(to), limit: 100 });

/**
 * What every rejection log must do: keep at most the bound per bucket and second, count the rest per bucket and
 * day, and list what it kept newest first, by source or for all. `create` gives a log that may hold other tests'
 * records (each test uses source ids of its own); `createEmpty` one that holds nothing yet.
 */
export function rejectionLogContract(
  name: string,
  create: () => RejectionLog,
  createEmpty: () => Promise<RejectionLog>,
): void {
  describe(`${name} keeps the rejection log contract`, () => {
    it('records a rejection and lists it back with every field', async () => {
      const log = create();
      const source = newSource();
      const rejection = rejectionAt(NOON, source);
      const { senderAddress: _unknown, ...unknownSender } = rejectionAt(NOON + 1, source, {
        headerNames: [],
      });
      expect(await log.record(rejection, { bucket: source, perSecond: 10 })).toBe('recorded');
      expect(await log.record(unknownSender, { bucket: source, perSecond: 10 })).toBe('recorded');
      expect(await log.list({ sourceId: source, ...window(NOON, NOON + 1) })).toEqual({
        items: [unknownSender, rejection],
      });
    });

    it('records at most the bound per second, counts the rest per day, and records again the next second', async () => {
      const log = create();
      const source = newSource();
      const bound = { bucket: source, perSecond: 3 };
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, i) => log.record(rejectionAt(NOON + i * 100, source), bound)),
      );
      expect(outcomes.filter((o) => o === 'recorded')).toHaveLength(3);
      expect(outcomes.filter((o) => o === 'counted')).toHaveLength(5);
      expect((await log.list({ sourceId: source, ...window(NOON, NOON + 999) })).items).toHaveLength(3);
      expect(await log.unrecorded({ bucket: source, fromDay: dayOf(NOON), toDay: dayOf(NOON) })).toEqual([
        { bucket: source, day: dayOf(NOON), count: 5 },
      ]);

      expect(await log.record(rejectionAt(NOON + 1000, source), bound)).toBe('recorded');
      expect((await log.list({ sourceId: source, ...window(NOON, NOON + 1000) })).items).toHaveLength(4);
    });

    it('keeps one bound per bucket: source ids sharing a bucket share it, other buckets are unaffected', async () => {
      const log = create();
      const [a, b, shared] = [newSource(), newSource(), `(unconfigured)-${randomUUID()}`];
      expect(await log.record(rejectionAt(NOON, a), { bucket: a, perSecond: 1 })).toBe('recorded');
      expect(await log.record(rejectionAt(NOON + 1, a), { bucket: a, perSecond: 1 })).toBe('counted');
      expect(await log.record(rejectionAt(NOON + 2, b), { bucket: b, perSecond: 1 })).toBe('recorded');

      const made = [`bogus-${randomUUID()}`, `other-${randomUUID()}`];
      const [first, second] = made.map((id, i) =>
        rejectionAt(NOON + i, id, { status: 404, reason: 'unknown_source' }),
      );
      expect(await log.record(first as Rejection, { bucket: shared, perSecond: 1 })).toBe('recorded');
      expect(await log.record(second as Rejection, { bucket: shared, perSecond: 1 })).toBe('counted');
      // Listed under the id as given, counted under the bucket.
      expect((await log.list({ sourceId: made[0], ...window(NOON, NOON + 10) })).items).toEqual([first]);
      expect(await log.unrecorded({ bucket: shared, fromDay: dayOf(NOON), toDay: dayOf(NOON) })).toEqual([
        { bucket: shared, day: dayOf(NOON), count: 1 },
      ]);
      expect(await log.unrecorded({ bucket: b, fromDay: dayOf(NOON), toDay: dayOf(NOON) })).toEqual([]);
    });

    it('lists newest first within the inclusive window, and only the reason asked for', async () => {
      const log = create();
      const source = newSource();
      const bound = { bucket: source, perSecond: 10 };
      const times = [NOON - 1, NOON, NOON + 500, NOON + 1500, NOON + 1501];
      const [early, atFrom, middle, atTo, late] = times.map((ms, i) =>
        rejectionAt(ms, source, i === 2 ? { status: 415, reason: 'unsupported_media_type' } : {}),
      ) as [Rejection, Rejection, Rejection, Rejection, Rejection];
      for (const rejection of [late, early, middle, atTo, atFrom]) await log.record(rejection, bound);

      const query = { sourceId: source, ...window(NOON, NOON + 1500) };
      expect((await log.list(query)).items).toEqual([atTo, middle, atFrom]);
      expect((await log.list({ ...query, reason: 'unsupported_media_type' })).items).toEqual([middle]);
      expect((await log.list({ ...query, reason: 'unknown_source' })).items).toEqual([]);
      expect((await log.list({ ...query, from: iso(NOON + 2000), to: iso(NOON) })).items).toEqual([]);
      expect((await log.list({ ...query, sourceId: newSource() })).items).toEqual([]);
    });

    it('pages through with the cursor, each record once and no cursor after the last, with or without a filter', async () => {
      const log = create();
      const source = newSource();
      const bound = { bucket: source, perSecond: 10 };
      const recorded = Array.from({ length: 7 }, (_, i) =>
        rejectionAt(NOON + i, source, i % 2 === 0 ? {} : { status: 422, reason: 'schema_violation' }),
      );
      for (const rejection of recorded) await log.record(rejection, bound);
      const newestFirst = [...recorded].reverse();

      const query = { sourceId: source, ...window(NOON, NOON + 10), limit: 3 };
      const first = await log.list(query);
      expect(first.items).toEqual(newestFirst.slice(0, 3));
      const second = await log.list({ ...query, cursor: first.cursor });
      expect(second.items).toEqual(newestFirst.slice(3, 6));
      const last = await log.list({ ...query, cursor: second.cursor });
      expect(last).toEqual({ items: newestFirst.slice(6) });

      // A filtered page may come back short, but following the cursors yields each match once.
      const filtered: Rejection[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await log.list({ ...query, limit: 2, reason: 'schema_violation', cursor });
        filtered.push(...page.items);
        cursor = page.cursor;
        if (cursor === undefined) break;
      }
      expect(cursor).toBeUndefined();
      expect(filtered).toEqual(newestFirst.filter((r) => r.reason === 'schema_violation'));
    });

    it('refuses a cursor issued for another source or outside the window', async () => {
      const log = create();
      const source = newSource();
      for (let i = 0; i < 3; i++)
        await log.record(rejectionAt(NOON + i, source), { bucket: source, perSecond: 10 });
      const query = { sourceId: source, ...window(NOON, NOON + 10), limit: 1 };
      const { cursor } = await log.list(query);
      expect(cursor).toBeDefined();
      await expect(log.list({ ...query, sourceId: newSource(), cursor })).rejects.toThrow(InvalidCursorError);
      await expect(log.list({ ...query, from: iso(NOON + 5), cursor })).rejects.toThrow(/outside/);
      await expect(log.list({ ...query, sourceId: undefined, cursor })).rejects.toThrow(InvalidCursorError);
      await expect(log.list({ ...query, cursor: 'not a cursor' })).rejects.toThrow(InvalidCursorError);
    });

    it('lists every source newest first, and counts every bucket by day', async () => {
      const log = await createEmpty();
      const [a, b] = [newSource(), newSource()];
      const one = { perSecond: 1 };
      const olderA = rejectionAt(NOON, a);
      const newerB = rejectionAt(NOON + 10, b, { status: 403, reason: 'sender_not_allowed' });
      const nextDayA = rejectionAt(NOON + DAY_MS, a);
      await log.record(olderA, { ...one, bucket: a });
      await log.record(newerB, { ...one, bucket: b });
      await log.record(rejectionAt(NOON + 20, b), { ...one, bucket: b });
      await log.record(nextDayA, { ...one, bucket: a });
      await log.record(rejectionAt(NOON + DAY_MS + 1, a), { ...one, bucket: a });
      await log.record(rejectionAt(NOON + DAY_MS + 2, a), { ...one, bucket: a });

      const all = await log.list(window(NOON, NOON + DAY_MS));
      expect(all.items).toEqual([nextDayA, newerB, olderA]);
      const paged = await log.list({ ...window(NOON, NOON + DAY_MS), limit: 2 });
      expect(paged.items).toEqual([nextDayA, newerB]);
      expect(
        (await log.list({ ...window(NOON, NOON + DAY_MS), limit: 2, cursor: paged.cursor })).items,
      ).toEqual([olderA]);
      expect(
        (await log.list({ ...window(NOON, NOON + DAY_MS), reason: 'sender_not_allowed' })).items,
      ).toEqual([newerB]);

      const [today, tomorrow] = [dayOf(NOON), dayOf(NOON + DAY_MS)];
      expect(await log.unrecorded({ fromDay: today, toDay: tomorrow })).toEqual([
        { bucket: b, day: today, count: 1 },
        { bucket: a, day: tomorrow, count: 2 },
      ]);
      expect(await log.unrecorded({ fromDay: tomorrow, toDay: tomorrow })).toEqual([
        { bucket: a, day: tomorrow, count: 2 },
      ]);
      expect(await log.unrecorded({ bucket: a, fromDay: today, toDay: today })).toEqual([]);
    });
  });
}
