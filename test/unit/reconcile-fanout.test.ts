import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { WorkQueue } from '../../lambdas/queue/sqs-work-queue';
import {
  DEAD_LETTERED,
  endDeadLetteredItem,
  type ItemEndDependencies,
  PARITY_WINDOW_NIGHTS,
  type PlannerDependencies,
  planRun,
  RunInProgressError,
  runWorkItem,
  type WorkerDependencies,
  WorkItemInProgressError,
  type WorkMessage,
} from '../../lambdas/reconcile/fanout';
import type { FetchLike } from '../../lambdas/reconcile/polling-client';
import type { ReconcileRuntime } from '../../lambdas/reconcile/runtime';
import type { ReconcileReport } from '../../lambdas/reconcile/service';
import { createWorkDeadLetterConsumer } from '../../lambdas/reconcile/work-dead-letters';
import { createReconcileWorker } from '../../lambdas/reconcile/worker';
import type { Clock } from '../../lambdas/shared/clock';
import { RECONCILE_WORK_METRICS } from '../../lambdas/shared/metric-names';
import { MappingResolver } from '../../lambdas/state/resolver';
import { InMemoryAriStore, InMemoryMappingStore } from '../fakes/apply-memory';
import { offlineReconcileRuntime, reconcileStores } from '../fakes/reconcile-memory';
import { InMemoryReconcileRunStore } from '../fakes/reconcile-runs-memory';

const SIGNING_SECRET = 'FtoV6tMKA9FJVshCHsJ8TpLRBrngV5ORc7ahYvroId4=';
const START = Date.parse('2026-05-02T10:00:00.000Z');

function configWith(reconciliation: Record<string, unknown> = {}) {
  return parseConfig({
    version: 1,
    sources: [
      {
        id: 'ota-a',
        kind: 'ota',
        secrets: [{ value: SIGNING_SECRET }],
        polling: {
          baseUrl: 'https://ota-a.example.test/v1',
          token: { value: 'token' },
          rateLimit: { requestsPerSecond: 100, burst: 10 },
          maxAttempts: 1,
          propertyIds: ['H1', 'H2'],
        },
      },
      {
        id: 'ota-b',
        kind: 'ota',
        secrets: [{ value: SIGNING_SECRET }],
        polling: {
          baseUrl: 'https://ota-b.example.test/v1',
          token: { value: 'token' },
          rateLimit: { requestsPerSecond: 100, burst: 10 },
          maxAttempts: 1,
        },
      },
    ],
    mappings: [
      { scope: '*', properties: { H1: 'hotel-1' }, roomTypes: { DBL: 'dbl' }, ratePlans: { BAR: 'bar' } },
    ],
    reconciliation: { budgetSeconds: 60, parityHorizonDays: 40, ...reconciliation },
    parity: { properties: [{ propertyId: 'hotel-1', sourceOfTruth: 'ota-a' }] },
  });
}

/** ota-a answers one night per property asked for; ota-b refuses the token. */
const providerFetch: FetchLike = async (url) => {
  if (!url.startsWith('https://ota-a.')) {
    return { status: 401, headers: { get: () => null }, text: async () => '{"error":"unauthorized"}' };
  }
  const body = JSON.stringify({
    results: [
      {
        property_id: 'H1',
        room_type_code: 'DBL',
        rate_plan_code: 'BAR',
        date: '2026-05-03',
        currency: 'EUR',
        base_rate: '120.00',
        availability: 4,
        updated_at: '2026-05-02T09:00:00.000Z',
      },
    ],
    next_cursor: null,
  });
  return { status: 200, headers: { get: () => null }, text: async () => body };
};

