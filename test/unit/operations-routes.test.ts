import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import type { LedgerEntry } from '../../lambdas/ledger/ports';
import type { MoveTask } from '../../lambdas/queue/ports';
import { createReadApiHandler } from '../../lambdas/read/http';
import type { ReadApiDependencies } from '../../lambdas/read/read';
import { RELEASE_BUDGET_MS } from '../../lambdas/read/sources';
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
import { reservationChange } from '../support/events';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const OPERATOR = 'arn:aws:iam::111122223333:user/ops';

let clock: ManualClock;
let holds: InMemoryHoldStore;
let review: InMemoryReviewStore;
let events: InMemoryDeadLetterQueue;
let reconcile: InMemoryDeadLetterQueue;
let parityDlq: InMemoryDeadLetterQueue;
let ledger: Map<string, Pick<LedgerEntry, 'lastError'>>;
let requeued: CanonicalEvent[];
/** Time each requeue takes, to push a resume past its budget. */
let requeueMs: number;
let handler: ReturnType<typeof createReadApiHandler>;

beforeEach(() => {
  clock = new ManualClock(NOW);
  holds = new InMemoryHoldStore();
  review = new InMemoryReviewStore();
  events = new InMemoryDeadLetterQueue(clock);
  reconcile = new InMemoryDeadLetterQueue(clock);
  parityDlq = new InMemoryDeadLetterQueue(clock);
  ledger = new Map();
  requeued = [];
  requeueMs = 0;
  const deps: ReadApiDependencies = {
    ari: new InMemoryAriStore(),
    reservations: new InMemoryReservationStore(),
    deliveries: {
      get: async (eventId) => ledger.get(eventId) as LedgerEntry | undefined,
      getWithEvent: async (eventId) => {
        const entry = ledger.get(eventId) as LedgerEntry | undefined;
        return entry === undefined ? undefined : { entry };
      },
    },
    deliveryLog: new InMemoryLedger(),
    dedupeWindowSeconds: 30 * 86_400,
    review,
    parity: new InMemoryParityStore(),
    rejections: new InMemoryRejectionLog(),
    mappings: new MappingResolver(new InMemoryMappingStore(), [], clock),
    requeue: async (event) => {
      requeued.push(event);
      clock.advance(requeueMs);
    },
    clock,
    sourceIds: new Set(['cm-demo', 'pms-demo']),
    sources: [
      { id: 'cm-demo', kind: 'channel-manager', displayName: 'Channel manager, Lisbon' },
      { id: 'pms-demo', kind: 'pms' },
    ],
    holds,
    deadLetters: { events, reconcile, parity: parityDlq },
  };
  handler = createReadApiHandler(deps, new Logger({ serviceName: 'read-test', logLevel: 'SILENT' }));
});

async function call(
  method: string,
  path: string,
  options: { query?: Record<string, string>; body?: string; userArn?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const { query = {}, body } = options;
  const result = await handler({
    httpMethod: method,
    resource: '/{proxy+}',
    path,
    pathParameters: { proxy: path.slice(1) },
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    headers: {},
    body: body === undefined ? null : body,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req-1',
      identity: { userArn: options.userArn ?? null, caller: null, sourceIp: '127.0.0.1' },
    },
  } as unknown as APIGatewayProxyEvent);
  return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, unknown> };
}

const fieldPaths = (json: Record<string, unknown>) =>
  (json.fields as { path: string }[] | undefined)?.map((field) => field.path);

/** Events of pms-demo that happened a minute apart, parked under its hold key in another order. */
async function parkHeld(count: number): Promise<CanonicalEvent[]> {
  const held = Array.from({ length: count }, (_, index) =>
    reservationChange({
      sourceId: 'pms-demo',
      occurredAt: new Date(NOW - (count - index) * 60_000).toISOString(),
      idempotencyKey: `zz-${String(count - index).padStart(4, '0')}`,
    }),
  );
  for (const event of [...held].reverse()) {
    await review.park({
      event,
      reason: 'held',
      waitingFor: 'hold|pms-demo',
      parkedAt: new Date(NOW).toISOString(),
    });
  }
  return held;
}

