import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { createReadApiHandler } from '../../lambdas/read/http';
import type { ReadApiDependencies } from '../../lambdas/read/read';
import { NO_DRIFT, type WorkItem } from '../../lambdas/state/reconcile-runs';
import { MappingResolver } from '../../lambdas/state/resolver';
import {
  InMemoryAriStore,
  InMemoryMappingStore,
  InMemoryReservationStore,
  InMemoryReviewStore,
} from '../fakes/apply-memory';
import { ManualClock } from '../fakes/clock';
import { InMemoryHoldStore } from '../fakes/controls-memory';
import { InMemoryDeadLetterQueue } from '../fakes/dead-letters-memory';
import { InMemoryLedger } from '../fakes/in-memory';
import { InMemoryParityStore } from '../fakes/reconcile-memory';
import { InMemoryReconcileRunStore } from '../fakes/reconcile-runs-memory';
import { InMemoryRejectionLog } from '../fakes/rejections';

const NOW = Date.parse('2026-06-08T12:00:00.000Z');

let clock: ManualClock;
let runs: InMemoryReconcileRunStore;
let handler: ReturnType<typeof createReadApiHandler>;

beforeEach(() => {
  clock = new ManualClock(NOW);
  runs = new InMemoryReconcileRunStore();
  const deps: ReadApiDependencies = {
    ari: new InMemoryAriStore(),
    reservations: new InMemoryReservationStore(),
    deliveries: { get: async () => undefined, getWithEvent: async () => undefined },
    deliveryLog: new InMemoryLedger(),
    dedupeWindowSeconds: 30 * 86_400,
    review: new InMemoryReviewStore(),
    parity: new InMemoryParityStore(),
    rejections: new InMemoryRejectionLog(),
    mappings: new MappingResolver(new InMemoryMappingStore(), [], clock),
    requeue: async () => undefined,
    clock,
    sourceIds: new Set(['cm-demo', 'pms-demo']),
    sources: [
      { id: 'cm-demo', kind: 'channel-manager' },
      { id: 'pms-demo', kind: 'pms' },
    ],
    holds: new InMemoryHoldStore(),
    runs,
    deadLetters: {
      events: new InMemoryDeadLetterQueue(clock),
      reconcile: new InMemoryDeadLetterQueue(clock),
      parity: new InMemoryDeadLetterQueue(clock),
    },
  };
  handler = createReadApiHandler(deps, new Logger({ serviceName: 'read-test', logLevel: 'SILENT' }));
});

async function get(
  path: string,
  query: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const result = await handler({
    httpMethod: 'GET',
    resource: '/{proxy+}',
    path,
    pathParameters: { proxy: path.slice(1) },
    queryStringParameters: Object.keys(query).length === 0 ? null : query,
    headers: {},
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', identity: { sourceIp: '127.0.0.1' } },
  } as unknown as APIGatewayProxyEvent);
  return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, unknown> };
}

/** A run of the channel manager's two properties and the PMS, started `daysAgo`, with its first item done. */
async function runOf(runId: string, daysAgo: number): Promise<WorkItem[]> {
  const items: WorkItem[] = [
    { kind: 'drift', runId, itemId: 'drift/cm-demo/H1', sourceId: 'cm-demo', propertyId: 'H1' },
    { kind: 'drift', runId, itemId: 'drift/cm-demo/H2', sourceId: 'cm-demo', propertyId: 'H2' },
    { kind: 'drift', runId, itemId: 'drift/pms-demo', sourceId: 'pms-demo' },
  ];
  await runs.create({
    runId,
    startedAt: new Date(NOW - daysAgo * 86_400_000).toISOString(),
    trigger: 'schedule',
    dryRun: false,
    thresholdPercent: 0.5,
    items,
  });
  const [first] = items as [WorkItem];
  await runs.claim(first, 'a', clock.now().toISOString(), '2099-01-01T00:00:00.000Z');
  await runs.finish(first, 'a', {
    status: 'done',
    drift: {
      figures: {
        ...NO_DRIFT,
        nightsPolled: 100,
        compared: 300,
        mismatched: 6,
        silentMisses: 5,
        correctedGroups: 5,
      },
      properties: [
        { propertyId: 'hotel-1', compared: 300, mismatched: 6, silentMisses: 5, action: 'corrected' },
      ],
    },
    result: '{}',
    finishedAt: clock.now().toISOString(),
  });
  return items;
}