/** `deployed` is the workers' configuration when a deploy changed it after the run was planned. */
function fanOut(
  reconciliation: Record<string, unknown> = {},
  deployed: Record<string, unknown> = reconciliation,
) {
  const config = configWith(reconciliation);
  const workerConfig = configWith(deployed);
  let now = START;
  const clock: Clock = { now: () => new Date(now) };
  const runs = new InMemoryReconcileRunStore();
  const queued: WorkMessage[] = [];
  const work: WorkQueue<WorkMessage> = {
    send: async (bodies) => {
      queued.push(...bodies);
    },
  };
  const real = offlineReconcileRuntime({
    config: workerConfig,
    fetch: providerFetch,
    clock,
    newRunId: () => 'unused',
  });
  const stores = reconcileStores({ ari: new InMemoryAriStore() });
  const runtime: ReconcileRuntime = (onProgress) => ({
    ...real(onProgress),
    resolver: new MappingResolver(new InMemoryMappingStore(), config.mappings, clock),
    ...stores,
  });
  const completed: ReconcileReport[] = [];
  const planner: PlannerDependencies = { config, runs, work, clock };
  const worker: WorkerDependencies = {
    runtime,
    runs,
    work,
    budgetMs: 30_000,
    leaseMs: 90_000,
    onComplete: (report) => {
      completed.push(report);
    },
  };
  /** What the work DLQ's consumer is given: the run log, the work queue, the clock and the run's completion. */
  const ending: ItemEndDependencies = { ...worker, clock };
  /** Runs every queued item, as workers would, until none is left. */
  const drain = async () => {
    while (queued.length > 0) await runWorkItem(queued.shift() as WorkMessage, worker);
  };
  return {
    config,
    runs,
    queued,
    completed,
    planner,
    worker,
    ending,
    drain,
    stores,
    advance: (ms: number) => {
      now += ms;
    },
    /** A worker takes the item and Lambda stops it before it can end it: the claim stays, under its lease. */
    stopWorkerOn: async (message: WorkMessage) => {
      const claimedAt = new Date(now);
      const leaseUntil = new Date(now + worker.leaseMs);
      expect(
        await runs.claim(
          message,
          `stopped-${message.itemId}`,
          claimedAt.toISOString(),
          leaseUntil.toISOString(),
        ),
      ).toEqual({ claimed: true });
    },
  };
}