describe('GET /sources', () => {
  it('lists every configured source with whether it is held, since when, by whom and why', async () => {
    await holds.putHold({
      sourceId: 'pms-demo',
      heldAt: '2026-06-01T09:00:00.000Z',
      by: OPERATOR,
      reason: 'audit',
    });
    const { status, json } = await call('GET', '/sources');
    expect(status).toBe(200);
    expect(json).toEqual({
      items: [
        { sourceId: 'cm-demo', kind: 'channel-manager', displayName: 'Channel manager, Lisbon', held: false },
        {
          sourceId: 'pms-demo',
          kind: 'pms',
          held: true,
          heldAt: '2026-06-01T09:00:00.000Z',
          heldBy: OPERATOR,
          reason: 'audit',
        },
      ],
    });
  });

  it('takes no query parameters', async () => {
    const { status, json } = await call('GET', '/sources', { query: { held: 'true' } });
    expect(status).toBe(400);
    expect(json).toMatchObject({ error: 'invalid_query' });
    expect(fieldPaths(json)).toEqual(['held']);
  });
});

describe('POST /sources/{sourceId}/hold', () => {
  it('holds the source as the signing caller, and holding it again keeps the first hold', async () => {
    const first = await call('POST', '/sources/cm-demo/hold', {
      body: '{"reason":"provider replays a bad export"}',
      userArn: OPERATOR,
    });
    expect(first).toEqual({
      status: 200,
      json: {
        sourceId: 'cm-demo',
        kind: 'channel-manager',
        displayName: 'Channel manager, Lisbon',
        held: true,
        heldAt: '2026-06-01T12:00:00.000Z',
        heldBy: OPERATOR,
        reason: 'provider replays a bad export',
        created: true,
      },
    });
    clock.advance(60_000);
    const again = await call('POST', '/sources/cm-demo/hold', { body: '{"reason":"other"}' });
    expect(again.json).toMatchObject({
      heldAt: '2026-06-01T12:00:00.000Z',
      reason: 'provider replays a bad export',
    });
    expect(again.json.created).toBe(false);
  });

  it('takes an empty body, and names an unsigned local caller by its address', async () => {
    const { status, json } = await call('POST', '/sources/pms-demo/hold');
    expect(status).toBe(200);
    expect(json).toMatchObject({ held: true, heldBy: 'unsigned caller at 127.0.0.1', created: true });
    expect(json).not.toHaveProperty('reason');
  });

  it('refuses a source that is not configured, naming those that are', async () => {
    const { status, json } = await call('POST', '/sources/nope/hold');
    expect(status).toBe(404);
    expect(json.error).toBe('unknown_source');
    expect(String(json.message)).toContain('cm-demo, pms-demo');
    expect(holds.holds.size).toBe(0);
  });

  it('names what is wrong with the body', async () => {
    const cases: Array<[string, string, string[] | undefined]> = [
      ['{"reason":""}', 'invalid_body', ['reason']],
      [JSON.stringify({ reason: 'x'.repeat(501) }), 'invalid_body', ['reason']],
      ['{"reason":"ok","until":"tomorrow"}', 'invalid_body', ['until']],
      ['{"reason":"ok"', 'invalid_json', undefined],
      ['["reason"]', 'invalid_body', ['(root)']],
    ];
    for (const [body, error, fields] of cases) {
      const { status, json } = await call('POST', '/sources/cm-demo/hold', { body });
      expect(status, body).toBe(400);
      expect(json.error, body).toBe(error);
      expect(fieldPaths(json), body).toEqual(fields);
    }
    expect(holds.holds.size).toBe(0);
  });

  it('answers 405 to another method', async () => {
    expect((await call('GET', '/sources/cm-demo/hold')).status).toBe(405);
  });
});

