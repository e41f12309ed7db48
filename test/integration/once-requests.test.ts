import { randomUUID } from 'node:crypto';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbReplayJobStore } from '../../lambdas/ledger/dynamodb-replay-jobs';
import { createReadApiHandler } from '../../lambdas/read/http';
import type { ReadApiDependencies } from '../../lambdas/read/read';
import { systemClock } from '../../lambdas/shared/clock';
import { CONTROLS, OPERATION_REQUESTS } from '../../lambdas/shared/topology';
import { DynamoDbControlStore } from '../../lambdas/state/dynamodb-controls';
import { MappingResolver } from '../../lambdas/state/resolver';
import {
  InMemoryAriStore,
  InMemoryMappingStore,
  InMemoryReservationStore,
  InMemoryReviewStore,
} from '../fakes/apply-memory';
import { InMemoryDeadLetterQueue } from '../fakes/dead-letters-memory';
import { InMemoryLedger } from '../fakes/in-memory';
import { InMemoryParityStore } from '../fakes/reconcile-memory';
import { InMemoryRejectionLog } from '../fakes/rejections';
import { InMemoryReplayWorkQueue } from '../fakes/replay-memory';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

// The read API as deployed: requests remembered in the OperationRequests table, holds and replay jobs in Controls.
// Each test uses a source of its own, so that tests sharing the tables never see each other's holds or replays.

let topology: IsolatedTopology;
let jobs: DynamoDbReplayJobStore;
let work: InMemoryReplayWorkQueue;
let handler: ReturnType<typeof createReadApiHandler>;

beforeAll(async () => {
  topology = await provisionIsolated();
  jobs = new DynamoDbReplayJobStore(topology.dynamodb, topology.tables[CONTROLS.id] as string);
});

const SOURCES = ['cm-1', 'cm-2', 'cm-3', 'cm-4', 'cm-5', 'cm-6', 'cm-7'];

beforeEach(() => {
  work = new InMemoryReplayWorkQueue();
  const deps: ReadApiDependencies = {
    ari: new InMemoryAriStore(),
    reservations: new InMemoryReservationStore(),
    deliveries: { get: async () => undefined, getWithEvent: async () => undefined },
    deliveryLog: new InMemoryLedger(),
    dedupeWindowSeconds: 30 * 86_400,
    review: new InMemoryReviewStore(),
    parity: new InMemoryParityStore(),
    rejections: new InMemoryRejectionLog(),
    mappings: new MappingResolver(new InMemoryMappingStore(), [], systemClock),
    requeue: async () => undefined,
    clock: systemClock,
    sourceIds: new Set(SOURCES),
    sources: SOURCES.map((id) => ({ id, kind: 'channel-manager' })),
    holds: new DynamoDbControlStore(topology.dynamodb, topology.tables[CONTROLS.id] as string),
    replays: jobs,
    replayWork: work,
    deadLetters: {
      events: new InMemoryDeadLetterQueue(systemClock),
      reconcile: new InMemoryDeadLetterQueue(systemClock),
      parity: new InMemoryDeadLetterQueue(systemClock),
    },
  };
  handler = createReadApiHandler(
    deps,
    new Logger({ serviceName: 'read-test', logLevel: 'SILENT' }),
    new DynamoDBPersistenceLayer({
      tableName: topology.tables[OPERATION_REQUESTS.id] as string,
      awsSdkV3Client: topology.dynamodb,
    }),
  );
});

async function post(
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const result = await handler({
    httpMethod: 'POST',
    resource: '/{proxy+}',
    path,
    pathParameters: { proxy: path.slice(1) },
    queryStringParameters: null,
    headers: { 'content-type': 'application/json', ...headers },
    body,
    isBase64Encoded: false,
    requestContext: { requestId: randomUUID(), identity: { userArn: 'arn:aws:iam::111122223333:user/ops' } },
  } as unknown as APIGatewayProxyEvent);
  return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, unknown> };
}

async function heldSources(): Promise<string[]> {
  const result = await handler({
    httpMethod: 'GET',
    resource: '/sources',
    path: '/sources',
    pathParameters: null,
    queryStringParameters: null,
    headers: {},
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: randomUUID() },
  } as unknown as APIGatewayProxyEvent);
  const { items } = JSON.parse(result.body) as { items: { sourceId: string; held: boolean }[] };
  return items.filter((item) => item.held).map((item) => item.sourceId);
}

const WINDOW = { from: '2026-06-01T00:00:00.000Z', to: '2026-06-02T00:00:00.000Z' };