describe('planning a run', () => {
  it('plans one drift item per scan and holds the parity windows back until the drift items ended', async () => {
    const fan = fanOut();
    const planned = await planRun({ trigger: 'manual' }, fan.planner);
    expect(planned).toMatchObject({
      outcome: 'planned',
      driftItems: 3,
      parityItems: Math.ceil(40 / PARITY_WINDOW_NIGHTS),
      scans: ['ota-a H1', 'ota-a H2', 'ota-b'],
      parityProperties: ['hotel-1'],
    });
    expect(fan.queued.map((message) => message.itemId)).toEqual([
      'drift/ota-a/H1',
      'drift/ota-a/H2',
      'drift/ota-b',
    ]);
    await fan.drain();
    expect(fan.completed).toHaveLength(1);
    const [report] = fan.completed as [ReconcileReport];
    // One parity result per property, over the whole horizon, as the serial run reported it.
    expect(report.parity).toEqual([
      expect.objectContaining({ propertyId: 'hotel-1', from: '2026-05-02', to: '2026-06-10' }),
    ]);
    expect(report.sources.map((source) => [source.sourceId, source.propertyId, source.outcome])).toEqual([
      ['ota-a', 'H1', 'reconciled'],
      ['ota-a', 'H2', 'reconciled'],
      ['ota-b', undefined, 'failed'],
    ]);
    expect(await fan.runs.get(planned.runId)).toMatchObject({
      status: 'complete',
      planned: 5,
      done: 4,
      failed: 1,
    });
  });

  it('sends the parity windows it planned, whatever the configuration deployed before they are due', async () => {
    const fan = fanOut({ parityHorizonDays: 40 }, { parityHorizonDays: 400 });
    const planned = await planRun({ trigger: 'manual' }, fan.planner);
    await fan.drain();
    expect(await fan.runs.get(planned.runId)).toMatchObject({
      status: 'complete',
      parity: { planned: 2, done: 2, failed: 0 },
    });
    expect(fan.completed[0]?.parity).toEqual([expect.objectContaining({ to: '2026-06-10' })]);
  });

  it('refuses a run asked for while the last one is in progress, and skips a scheduled one', async () => {
    const fan = fanOut();
    const first = await planRun({ trigger: 'manual', parity: false }, fan.planner);
    await expect(planRun({ trigger: 'manual' }, fan.planner)).rejects.toBeInstanceOf(RunInProgressError);
    expect(await planRun({ trigger: 'schedule', eventId: 'evt-2' }, fan.planner)).toEqual({
      outcome: 'skipped',
      reason: 'previous_run_in_progress',
      runId: first.runId,
    });
    // A day later the open run no longer holds the next one back.
    fan.advance(24 * 3_600_000 + 1);
    expect(await planRun({ trigger: 'schedule', eventId: 'evt-3' }, fan.planner)).toMatchObject({
      outcome: 'planned',
    });
  });

  it('plans the same run again for a scheduled event retried, sending its items once more', async () => {
    const fan = fanOut();
    const first = await planRun({ trigger: 'schedule', eventId: 'evt-1' }, fan.planner);
    const again = await planRun({ trigger: 'schedule', eventId: 'evt-1' }, fan.planner);
    expect(again).toEqual(first);
    expect(fan.queued).toHaveLength(2 * 3);
    await fan.drain();
    expect(fan.completed).toHaveLength(1);
    expect(await fan.runs.get(first.runId)).toMatchObject({ planned: 3 + 2, done: 4, failed: 1 });
  });

  it('sweeps parity on a schedule only when paritySweepHours passed since the last sweep', async () => {
    const fan = fanOut({ paritySweepHours: 24 });
    const sweeps = async (eventId: string) => {
      const planned = await planRun({ trigger: 'schedule', eventId }, fan.planner);
      await fan.drain();
      return planned.outcome === 'planned' ? planned.parityItems : -1;
    };
    expect(await sweeps('evt-1')).toBe(2);
    fan.advance(15 * 60_000);
    expect(await sweeps('evt-2')).toBe(0);
    fan.advance(24 * 3_600_000);
    expect(await sweeps('evt-3')).toBe(2);
  });
});

