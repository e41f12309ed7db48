import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Rejection, UNCONFIGURED_SOURCES } from '../../lambdas/ledger/rejections';
import { createReadApiHandler } from '../../lambdas/read/http';
import type { ReadApiDependencies } from '../../lambdas/read/read';
import { fixedClock } from '../../lambdas/shared/clock';
import { MappingResolver } from '../../lambdas/state/resolver';
import {
  InMemoryAriStore,
  InMemoryMappingStore,
  InMemoryReservationStore,
  InMemoryReviewStore,
} from '../fakes/apply-memory';
import { InMemoryHoldStore } from '../fakes/controls-memory';
import { InMemoryDeadLetterQueue } from '../fakes/dead-letters-memory';
import { InMemoryLedger } from '../fakes/in-memory';
import { InMemoryParityStore } from '../fakes/reconcile-memory';
import { InMemoryRejectionLog } from '../fakes/rejections';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const HOUR = 3_600_000;
const clock = fixedClock(NOW);
const CONFIGURED = ['cm-demo', 'pms-demo'];

let log: InMemoryRejectionLog;
let handler: ReturnType<typeof createReadApiHandler>;

beforeEach(() => {
  log = new InMemoryRejectionLog();
  const deps: ReadApiDependencies = {
    ari: new InMemoryAriStore(),
    reservations: new InMemoryReservationStore(),
    deliveries: { get: async () => undefined, getWithEvent: async () => undefined },
    deliveryLog: new InMemoryLedger(),
    dedupeWindowSeconds: 30 * 86_400,
    review: new InMemoryReviewStore(),
    parity: new InMemoryParityStore(),
    rejections: log,
    mappings: new MappingResolver(new InMemoryMappingStore(), [], clock),
    requeue: async () => {},
    clock,
    sourceIds: new Set(CONFIGURED),
    sources: [],
    holds: new InMemoryHoldStore(),
    deadLetters: {
      events: new InMemoryDeadLetterQueue(clock),
      reconcile: new InMemoryDeadLetterQueue(clock),
      parity: new InMemoryDeadLetterQueue(clock),
    },
  };
  handler = createReadApiHandler(deps, new Logger({ serviceName: 'read-test', logLevel: 'SILENT' }));
});

async function call(query: Record<string, string> = {}, method = 'GET') {
  const result = await handler({
    httpMethod: method,
    resource: '/rejections',
    path: '/rejections',
    pathParameters: null,
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    headers: {},
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1' },
  } as unknown as APIGatewayProxyEvent);
  return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, unknown> };
}

let sequence = 0;
function rejection(ms: number, overrides: Partial<Rejection> = {}): Rejection {
  sequence++;
  return {
    at: new Date(ms).toISOString(),
    requestId: `req-${String(sequence).padStart(4, '0')}`,
    sourceId: 'cm-demo',
    senderAddress: '203.0.113.7',
    status: 401,
    reason: 'invalid_signature',
    headerNames: ['content-type', 'x-signature'],
    bodyBytes: 321,
    bodySha256: 'b'.repeat(64),
    expiresAt: Math.floor(ms / 1000) + 7 * 86_400,
    ...overrides,
  };
}

async function record(...rejections: Rejection[]) {
  for (const r of rejections) {
    const bucket = CONFIGURED.includes(r.sourceId) ? r.sourceId : UNCONFIGURED_SOURCES;
    await log.record(r, { bucket, perSecond: 2 });
  }
}

const fieldPaths = (json: Record<string, unknown>) =>
  (json.fields as { path: string }[]).map((field) => field.path);