describe('GET /reconciliation/runs', () => {
  it('lists the runs of the last seven days newest first, with each source’s drift, misses and corrections', async () => {
    await runOf('run-old', 9);
    await runOf('run-1', 2);
    await runOf('run-2', 1);
    const { status, json } = await get('/reconciliation/runs');
    expect(status).toBe(200);
    expect(json).toMatchObject({
      from: '2026-06-01T12:00:00.000Z',
      to: '2026-06-08T12:00:00.000Z',
      nextCursor: null,
    });
    const items = json.items as Record<string, unknown>[];
    expect(items.map((run) => run.runId)).toEqual(['run-2', 'run-1']);
    expect(items[0]).toMatchObject({
      status: 'running',
      trigger: 'schedule',
      dryRun: false,
      thresholdPercent: 0.5,
      completedAt: null,
      items: { planned: 3, done: 1, failed: 0 },
    });
  });

  it('lists one source’s runs with that source’s figures alone, a page at a time', async () => {
    await runOf('run-1', 2);
    await runOf('run-2', 1);
    const first = await get('/reconciliation/runs', { source: 'cm-demo', limit: '1' });
    expect(first.status).toBe(200);
    const [run] = first.json.items as Record<string, unknown>[];
    expect(run).toMatchObject({ runId: 'run-2', items: { planned: 2, done: 1, failed: 0 } });
    expect(run?.sources).toEqual([
      expect.objectContaining({
        sourceId: 'cm-demo',
        status: 'running',
        driftPercent: 2,
        silentMisses: 5,
        correctedGroups: 5,
        nightsPolled: 100,
      }),
    ]);
    const second = await get('/reconciliation/runs', {
      source: 'cm-demo',
      limit: '1',
      cursor: first.json.nextCursor as string,
    });
    expect((second.json.items as { runId: string }[]).map((r) => r.runId)).toEqual(['run-1']);
    expect(second.json.nextCursor).toBeNull();
  });

  it('refuses an unknown source, a reversed window and a limit out of range, naming each', async () => {
    const { status, json } = await get('/reconciliation/runs', { source: 'nope', limit: '0' });
    expect(status).toBe(400);
    expect((json.fields as { path: string }[]).map((field) => field.path).sort()).toEqual([
      'limit',
      'source',
    ]);
    const reversed = await get('/reconciliation/runs', {
      from: '2026-06-08T00:00:00.000Z',
      to: '2026-06-01T00:00:00.000Z',
    });
    expect(reversed.status).toBe(400);
    expect(reversed.json.fields).toEqual([{ path: 'to', message: expect.stringContaining('before from') }]);
  });
});

describe('GET /reconciliation/runs/{runId}', () => {
  it('answers the run with its sources, its drift per property and each work item', async () => {
    await runOf('run-1', 1);
    const { status, json } = await get('/reconciliation/runs/run-1');
    expect(status).toBe(200);
    expect(json).toMatchObject({ runId: 'run-1', items: { planned: 3, done: 1, failed: 0 } });
    expect((json.sources as { sourceId: string }[]).map((source) => source.sourceId)).toEqual([
      'cm-demo',
      'pms-demo',
    ]);
    expect(json.properties).toEqual([
      {
        sourceId: 'cm-demo',
        propertyId: 'hotel-1',
        compared: 300,
        mismatched: 6,
        silentMisses: 5,
        driftPercent: 2,
        actions: ['corrected'],
      },
    ]);
    expect(json.workItems).toEqual([
      {
        itemId: 'drift/cm-demo/H1',
        kind: 'drift',
        status: 'done',
        sourceId: 'cm-demo',
        propertyId: 'H1',
        claimedAt: '2026-06-08T12:00:00.000Z',
        finishedAt: '2026-06-08T12:00:00.000Z',
      },
    ]);
  });

  it('answers 404 run_not_found for a run it does not hold', async () => {
    const { status, json } = await get('/reconciliation/runs/missing');
    expect(status).toBe(404);
    expect(json.error).toBe('run_not_found');
  });
});