describe('a work item', () => {
  it('is done once: a redelivery of a finished item does no work and adds nothing', async () => {
    const fan = fanOut();
    const planned = await planRun({ trigger: 'manual', parity: false }, fan.planner);
    const [h1] = fan.queued as [WorkMessage];
    await fan.drain();
    const before = await fan.runs.get(planned.runId);
    const audited = fan.stores.audit.records.length;
    expect(await runWorkItem(h1, fan.worker)).toEqual({ outcome: 'skipped', reason: 'finished' });
    expect(await fan.runs.get(planned.runId)).toEqual(before);
    expect(fan.stores.audit.records).toHaveLength(audited);
    expect(fan.completed).toHaveLength(1);
  });

  it('is ended as failed by the worker on its message’s last receive, so that the run still completes', async () => {
    const fan = fanOut();
    await planRun({ trigger: 'manual', parity: false }, fan.planner);
    const [h1, h2, otaB] = fan.queued.splice(0) as [WorkMessage, WorkMessage, WorkMessage];
    await runWorkItem(otaB, fan.worker);
    // The run log refuses every claim: the item cannot start, and its message comes back.
    const runs = fan.runs;
    const refusing: WorkerDependencies['runs'] = {
      create: (plan) => runs.create(plan),
      claim: async () => Promise.reject(new Error('run log unreachable')),
      finish: (item, attempt, outcome) => runs.finish(item, attempt, outcome),
      abandon: (item, outcome) => runs.abandon(item, outcome),
      parityDue: (runId) => runs.parityDue(runId),
      markParitySent: (runId, at) => runs.markParitySent(runId, at),
      complete: (runId, at) => runs.complete(runId, at),
      get: (runId) => runs.get(runId),
      list: (query) => runs.list(query),
      latest: () => runs.latest(),
      takeParitySweep: (at, dueBy) => runs.takeParitySweep(at, dueBy),
    };
    const warnings: unknown[] = [];
    const handler = createReconcileWorker(
      { ...fan.worker, runs: refusing, maxReceiveCount: 5 },
      { info: () => undefined, warn: (...args: unknown[]) => warnings.push(args), error: () => undefined },
    );
    const event = (receives: number) =>
      ({
        Records: [h1, h2].map((message, index) => ({
          messageId: `m-${index}`,
          body: JSON.stringify(message),
          attributes: { ApproximateReceiveCount: String(receives) },
        })),
      }) as unknown as Parameters<typeof handler>[0];

    expect(await handler(event(1))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }],
    });
    expect(fan.completed).toHaveLength(0);
    // The last receive: still refused (to the DLQ), but the items end as failed and the run completes.
    expect((await handler(event(5))).batchItemFailures).toHaveLength(2);
    expect(warnings).toHaveLength(4);
    expect(fan.completed).toHaveLength(1);
    const run = await fan.runs.get(h1.runId);
    expect(run).toMatchObject({ status: 'complete', done: 0, failed: 3 });
    expect(
      run?.items.filter((item) => item.error === 'receives_exhausted').map((item) => item.itemId),
    ).toEqual(['drift/ota-a/H1', 'drift/ota-a/H2']);
  });

  it('is ended as failed on its last receive when its work was done but could not be recorded, under its own lease', async () => {
    const fan = fanOut();
    await planRun({ trigger: 'manual', parity: false }, fan.planner);
    const [h1, h2, otaB] = fan.queued.splice(0) as [WorkMessage, WorkMessage, WorkMessage];
    await runWorkItem(otaB, fan.worker);
    await runWorkItem(h2, fan.worker);
    // Claims go through; every end is refused, so each delivery leaves the item claimed under a live lease.
    const runs = fan.runs;
    const unrecorded: WorkerDependencies['runs'] = {
      create: (plan) => runs.create(plan),
      claim: (item, attempt, at, until) => runs.claim(item, attempt, at, until),
      finish: async () => Promise.reject(new Error('transaction refused')),
      abandon: (item, outcome, attempt) => runs.abandon(item, outcome, attempt),
      parityDue: (runId) => runs.parityDue(runId),
      markParitySent: (runId, at) => runs.markParitySent(runId, at),
      complete: (runId, at) => runs.complete(runId, at),
      get: (runId) => runs.get(runId),
      list: (query) => runs.list(query),
      latest: () => runs.latest(),
      takeParitySweep: (at, dueBy) => runs.takeParitySweep(at, dueBy),
    };
    const handler = createReconcileWorker(
      { ...fan.worker, runs: unrecorded, maxReceiveCount: 2, leaseMs: 3_600_000 },
      { info: () => undefined, warn: () => undefined, error: () => undefined },
    );
    const event = (receives: number) =>
      ({
        Records: [
          {
            messageId: 'm-1',
            body: JSON.stringify(h1),
            attributes: { ApproximateReceiveCount: String(receives) },
          },
        ],
      }) as unknown as Parameters<typeof handler>[0];

    expect((await handler(event(1))).batchItemFailures).toHaveLength(1);
    expect(fan.completed).toHaveLength(0);
    // As in SQS, the message comes back once the first claim's lease ran out: the last receive claims the item
    // anew, fails to end it again, and gives it up under its own live lease.
    fan.advance(3_600_001);
    expect((await handler(event(2))).batchItemFailures).toHaveLength(1);
    const run = await fan.runs.get(h1.runId);
    expect(run).toMatchObject({ status: 'complete', done: 1, failed: 2 });
    expect(run?.items.find((item) => item.itemId === 'drift/ota-a/H1')).toMatchObject({
      status: 'failed',
      error: 'receives_exhausted',
    });
    expect(fan.completed).toHaveLength(1);
  });
});