describe('GET /rejections', () => {
  it('lists the last 24 hours newest first, each record as kept, with the counts of what was not recorded', async () => {
    const old = rejection(NOW - 25 * HOUR);
    const { senderAddress: _unknown, ...first } = rejection(NOW - 2 * HOUR);
    const [second, third, counted] = [0, 1, 2].map((i) => rejection(NOW - HOUR + i)) as [
      Rejection,
      Rejection,
      Rejection,
    ];
    await record(old, first, second, third, counted);
    const view = (r: Rejection) => ({
      at: r.at,
      sourceId: 'cm-demo',
      ...(r.senderAddress ? { senderAddress: r.senderAddress } : {}),
      status: 401,
      reason: 'invalid_signature',
      headerNames: ['content-type', 'x-signature'],
      bodyBytes: 321,
      bodySha256: 'b'.repeat(64),
      requestId: r.requestId,
      expiresAt: new Date(r.expiresAt * 1000).toISOString(),
    });

    const { status, json } = await call();
    expect(status).toBe(200);
    expect(json).toEqual({
      from: new Date(NOW - 24 * HOUR).toISOString(),
      to: new Date(NOW).toISOString(),
      items: [view(third), view(second), view(first)],
      nextCursor: null,
      unrecorded: { total: 1, counts: [{ sourceId: 'cm-demo', day: '2026-06-01', count: 1 }] },
    });
  });

  it('filters by source and by reason, inside an explicit window', async () => {
    const cm = rejection(NOW - 3 * HOUR);
    const pms = rejection(NOW - 3 * HOUR + 1, {
      sourceId: 'pms-demo',
      status: 422,
      reason: 'schema_violation',
    });
    const outside = rejection(NOW - 10 * HOUR, { sourceId: 'pms-demo' });
    await record(cm, pms, outside);
    const window = {
      from: new Date(NOW - 4 * HOUR).toISOString(),
      to: new Date(NOW - 2 * HOUR).toISOString(),
    };

    const bySource = await call({ ...window, source: 'pms-demo' });
    expect((bySource.json.items as { requestId: string }[]).map((r) => r.requestId)).toEqual([pms.requestId]);
    const byReason = await call({ ...window, reason: 'invalid_signature' });
    expect((byReason.json.items as { requestId: string }[]).map((r) => r.requestId)).toEqual([cm.requestId]);
    // Any zone offset is accepted; the window is answered in UTC.
    const offset = await call({ from: '2026-06-01T10:00:00+02:00', to: '2026-06-01T10:00:00+02:00' });
    expect(offset.json).toMatchObject({ from: '2026-06-01T08:00:00.000Z', to: '2026-06-01T08:00:00.000Z' });
  });

  it('counts a configured source on its own, and any other id with every unconfigured one', async () => {
    const at = NOW - HOUR;
    await record(
      ...[0, 1, 2, 3].map((i) => rejection(at + i)),
      ...[0, 1, 2].map((i) =>
        rejection(at + 10 + i, { sourceId: `made-up-${i}`, status: 404, reason: 'unknown_source' }),
      ),
    );
    const counts = async (query: Record<string, string>) => (await call(query)).json.unrecorded;
    expect(await counts({})).toEqual({
      total: 3,
      counts: [
        { sourceId: UNCONFIGURED_SOURCES, day: '2026-06-01', count: 1 },
        { sourceId: 'cm-demo', day: '2026-06-01', count: 2 },
      ],
    });
    expect(await counts({ source: 'cm-demo' })).toEqual({
      total: 2,
      counts: [{ sourceId: 'cm-demo', day: '2026-06-01', count: 2 }],
    });
    expect(await counts({ source: 'made-up-0' })).toEqual({
      total: 1,
      counts: [{ sourceId: UNCONFIGURED_SOURCES, day: '2026-06-01', count: 1 }],
    });
    expect(await counts({ source: 'pms-demo' })).toEqual({ total: 0, counts: [] });
  });

  it('pages with limit and the cursor it hands out', async () => {
    const recorded = [0, 1, 2, 3, 4].map((i) => rejection(NOW - HOUR + i * 1000));
    await record(...recorded);
    const ids = (json: Record<string, unknown>) =>
      (json.items as { requestId: string }[]).map((r) => r.requestId);
    const first = await call({ limit: '2' });
    const second = await call({ limit: '2', cursor: first.json.nextCursor as string });
    const last = await call({ limit: '2', cursor: second.json.nextCursor as string });
    expect([...ids(first.json), ...ids(second.json), ...ids(last.json)]).toEqual(
      recorded.map((r) => r.requestId).reverse(),
    );
    expect(last.json.nextCursor).toBeNull();
    const foreign = await call({ limit: '2', source: 'cm-demo', cursor: first.json.nextCursor as string });
    expect(foreign).toMatchObject({ status: 400, json: { error: 'invalid_cursor' } });
  });

  it.each([
    [{ limit: '0' }, ['limit']],
    [{ limit: '501' }, ['limit']],
    [{ limit: 'ten' }, ['limit']],
    [{ from: '2026-06-01' }, ['from']],
    [{ to: 'yesterday' }, ['to']],
    [{ reason: 'Invalid Signature' }, ['reason']],
    [{ source: 's'.repeat(129) }, ['source']],
    [{ source: '' }, ['source']],
    [{ status: '401' }, ['status']],
  ])('refuses the query %j with 400 invalid_query naming %j', async (query, paths) => {
    const { status, json } = await call(query);
    expect(status).toBe(400);
    expect(json.error).toBe('invalid_query');
    expect(fieldPaths(json)).toEqual(paths);
  });

  it('refuses a window that runs backwards, including a from after the default to', async () => {
    const backwards = await call({ from: '2026-06-01T10:00:00Z', to: '2026-06-01T09:00:00Z' });
    expect(backwards).toMatchObject({ status: 400, json: { error: 'invalid_query' } });
    expect(fieldPaths(backwards.json)).toEqual(['from']);
    const future = await call({ from: '2026-06-02T00:00:00Z' });
    expect(future).toMatchObject({ status: 400, json: { error: 'invalid_query' } });
  });

  it('refuses a cursor it did not issue, and any method but GET', async () => {
    expect(await call({ cursor: 'bm90LWEta2V5' })).toMatchObject({
      status: 400,
      json: { error: 'invalid_cursor' },
    });
    expect(await call({}, 'POST')).toMatchObject({ status: 405, json: { error: 'method_not_allowed' } });
  });
});
