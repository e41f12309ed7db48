import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { createReadApiHandler } from '../../lambdas/read/http';
import type { ReadApiDependencies } from '../../lambdas/read/read';
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
import { InMemoryRejectionLog } from '../fakes/rejections';
import { InMemoryReplayJobStore, InMemoryReplayWorkQueue } from '../fakes/replay-memory';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const DEDUPE_DAYS = 30;

let clock: ManualClock;
let jobs: InMemoryReplayJobStore;
let work: InMemoryReplayWorkQueue;
let handler: ReturnType<typeof createReadApiHandler>;

beforeEach(() => {
  clock = new ManualClock(NOW);
  jobs = new InMemoryReplayJobStore();
  work = new InMemoryReplayWorkQueue();
  const deps: ReadApiDependencies = {
    ari: new InMemoryAriStore(),
    reservations: new InMemoryReservationStore(),
    deliveries: { get: async () => undefined, getWithEvent: async () => undefined },
    deliveryLog: new InMemoryLedger(),
    dedupeWindowSeconds: DEDUPE_DAYS * 86_400,
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
    replays: jobs,
    replayWork: work,
    deadLetters: {
      events: new InMemoryDeadLetterQueue(clock),
      reconcile: new InMemoryDeadLetterQueue(clock),
      parity: new InMemoryDeadLetterQueue(clock),
    },
  };
  handler = createReadApiHandler(deps, new Logger({ serviceName: 'read-test', logLevel: 'SILENT' }));
});

async function call(
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const result = await handler({
    httpMethod: method,
    resource: '/{proxy+}',
    path,
    pathParameters: { proxy: path.slice(1) },
    queryStringParameters: null,
    headers: {},
    body: body ?? null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', identity: { sourceIp: '127.0.0.1' } },
  } as unknown as APIGatewayProxyEvent);
  return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, unknown> };
}

const VALID = {
  source: 'cm-demo',
  from: '2026-05-31T00:00:00.000Z',
  to: '2026-06-01T00:00:00.000Z',
  statuses: ['rejected'],
};

/** The body is refused with `invalid_body`, naming exactly `paths`, and nothing is started. */
async function expectRefused(body: unknown, paths: string[], message?: RegExp) {
  const { status, json } = await call('POST', '/replays', JSON.stringify(body));
  expect(status).toBe(400);
  expect(json.error).toBe('invalid_body');
  const fields = json.fields as { path: string; message: string }[];
  expect(fields.map((field) => field.path)).toEqual(paths);
  if (message) expect(fields[0]?.message).toMatch(message);
  expect(jobs.jobs.size).toBe(0);
  expect(work.sent).toEqual([]);
}

describe('POST /replays', () => {
  it('starts a running job, stores it and queues its first page: 202 with the job', async () => {
    const { status, json } = await call('POST', '/replays', JSON.stringify(VALID));
    expect(status).toBe(202);
    expect(json).toEqual({
      jobId: expect.any(String),
      status: 'running',
      request: VALID,
      counts: { matched: 0, replayed: 0, notRetained: 0 },
      createdAt: '2026-06-01T12:00:00.000Z',
      updatedAt: '2026-06-01T12:00:00.000Z',
    });
    expect(work.sent).toEqual([json.jobId]);
    expect(await jobs.get(json.jobId as string)).toMatchObject({ status: 'running', cursor: { status: 0 } });
  });

  it('refuses a source that is not configured, naming those that are', async () => {
    await expectRefused({ ...VALID, source: 'nope' }, ['source'], /cm-demo, pms-demo/);
  });

  it('refuses a from that is not an instant', async () => {
    await expectRefused({ ...VALID, from: '2026-05-31' }, ['from']);
  });

  it('refuses a to that is not an instant', async () => {
    await expectRefused({ ...VALID, to: 'yesterday' }, ['to']);
  });

  it('refuses a window whose from is not before its to, and an empty one', async () => {
    await expectRefused({ ...VALID, from: VALID.to, to: VALID.from }, ['to'], /must be after from/);
    await expectRefused({ ...VALID, from: VALID.to }, ['to'], /must be after from/);
  });

  it('refuses a window longer than the dedupe window, which the ledger keeps', async () => {
    await expectRefused(
      { ...VALID, from: '2026-04-30T00:00:00.000Z' },
      ['from'],
      new RegExp(`ledger keeps events for ${DEDUPE_DAYS} days`),
    );
  });

  it('takes a window exactly as long as the dedupe window', async () => {
    const { status } = await call(
      'POST',
      '/replays',
      JSON.stringify({ ...VALID, from: '2026-05-02T00:00:00.000Z', to: '2026-06-01T00:00:00.000Z' }),
    );
    expect(status).toBe(202);
  });

  it('refuses empty statuses', async () => {
    await expectRefused({ ...VALID, statuses: [] }, ['statuses'], /at least one ledger status/);
  });

  it('refuses a status the ledger does not have', async () => {
    await expectRefused({ ...VALID, statuses: ['rejected', 'lost'] }, ['statuses[1]'], /must be one of/);
  });

  it('refuses a status named twice', async () => {
    await expectRefused({ ...VALID, statuses: ['rejected', 'rejected'] }, ['statuses'], /more than once/);
  });

  it('refuses a field it does not know', async () => {
    await expectRefused({ ...VALID, dryRun: true }, ['dryRun'], /is not a body field/);
  });

  it('refuses a missing field', async () => {
    const { statuses: _statuses, ...withoutStatuses } = VALID;
    await expectRefused(withoutStatuses, ['statuses']);
  });

  it('refuses an empty body, saying what to send', async () => {
    const { status, json } = await call('POST', '/replays');
    expect(status).toBe(400);
    expect(json).toMatchObject({ error: 'invalid_body', fields: [{ path: '(root)' }] });
  });
});

describe('GET /replays/{jobId} and POST /replays/{jobId}/cancel', () => {
  it('show a job, and cancel a running one', async () => {
    const started = await call('POST', '/replays', JSON.stringify(VALID));
    const jobId = started.json.jobId as string;
    expect(await call('GET', `/replays/${jobId}`)).toEqual({ status: 200, json: started.json });

    clock.advance(5_000);
    const cancelled = await call('POST', `/replays/${jobId}/cancel`);
    expect(cancelled).toMatchObject({
      status: 200,
      json: { jobId, status: 'cancelled', updatedAt: '2026-06-01T12:00:05.000Z' },
    });
    expect((await call('POST', `/replays/${jobId}/cancel`)).json.status).toBe('cancelled');
  });

  it('answer 404 replay_not_found for a job that does not exist', async () => {
    for (const [method, path] of [
      ['GET', '/replays/no-such-job'],
      ['POST', '/replays/no-such-job/cancel'],
    ] as const) {
      const { status, json } = await call(method, path);
      expect(status).toBe(404);
      expect(json.error).toBe('replay_not_found');
      expect(String(json.message)).toContain('"no-such-job"');
    }
  });
});