describe('a dead-lettered work item', () => {
  /** A run of three drift items, no parity: H2 and ota-b run; H1's worker is stopped on every receive. */
  async function runWithStoppedItem(fan: ReturnType<typeof fanOut>) {
    const planned = await planRun({ trigger: 'manual', parity: false }, fan.planner);
    const [h1, h2, otaB] = fan.queued.splice(0) as [WorkMessage, WorkMessage, WorkMessage];
    await runWorkItem(h2, fan.worker);
    await runWorkItem(otaB, fan.worker);
    await fan.stopWorkerOn(h1);
    // Five receives, each hidden for six times the worker's timeout: the last claim's lease ran out long ago.
    fan.advance(5 * 6 * fan.worker.leaseMs);
    return { runId: planned.runId, h1 };
  }

  it('ends as failed in its open run, counted once, and completes the run when it was the last', async () => {
    const fan = fanOut();
    const { runId, h1 } = await runWithStoppedItem(fan);
    expect(await fan.runs.get(runId)).toMatchObject({ status: 'running', done: 1, failed: 1 });
    expect(fan.completed).toHaveLength(0);

    expect(await endDeadLetteredItem(h1, fan.ending)).toEqual({ outcome: 'abandoned', completedRun: true });
    const run = await fan.runs.get(runId);
    expect(run).toMatchObject({ status: 'complete', planned: 3, done: 1, failed: 2 });
    expect(run?.sources).toEqual([
      expect.objectContaining({ sourceId: 'ota-a', planned: 2, done: 1, failed: 1 }),
      expect.objectContaining({ sourceId: 'ota-b', planned: 1, done: 0, failed: 1 }),
    ]);
    expect(run?.items.find((item) => item.itemId === h1.itemId)).toMatchObject({
      status: 'failed',
      error: DEAD_LETTERED,
      message: expect.stringContaining('timeout or out of memory'),
    });
    // The run's report, once, with the item as a failed scan.
    expect(fan.completed).toHaveLength(1);
    expect(fan.completed[0]?.sources).toContainEqual(
      expect.objectContaining({
        sourceId: 'ota-a',
        propertyId: 'H1',
        outcome: 'failed',
        error: DEAD_LETTERED,
      }),
    );
    // The next run is planned at once rather than a day later.
    expect(await planRun({ trigger: 'manual', parity: false }, fan.planner)).toMatchObject({
      outcome: 'planned',
    });
  });

  it('changes nothing when its message is delivered a second time', async () => {
    const fan = fanOut();
    const { runId, h1 } = await runWithStoppedItem(fan);
    await endDeadLetteredItem(h1, fan.ending);
    const before = await fan.runs.get(runId);
    expect(await endDeadLetteredItem(h1, fan.ending)).toEqual({
      outcome: 'skipped',
      reason: 'finished',
      completedRun: false,
    });
    expect(await fan.runs.get(runId)).toEqual(before);
    expect(fan.completed).toHaveLength(1);
  });

  it('leaves an item its worker ended untouched', async () => {
    const fan = fanOut();
    const planned = await planRun({ trigger: 'manual', parity: false }, fan.planner);
    const [h1] = fan.queued as [WorkMessage];
    await fan.drain();
    const before = await fan.runs.get(planned.runId);
    expect(before?.items.find((item) => item.itemId === h1.itemId)?.status).toBe('done');
    fan.advance(3_600_000);
    expect(await endDeadLetteredItem(h1, fan.ending)).toMatchObject({
      outcome: 'skipped',
      reason: 'finished',
    });
    expect(await fan.runs.get(planned.runId)).toEqual(before);
    expect(fan.completed).toHaveLength(1);
  });

  it('completes the run its worker ended the item of but died before completing', async () => {
    const fan = fanOut();
    const planned = await planRun({ trigger: 'manual', parity: false }, fan.planner);
    const [h1, h2, otaB] = fan.queued.splice(0) as [WorkMessage, WorkMessage, WorkMessage];
    await runWorkItem(h2, fan.worker);
    await runWorkItem(otaB, fan.worker);
    // The last item ends, and its worker is stopped before it can complete the run.
    const stopped = { ...bound(fan.runs), complete: async () => Promise.reject(new Error('worker stopped')) };
    await expect(runWorkItem(h1, { ...fan.worker, runs: stopped })).rejects.toThrow('worker stopped');
    expect(await fan.runs.get(planned.runId)).toMatchObject({ status: 'running', done: 2, failed: 1 });
    expect(await endDeadLetteredItem(h1, fan.ending)).toEqual({
      outcome: 'skipped',
      reason: 'finished',
      completedRun: true,
    });
    expect(await fan.runs.get(planned.runId)).toMatchObject({ status: 'complete', done: 2, failed: 1 });
    expect(fan.completed).toHaveLength(1);
  });

  it('sends the run’s parity items when it was the last drift item, and the run completes with them', async () => {
    const fan = fanOut();
    const planned = await planRun({ trigger: 'manual' }, fan.planner);
    const [h1, h2, otaB] = fan.queued.splice(0) as [WorkMessage, WorkMessage, WorkMessage];
    await runWorkItem(h2, fan.worker);
    await runWorkItem(otaB, fan.worker);
    await fan.stopWorkerOn(h1);
    fan.advance(5 * 6 * fan.worker.leaseMs);
    expect(fan.queued).toEqual([]);

    expect(await endDeadLetteredItem(h1, fan.ending)).toEqual({ outcome: 'abandoned', completedRun: false });
    expect(fan.queued.map((message) => message.kind)).toEqual(['parity', 'parity']);
    await fan.drain();
    expect(await fan.runs.get(planned.runId)).toMatchObject({
      status: 'complete',
      done: 3,
      failed: 2,
      parity: { planned: 2, done: 2 },
    });
    expect(fan.completed).toHaveLength(1);
  });

  it('is left to a worker that still holds it under a live lease, and nothing is counted', async () => {
    const fan = fanOut();
    const planned = await planRun({ trigger: 'manual', parity: false }, fan.planner);
    const [h1] = fan.queued as [WorkMessage];
    await fan.stopWorkerOn(h1);
    const before = await fan.runs.get(planned.runId);
    await expect(endDeadLetteredItem(h1, fan.ending)).rejects.toBeInstanceOf(WorkItemInProgressError);
    expect(await fan.runs.get(planned.runId)).toEqual(before);
    // Once the lease ran out, the next delivery ends it.
    fan.advance(fan.worker.leaseMs + 1);
    expect(await endDeadLetteredItem(h1, fan.ending)).toMatchObject({ outcome: 'abandoned' });
  });

  it('writes nothing for a run the run log no longer holds', async () => {
    const fan = fanOut();
    const message: WorkMessage = {
      kind: 'drift',
      runId: 'expired-run',
      itemId: 'drift/ota-b',
      sourceId: 'ota-b',
      startedAt: new Date(START).toISOString(),
      dryRun: false,
    };
    expect(await endDeadLetteredItem(message, fan.ending)).toEqual({
      outcome: 'skipped',
      reason: 'run_not_found',
      completedRun: false,
    });
    expect(fan.runs.runs.size).toBe(0);
  });
});

