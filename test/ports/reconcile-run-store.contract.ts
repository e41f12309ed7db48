import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type DriftFigures,
  type ItemOutcome,
  NO_DRIFT,
  type ReconcileRunStore,
  type RunPlan,
  type WorkItem,
} from '../../lambdas/state/reconcile-runs';

const CLAIMED = '2026-06-01T12:00:00.000Z';
const LEASE = '2026-06-01T12:15:00.000Z';
const AFTER_LEASE = '2026-06-01T12:20:00.000Z';

/** A run of its own id and source ids, so that tests sharing a table never see each other's runs. */
export function planOf(startedAt = CLAIMED): RunPlan & { items: WorkItem[]; source: string; other: string } {
  const runId = `r-${randomUUID()}`;
  const source = `pms-${randomUUID().slice(0, 8)}`;
  const other = `ota-${randomUUID().slice(0, 8)}`;
  const items: WorkItem[] = [
    { kind: 'drift', runId, itemId: `drift/${source}/p1`, sourceId: source, propertyId: 'p1' },
    { kind: 'drift', runId, itemId: `drift/${source}/p2`, sourceId: source, propertyId: 'p2' },
    { kind: 'drift', runId, itemId: `drift/${other}`, sourceId: other },
    {
      kind: 'parity',
      runId,
      itemId: 'parity/h1/2026-06-01',
      propertyId: 'h1',
      window: { from: '2026-06-01', to: '2026-07-01' },
    },
  ];
  return {
    runId,
    startedAt,
    trigger: 'schedule',
    dryRun: false,
    thresholdPercent: 0.5,
    items,
    source,
    other,
  };
}

function figures(overrides: Partial<DriftFigures>): DriftFigures {
  return { ...NO_DRIFT, ...overrides };
}

function drift(compared: number, mismatched: number, propertyId: string): ItemOutcome {
  const stats = figures({ nightsPolled: compared / 2, compared, mismatched, silentMisses: mismatched });
  return {
    status: 'done',
    drift: {
      figures: stats,
      properties: [{ propertyId, compared, mismatched, silentMisses: mismatched, action: 'corrected' }],
    },
    result: JSON.stringify({ propertyId }),
    finishedAt: LEASE,
  };
}

/**
 * What every ReconcileRunStore must do: a run planned once; an item claimed by one delivery at a time, again only
 * after its lease ran out, never once finished; its figures added exactly once; the run complete once, when its
 * last item ends; runs listed newest first, overall and per source, a page at a time.
 */