describe('POST /sources/{sourceId}/resume', () => {
  it('ends the hold and puts the held events back on the queue, oldest change first', async () => {
    await holds.putHold({ sourceId: 'pms-demo', heldAt: '2026-06-01T09:00:00.000Z', by: OPERATOR });
    const held = await parkHeld(5);
    await review.park({
      event: reservationChange({ sourceId: 'cm-demo' }),
      reason: 'held',
      waitingFor: 'hold|cm-demo',
      parkedAt: new Date(NOW).toISOString(),
    });

    const { status, json } = await call('POST', '/sources/pms-demo/resume');

    expect(status).toBe(200);
    expect(json).toEqual({ sourceId: 'pms-demo', held: false, resumed: true, released: 5, nextCursor: null });
    expect(requeued).toEqual(held);
    expect(await holds.hold('pms-demo')).toBeUndefined();
  });

  it('stops releasing when its time is up and goes on, in order, from the cursor it answered', async () => {
    await holds.putHold({ sourceId: 'pms-demo', heldAt: '2026-06-01T09:00:00.000Z', by: OPERATOR });
    const held = await parkHeld(250);
    // Each requeue takes 20 ms: the first page of 100 is done at 2 s, the second at 4 s, when time is up.
    requeueMs = RELEASE_BUDGET_MS / 200;

    const first = await call('POST', '/sources/pms-demo/resume');
    expect(first.json).toMatchObject({ resumed: true, released: 200 });
    expect(first.json.nextCursor).toEqual(expect.any(String));
    // A continuation leaves holds alone: a source held again meanwhile stays held.
    await holds.putHold({ sourceId: 'pms-demo', heldAt: '2026-06-01T12:30:00.000Z', by: OPERATOR });
    const rest = await call('POST', '/sources/pms-demo/resume', {
      body: JSON.stringify({ cursor: first.json.nextCursor }),
    });

    expect(rest.json).toEqual({
      sourceId: 'pms-demo',
      held: false,
      resumed: false,
      released: 50,
      nextCursor: null,
    });
    expect(requeued).toEqual(held);
    expect(await holds.hold('pms-demo')).toBeDefined();
  });

  it('releases what a stopped resume left behind on a source no longer held, and is harmless with nothing left', async () => {
    const held = await parkHeld(2);
    expect((await call('POST', '/sources/pms-demo/resume')).json).toMatchObject({
      resumed: false,
      released: 2,
    });
    expect(requeued).toEqual(held);
  });

  it('refuses a cursor it did not issue, and an unknown source', async () => {
    const forged = await call('POST', '/sources/pms-demo/resume', { body: '{"cursor":"bm9wZQ"}' });
    expect(forged.status).toBe(400);
    expect(forged.json.error).toBe('invalid_cursor');
    expect((await call('POST', '/sources/nope/resume')).status).toBe(404);
  });
});

describe('GET /dlq/{queue}', () => {
  it('lists dead letters of the events queue with their event id and the ledger’s last error, leaving them there', async () => {
    const body = (eventId: string) => JSON.stringify({ eventId, type: 'ari.update' });
    events.add({ body: body('evt_a'), attributes: { eventId: 'evt_a' } });
    events.add({ body: 'not json', attributes: { eventId: 'evt_b' } });
    events.add({ body: '{}', attributes: {} });
    ledger.set('evt_a', { lastError: 'dead-lettered after 5 receives: TimeoutError: timed out' });

    const { status, json } = await call('GET', '/dlq/events', { query: { limit: '10' } });

    expect(status).toBe(200);
    expect(json).toEqual({
      queue: 'events',
      approximateCount: 3,
      items: [
        {
          eventId: 'evt_a',
          messageId: 'dlq-msg-1',
          receiveCount: 1,
          sentAt: '2026-06-01T12:00:00.000Z',
          lastError: 'dead-lettered after 5 receives: TimeoutError: timed out',
        },
        {
          eventId: 'evt_b',
          messageId: 'dlq-msg-2',
          receiveCount: 1,
          sentAt: '2026-06-01T12:00:00.000Z',
          lastError: null,
        },
        {
          eventId: null,
          messageId: 'dlq-msg-3',
          receiveCount: 1,
          sentAt: '2026-06-01T12:00:00.000Z',
          lastError: null,
        },
      ],
    });
    expect(events.letters).toHaveLength(3);
  });

  it('lists failed reconciliation runs with the error Lambda attached, and at most `limit`', async () => {
    reconcile.add({
      body: '{"trigger":"schedule"}',
      attributes: { RequestID: 'r-1', ErrorCode: '200', ErrorMessage: 'Task timed out after 360.00 seconds' },
    });
    reconcile.add({ body: '{"trigger":"schedule"}', attributes: {} });
    const { json } = await call('GET', '/dlq/reconcile', { query: { limit: '1' } });
    expect(json.items).toEqual([
      {
        eventId: null,
        messageId: 'dlq-msg-1',
        receiveCount: 1,
        sentAt: '2026-06-01T12:00:00.000Z',
        lastError: 'Task timed out after 360.00 seconds',
      },
    ]);
    expect(json.approximateCount).toBe(2);
  });

  it('names an unknown queue and a bad limit', async () => {
    const queue = await call('GET', '/dlq/ingest');
    expect(queue.status).toBe(400);
    expect(queue.json.error).toBe('invalid_path');
    expect(fieldPaths(queue.json)).toEqual(['queue']);
    const limit = await call('GET', '/dlq/events', { query: { limit: '-1' } });
    expect(limit.json.error).toBe('invalid_query');
    expect(fieldPaths(limit.json)).toEqual(['limit']);
  });

  it('never counts fewer messages than it lists, when one arrives while the count is read', async () => {
    events.add({ body: '{}', attributes: { eventId: 'evt_a' } });
    // SQS answered the count before the message was in the queue; the receive beside it then found it.
    events.approximateCount = async () => 0;

    const { json } = await call('GET', '/dlq/events', { query: { limit: '10' } });
    expect(json.items).toHaveLength(1);
    expect(json.approximateCount).toBe(1);
  });

  it('answers the count alone for limit 0, receiving no message', async () => {
    events.add({ body: '{}', attributes: { eventId: 'evt_a' } });

    const counted = await call('GET', '/dlq/events', { query: { limit: '0' } });
    expect(counted.status).toBe(200);
    expect(counted.json).toMatchObject({ queue: 'events', approximateCount: 1, items: [] });

    const listed = await call('GET', '/dlq/events', { query: { limit: '1' } });
    expect(listed.json.items).toEqual([expect.objectContaining({ eventId: 'evt_a', receiveCount: 1 })]);
  });
});