describe('the work dead-letter consumer', () => {
  const sqsEvent = (messages: readonly unknown[]) =>
    ({
      Records: messages.map((message, index) => ({
        messageId: `m-${index}`,
        body: typeof message === 'string' ? message : JSON.stringify(message),
        attributes: { ApproximateReceiveCount: '6' },
      })),
    }) as unknown as Parameters<ReturnType<typeof createWorkDeadLetterConsumer>>[0];

  function consumer(fan: ReturnType<typeof fanOut>) {
    const logged: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const metrics: { name: string; unit: string; value: number }[] = [];
    const log =
      (level: string) =>
      (...[message, fields]: unknown[]) => {
        logged.push({ level, message: String(message), fields: (fields ?? {}) as Record<string, unknown> });
      };
    const handler = createWorkDeadLetterConsumer(
      fan.ending,
      { info: log('info'), warn: log('warn'), error: log('error') },
      {
        singleMetric: () => ({
          addDimension: () => undefined,
          addMetric: (name: string, unit: string, value: number) => metrics.push({ name, unit, value }),
        }),
      },
    );
    return { handler, logged, metrics };
  }

  it('ends each dead-lettered item, counts it, and logs its run, item and source', async () => {
    const fan = fanOut();
    const planned = await planRun({ trigger: 'manual', parity: false }, fan.planner);
    const [h1, h2, otaB] = fan.queued.splice(0) as [WorkMessage, WorkMessage, WorkMessage];
    await runWorkItem(otaB, fan.worker);
    await fan.stopWorkerOn(h1);
    await fan.stopWorkerOn(h2);
    fan.advance(5 * 6 * fan.worker.leaseMs);
    const { handler, logged, metrics } = consumer(fan);

    expect(await handler(sqsEvent([h1, h2, 'not json']))).toEqual({ batchItemFailures: [] });
    expect(await fan.runs.get(planned.runId)).toMatchObject({ status: 'complete', done: 0, failed: 3 });
    expect(fan.completed).toHaveLength(1);
    expect(metrics).toEqual([
      { name: RECONCILE_WORK_METRICS.deadLettered, unit: 'Count', value: 1 },
      { name: RECONCILE_WORK_METRICS.deadLettered, unit: 'Count', value: 1 },
    ]);
    // The batch's records are handled side by side: whichever ended second completed the run.
    const lines = logged.filter((line) => line.level === 'info').map((line) => line.fields);
    expect(lines.map(({ completedRun: _completedRun, ...ids }) => ids)).toEqual(
      expect.arrayContaining(
        ['H1', 'H2'].map((propertyId) => ({
          runId: planned.runId,
          itemId: `drift/ota-a/${propertyId}`,
          kind: 'drift',
          sourceId: 'ota-a',
          propertyId,
          outcome: 'abandoned',
        })),
      ),
    );
    expect(lines.map((line) => line.completedRun).sort()).toEqual([false, true]);
    // A message nothing could read is dropped with an error: no retry makes it readable.
    expect(logged.filter((line) => line.level === 'error')).toEqual([
      {
        level: 'error',
        message: 'unreadable dead-lettered reconciliation work item message',
        fields: { messageId: 'm-2' },
      },
    ]);
  });

  it('reports a message whose item a worker still holds as failed alone, for SQS to deliver it again', async () => {
    const fan = fanOut();
    await planRun({ trigger: 'manual', parity: false }, fan.planner);
    const [h1, h2] = fan.queued.splice(0) as [WorkMessage, WorkMessage, WorkMessage];
    await fan.stopWorkerOn(h1);
    const { handler, logged, metrics } = consumer(fan);

    expect(await handler(sqsEvent([h1, h2]))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    // The held item is counted as not ended: a partial batch failure is no Lambda error for an alarm to see.
    expect(metrics.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: RECONCILE_WORK_METRICS.deadLetterNotEnded, unit: 'Count', value: 1 },
      { name: RECONCILE_WORK_METRICS.deadLettered, unit: 'Count', value: 1 },
    ]);
    expect(logged.filter((line) => line.level === 'warn')).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({ itemId: h1.itemId, error: expect.stringContaining('lease') }),
      }),
    ]);
  });
});

/** The store's methods, bound, so that a test can replace one of them. */
function bound(store: InMemoryReconcileRunStore): WorkerDependencies['runs'] {
  return {
    create: store.create.bind(store),
    claim: store.claim.bind(store),
    finish: store.finish.bind(store),
    abandon: store.abandon.bind(store),
    parityDue: store.parityDue.bind(store),
    markParitySent: store.markParitySent.bind(store),
    complete: store.complete.bind(store),
    get: store.get.bind(store),
    list: store.list.bind(store),
    latest: store.latest.bind(store),
    takeParitySweep: store.takeParitySweep.bind(store),
  };
}