export function reconcileRunStoreContract(name: string, create: () => ReconcileRunStore): void {
  describe(`${name} keeps the ReconcileRunStore contract`, () => {
    it('records a run once, with its items counted per source', async () => {
      const store = create();
      const plan = planOf();
      expect(await store.create(plan)).toBe(true);
      expect(await store.create({ ...plan, items: plan.items.slice(0, 1) })).toBe(false);
      const run = await store.get(plan.runId);
      expect(run).toMatchObject({
        runId: plan.runId,
        status: 'running',
        trigger: 'schedule',
        startedAt: plan.startedAt,
        dryRun: false,
        thresholdPercent: 0.5,
        planned: 4,
        done: 0,
        failed: 0,
        parity: { planned: 1, done: 0, failed: 0, nightsChecked: 0 },
        items: [],
      });
      expect(run?.sources.map((source) => [source.sourceId, source.planned]).sort()).toEqual(
        [
          [plan.source, 2],
          [plan.other, 1],
        ].sort(),
      );
      expect(await store.get(`r-${randomUUID()}`)).toBeUndefined();
    });

    it('lets the delivery that holds an item give it up under its own lease, and no other', async () => {
      const store = create();
      const plan = planOf();
      await store.create(plan);
      const [item] = plan.items as [WorkItem];
      await store.claim(item, 'a1', CLAIMED, LEASE);
      const failed = {
        status: 'failed',
        error: 'internal_error',
        message: 'gone',
        finishedAt: CLAIMED,
      } as const;
      expect(await store.abandon(item, failed, 'a2')).toBe(false);
      expect(await store.abandon(item, failed)).toBe(false);
      expect(await store.abandon(item, failed, 'a1')).toBe(true);
      expect(await store.abandon(item, failed, 'a1')).toBe(false);
      expect(await store.get(plan.runId)).toMatchObject({ done: 0, failed: 1 });
    });

    it('lets one delivery hold an item until its lease runs out, and none once it finished', async () => {
      const store = create();
      const plan = planOf();
      await store.create(plan);
      const [item] = plan.items as [WorkItem];
      expect(await store.claim(item, 'a1', CLAIMED, LEASE)).toEqual({ claimed: true });
      expect(await store.claim(item, 'a2', CLAIMED, LEASE)).toEqual({ claimed: false, reason: 'leased' });
      expect(await store.claim(item, 'a2', AFTER_LEASE, '2026-06-01T12:35:00.000Z')).toEqual({
        claimed: true,
      });
      // The first delivery lost its claim: its end adds nothing.
      expect(await store.finish(item, 'a1', drift(10, 1, 'h1'))).toBe(false);
      expect(await store.finish(item, 'a2', drift(10, 1, 'h1'))).toBe(true);
      expect(await store.finish(item, 'a2', drift(10, 1, 'h1'))).toBe(false);
      expect(await store.claim(item, 'a3', '2026-06-02T00:00:00.000Z', '2026-06-02T00:15:00.000Z')).toEqual({
        claimed: false,
        reason: 'finished',
      });
      const run = await store.get(plan.runId);
      expect(run).toMatchObject({ done: 1, failed: 0 });
      expect(run?.sources.find((source) => source.sourceId === plan.source)).toMatchObject({
        planned: 2,
        done: 1,
        compared: 10,
        mismatched: 1,
        silentMisses: 1,
        nightsPolled: 5,
      });
      expect(run?.items).toEqual([
        expect.objectContaining({
          itemId: item.itemId,
          kind: 'drift',
          status: 'done',
          sourceId: plan.source,
          propertyId: 'p1',
          result: JSON.stringify({ propertyId: 'h1' }),
          properties: [expect.objectContaining({ propertyId: 'h1', compared: 10, mismatched: 1 })],
        }),
      ]);
    });

    it('completes the run once, when the last item ends, failed ones included', async () => {
      const store = create();
      const plan = planOf();
      await store.create(plan);
      const [first, second, third, parity] = plan.items as [WorkItem, WorkItem, WorkItem, WorkItem];
      await store.claim(first, 'a', CLAIMED, LEASE);
      await store.finish(first, 'a', drift(20, 2, 'h1'));
      await store.claim(second, 'a', CLAIMED, LEASE);
      await store.finish(second, 'a', {
        status: 'failed',
        error: 'circuit_open',
        message: 'open',
        finishedAt: LEASE,
      });
      await store.claim(parity, 'a', CLAIMED, LEASE);
      await store.finish(parity, 'a', {
        status: 'done',
        parity: { nightsChecked: 30, violations: 2, currencyMismatches: 1 },
        result: '{}',
        finishedAt: LEASE,
      });
      expect(await store.complete(plan.runId, LEASE)).toBe(false);
      // Never claimed: its message's receives ran out.
      const abandoned = {
        status: 'failed',
        error: 'receives_exhausted',
        message: 'gone',
        finishedAt: LEASE,
      } as const;
      await store.claim(third, 'a', CLAIMED, LEASE);
      // Its delivery still holds it: the item is not given up under it.
      expect(await store.abandon(third, abandoned)).toBe(false);
      expect(await store.abandon(third, abandoned, 'b')).toBe(false);
      expect(await store.abandon(third, { ...abandoned, finishedAt: AFTER_LEASE })).toBe(true);
      expect(await store.abandon(third, abandoned)).toBe(false);
      expect(await store.abandon(first, abandoned)).toBe(false);
      expect(await store.complete(plan.runId, AFTER_LEASE)).toBe(true);
      expect(await store.complete(plan.runId, AFTER_LEASE)).toBe(false);
      const run = await store.get(plan.runId);
      expect(run).toMatchObject({
        status: 'complete',
        completedAt: AFTER_LEASE,
        planned: 4,
        done: 2,
        failed: 2,
        parity: { planned: 1, done: 1, failed: 0, nightsChecked: 30, violations: 2, currencyMismatches: 1 },
      });
      const bySource = Object.fromEntries((run?.sources ?? []).map((source) => [source.sourceId, source]));
      expect(bySource[plan.source]).toMatchObject({
        planned: 2,
        done: 1,
        failed: 1,
        compared: 20,
        mismatched: 2,
      });
      expect(bySource[plan.other]).toMatchObject({ planned: 1, done: 0, failed: 1, compared: 0 });
      expect(run?.items.find((item) => item.itemId === third.itemId)).toMatchObject({
        status: 'failed',
        error: 'receives_exhausted',
      });
    });

    it('lists runs newest first, overall and per source, a page at a time within the time range', async () => {
      const store = create();
      const day = `2031-0${1 + Math.floor(Math.random() * 9)}-1${Math.floor(Math.random() * 9)}`;
      const plans = [0, 1, 2].map((hour) => planOf(`${day}T0${hour}:00:00.000Z`));
      for (const plan of plans) await store.create(plan);
      const [oldest, middle, newest] = plans as unknown as [RunPlan, RunPlan, RunPlan];
      const range = { from: `${day}T00:00:00.000Z`, to: `${day}T23:59:59.999Z` };
      const first = await store.list({ ...range, limit: 2 });
      expect(first.items.map((run) => run.runId)).toEqual([newest.runId, middle.runId]);
      expect(first.cursor).toBeDefined();
      const second = await store.list({ ...range, limit: 2, cursor: first.cursor as string });
      expect(second.items.map((run) => run.runId)).toEqual([oldest.runId]);
      expect(second.cursor).toBeUndefined();
      const later = await store.list({ from: `${day}T01:00:00.000Z`, to: `${day}T02:00:00.000Z`, limit: 10 });
      expect(later.items.map((run) => run.runId)).toEqual([middle.runId]);

      const bySource = await store.list({
        ...range,
        sourceId: middle.items[0]?.kind === 'drift' ? middle.items[0].sourceId : '',
        limit: 10,
      });
      expect(bySource.items).toEqual([
        expect.objectContaining({
          runId: middle.runId,
          status: 'running',
          planned: 2,
          sources: [expect.objectContaining({ planned: 2, done: 0 })],
        }),
      ]);
    });

    it('refuses a cursor from another listing', async () => {
      const store = create();
      const plans = [0, 1].map((hour) => planOf(`2032-01-01T0${hour}:00:00.000Z`));
      for (const plan of plans) await store.create(plan);
      const range = { from: '2032-01-01T00:00:00.000Z', to: '2032-01-02T00:00:00.000Z' };
      const first = await store.list({ ...range, limit: 1 });
      await expect(
        store.list({ ...range, limit: 1, sourceId: 'elsewhere', cursor: first.cursor as string }),
      ).rejects.toMatchObject({ code: 'invalid_cursor' });
    });

    it('holds the parity sweep back until every drift item ended, then until it is marked sent', async () => {
      const store = create();
      const plan = planOf();
      const sweep = { propertyIds: ['h1', 'h2'], from: '2026-06-01', horizonDays: 31 };
      await store.create({ ...plan, parity: sweep });
      const drift = plan.items.filter((item) => item.kind === 'drift');
      expect(await store.parityDue(plan.runId)).toBeUndefined();
      for (const [index, item] of drift.entries()) {
        await store.claim(item, 'a', CLAIMED, LEASE);
        await store.finish(item, 'a', { status: 'failed', error: 'x', message: 'x', finishedAt: LEASE });
        expect(await store.parityDue(plan.runId)).toEqual(index === drift.length - 1 ? sweep : undefined);
      }
      await store.markParitySent(plan.runId, LEASE);
      expect(await store.parityDue(plan.runId)).toBeUndefined();
      const noParity = planOf();
      await store.create({
        ...noParity,
        items: noParity.items.filter((item) => item.kind === 'drift').slice(0, 1),
      });
      const [only] = noParity.items as [WorkItem];
      await store.claim(only, 'a', CLAIMED, LEASE);
      await store.finish(only, 'a', { status: 'failed', error: 'x', message: 'x', finishedAt: LEASE });
      expect(await store.parityDue(noParity.runId)).toBeUndefined();
    });

    it('hands the parity sweep to one planner per period', async () => {
      const store = create();
      const at = '2040-01-02T00:00:00.000Z';
      await store.takeParitySweep(at, '2040-01-01T00:00:00.000Z');
      expect(await store.takeParitySweep('2040-01-02T01:00:00.000Z', '2040-01-01T01:00:00.000Z')).toBe(false);
      expect(await store.takeParitySweep('2040-01-03T00:00:00.000Z', at)).toBe(true);
    });
  });
}