describe('hold, resume and redrive without an Idempotency-Key', () => {
  it('run every time: hold, resume and hold again within minutes leaves the source held', async () => {
    const first = await post('/sources/cm-1/hold', '{"reason":"audit"}');
    const resumed = await post('/sources/cm-1/resume', '{}');
    const again = await post('/sources/cm-1/hold', '{"reason":"audit"}');

    expect(first).toMatchObject({ status: 200, json: { held: true, created: true } });
    expect(resumed).toMatchObject({ status: 200, json: { held: false, resumed: true } });
    expect(again).toMatchObject({ status: 200, json: { held: true, created: true } });
    expect(await heldSources()).toContain('cm-1');
  });

  it('run every time: a second hold answers the hold in place', async () => {
    await post('/sources/cm-2/hold', '{}');
    expect(await post('/sources/cm-2/hold', '{}')).toMatchObject({ json: { created: false } });
  });
});

describe('a request with an Idempotency-Key', () => {
  it('repeated answers the first answer and acts once, whatever the case of the header name', async () => {
    const key = randomUUID();
    const first = await post('/sources/cm-3/hold', '{"reason":"audit"}', { 'Idempotency-Key': key });
    await post('/sources/cm-3/resume', '{}');
    // A late retry of the first hold, after the operator resumed: it must not hold the source again.
    const retry = await post('/sources/cm-3/hold', '{ "reason": "audit" }', { 'IDEMPOTENCY-KEY': key });

    expect(first).toMatchObject({ status: 200, json: { held: true, created: true } });
    expect(retry).toEqual(first);
    expect(await heldSources()).not.toContain('cm-3');
  });

  it('used for another request is refused, naming the reuse', async () => {
    const key = randomUUID();
    await post('/sources/cm-4/hold', '{}', { 'idempotency-key': key });
    const other = await post('/sources/cm-5/hold', '{}', { 'idempotency-key': key });

    expect(other).toMatchObject({ status: 400, json: { error: 'idempotency_key_reused' } });
    expect(await heldSources()).not.toContain('cm-5');
  });

  it('that is not 1-255 visible characters is refused before anything is done', async () => {
    const answer = await post('/sources/cm-5/hold', '{}', { 'idempotency-key': 'a b' });
    expect(answer).toMatchObject({ status: 400, json: { error: 'invalid_idempotency_key' } });
    expect(await heldSources()).not.toContain('cm-5');
  });
});

describe('POST /replays', () => {
  it('asked twice for the same source, window and statuses starts one job', async () => {
    const body = { source: 'cm-6', ...WINDOW, statuses: ['rejected', 'applied'] };
    const first = await post('/replays', JSON.stringify(body));
    // The same replay, written otherwise: instants without milliseconds, statuses in another order.
    const second = await post(
      '/replays',
      JSON.stringify({
        statuses: ['applied', 'rejected'],
        source: 'cm-6',
        from: '2026-06-01T00:00:00Z',
        to: '2026-06-02T00:00:00Z',
      }),
    );

    expect(first.status).toBe(202);
    expect(second).toEqual(first);
    expect(work.sent).toEqual([first.json.jobId]);
  });

  it('for another window starts another job', async () => {
    const first = await post(
      '/replays',
      JSON.stringify({ source: 'cm-7', ...WINDOW, statuses: ['applied'] }),
    );
    const other = await post(
      '/replays',
      JSON.stringify({
        source: 'cm-7',
        from: WINDOW.from,
        to: '2026-06-01T12:00:00.000Z',
        statuses: ['applied'],
      }),
    );

    expect(other.status).toBe(202);
    expect(other.json.jobId).not.toBe(first.json.jobId);
    expect(work.sent).toEqual([first.json.jobId, other.json.jobId]);
  });

  it('with an Idempotency-Key is keyed by it: two keys start two jobs, one key one', async () => {
    const body = JSON.stringify({ source: 'cm-7', ...WINDOW, statuses: ['rejected'] });
    const key = randomUUID();
    const first = await post('/replays', body, { 'Idempotency-Key': key });
    const retry = await post('/replays', body, { 'Idempotency-Key': key });
    const another = await post('/replays', body, { 'Idempotency-Key': randomUUID() });

    expect(retry).toEqual(first);
    expect(another.json.jobId).not.toBe(first.json.jobId);
    expect(work.sent).toEqual([first.json.jobId, another.json.jobId]);
  });

  it('that failed leaves no record: its retry starts the job', async () => {
    const body = JSON.stringify({ source: 'cm-6', ...WINDOW, statuses: ['enqueued'] });
    work.failing = true;
    const failed = await post('/replays', body);
    work.failing = false;
    const retry = await post('/replays', body);

    expect(failed.status).toBe(500);
    expect(retry.status).toBe(202);
    expect(await jobs.get(retry.json.jobId as string)).toMatchObject({ status: 'running' });
  });
});