describe('the parity dead-letter queue', () => {
  /** What Lambda sends a DynamoDB stream event source's on-failure destination. */
  const streamFailure = {
    requestContext: {
      requestId: '316aa6d0-8154-4f1e-9af7-85d5f4a6bc81',
      functionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:paritysync-parity',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 4,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2026-06-01T11:58:49.717Z',
    DDBStreamBatchInfo: {
      shardId: 'shardId-00000001573689847184-864758bb',
      startSequenceNumber: '800000000003126276362',
      endSequenceNumber: '800000000003126276370',
      approximateArrivalOfFirstRecord: '2026-06-01T11:58:19Z',
      approximateArrivalOfLastRecord: '2026-06-01T11:58:21Z',
      batchSize: 9,
      streamArn:
        'arn:aws:dynamodb:eu-west-1:111122223333:table/paritysync-ari/stream/2026-05-01T00:04:06.388',
    },
  };

  it('lists each batch given up on with its stream position, arrival times and why', async () => {
    parityDlq.add({ body: JSON.stringify(streamFailure), attributes: {} });
    const { requestContext, DDBStreamBatchInfo } = streamFailure;
    // A batch whose last invocation answered with failed records rather than failing carries no function error.
    parityDlq.add({
      body: JSON.stringify({
        requestContext: { ...requestContext, condition: 'RecordAgeExceeded' },
        DDBStreamBatchInfo,
      }),
      attributes: {},
    });
    parityDlq.add({ body: '{"not":"a stream failure"}', attributes: {} });

    const { status, json } = await call('GET', '/dlq/parity');

    expect(status).toBe(200);
    const streamBatch = {
      shardId: 'shardId-00000001573689847184-864758bb',
      startSequenceNumber: '800000000003126276362',
      endSequenceNumber: '800000000003126276370',
      batchSize: 9,
      firstArrivedAt: '2026-06-01T11:58:19Z',
      lastArrivedAt: '2026-06-01T11:58:21Z',
    };
    const row = { eventId: null, receiveCount: 1, sentAt: '2026-06-01T12:00:00.000Z' };
    expect(json).toEqual({
      queue: 'parity',
      approximateCount: 3,
      items: [
        { ...row, messageId: 'dlq-msg-1', lastError: 'RetryAttemptsExhausted (Unhandled)', streamBatch },
        { ...row, messageId: 'dlq-msg-2', lastError: 'RecordAgeExceeded', streamBatch },
        { ...row, messageId: 'dlq-msg-3', lastError: 'not a stream batch failure record' },
      ],
    });
    expect(parityDlq.letters).toHaveLength(3);
  });

  it('does not redrive a stream position, and names the parity sweep and the delete instead', async () => {
    parityDlq.add({ body: JSON.stringify(streamFailure), attributes: {} });
    const { status, json } = await call('POST', '/dlq/parity/redrive');
    expect(status).toBe(400);
    expect(json.error).toBe('redrive_not_supported');
    expect(String(json.message)).toMatch(/paritysync reconcile/);
    expect(String(json.message)).toMatch(/POST \/dlq\/parity\/delete/);
    expect(parityDlq.letters).toHaveLength(1);
  });

  it('deletes a batch once handled', async () => {
    parityDlq.add({ body: JSON.stringify(streamFailure), attributes: {} });
    const { json } = await call('POST', '/dlq/parity/delete', {
      body: JSON.stringify({ messageIds: ['dlq-msg-1'] }),
    });
    expect(json).toEqual({ queue: 'parity', deleted: 1, complete: true, notDeleted: [] });
    expect(parityDlq.letters).toEqual([]);
  });
});

describe('POST /dlq/{queue}/redrive', () => {
  function deadEvents(count: number): string[] {
    return Array.from({ length: count }, (_, index) => {
      const eventId = `evt_${index}`;
      events.add({ body: JSON.stringify({ eventId }), attributes: { eventId } });
      return eventId;
    });
  }

  it('sends the whole queue back when no event is named', async () => {
    deadEvents(12);
    const { status, json } = await call('POST', '/dlq/events/redrive');
    expect(status).toBe(200);
    expect(json).toEqual({ queue: 'events', via: 'resend', moved: 12, complete: true });
    expect(events.redriven).toHaveLength(12);
    expect(events.letters).toEqual([]);
  });

  it('sends back only the named events, and names those it did not find', async () => {
    deadEvents(30);
    const { json } = await call('POST', '/dlq/events/redrive', {
      body: JSON.stringify({ eventIds: ['evt_3', 'evt_27', 'evt_missing'] }),
    });
    expect(json).toEqual({
      queue: 'events',
      via: 'resend',
      moved: 2,
      complete: true,
      notMoved: ['evt_missing'],
    });
    expect(events.redriven.map((message) => JSON.parse(message.body).eventId).sort()).toEqual([
      'evt_27',
      'evt_3',
    ]);
    expect(events.letters).toHaveLength(28);
  });

  it('refuses to start a second move task while one runs', async () => {
    const running: MoveTask = {
      taskHandle: 't-1',
      status: 'RUNNING',
      moved: 40,
      startedAt: '2026-06-01T11:59:00.000Z',
    };
    events.latestMoveTask = async () => running;
    const { status, json } = await call('POST', '/dlq/events/redrive');
    expect(status).toBe(409);
    expect(json.error).toBe('redrive_in_progress');
    expect(String(json.message)).toContain('t-1');
  });

  it('does not redrive failed reconciliation runs, and says what to do instead', async () => {
    reconcile.add({ body: '{"trigger":"schedule"}', attributes: {} });
    const { status, json } = await call('POST', '/dlq/reconcile/redrive');
    expect(status).toBe(400);
    expect(json.error).toBe('redrive_not_supported');
    expect(String(json.message)).toMatch(/next scheduled run resumes from the last checkpoint/);
    expect(reconcile.letters).toHaveLength(1);
  });

  it('names what is wrong with the chosen event ids', async () => {
    const cases: Array<[unknown, string]> = [
      [{ eventIds: [] }, 'eventIds'],
      [{ eventIds: ['evt_1', 'evt_1'] }, 'eventIds'],
      [{ eventIds: Array.from({ length: 101 }, (_, index) => `evt_${index}`) }, 'eventIds'],
      [{ eventIds: 'evt_1' }, 'eventIds'],
      [{ eventIds: [''] }, 'eventIds[0]'],
      [{ all: true }, 'all'],
    ];
    for (const [body, path] of cases) {
      const { status, json } = await call('POST', '/dlq/events/redrive', { body: JSON.stringify(body) });
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.error).toBe('invalid_body');
      expect(fieldPaths(json), JSON.stringify(body)).toEqual([path]);
    }
  });
});

describe('POST /dlq/{queue}/delete', () => {
  it('deletes the named messages and names those it did not find', async () => {
    reconcile.add({ body: '{"trigger":"schedule"}', attributes: {} });
    reconcile.add({ body: '{"trigger":"schedule"}', attributes: {} });
    const { status, json } = await call('POST', '/dlq/reconcile/delete', {
      body: JSON.stringify({ messageIds: ['dlq-msg-2', 'dlq-msg-9'] }),
    });
    expect(status).toBe(200);
    expect(json).toEqual({ queue: 'reconcile', deleted: 1, complete: true, notDeleted: ['dlq-msg-9'] });
    expect(reconcile.letters.map((letter) => letter.messageId)).toEqual(['dlq-msg-1']);
  });

  it('needs the messages named', async () => {
    const missing = await call('POST', '/dlq/events/delete');
    expect(missing.status).toBe(400);
    expect(missing.json.error).toBe('invalid_body');
    const empty = await call('POST', '/dlq/events/delete', { body: '{}' });
    expect(fieldPaths(empty.json)).toEqual(['messageIds']);
  });
});
