import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeLogCursor, logAtOf, logIndexFor } from '../../lambdas/ledger/delivery-log';
import type { LedgerEntry, LedgerStatus } from '../../lambdas/ledger/ports';
import { createReadApiHandler } from '../../lambdas/read/http';
import type { ReadApiDependencies } from '../../lambdas/read/read';
import { encodeCursor } from '../../lambdas/shared/cursor';
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

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

let clock: ManualClock;
let ledger: InMemoryLedger;
let handler: ReturnType<typeof createReadApiHandler>;

beforeEach(() => {
  clock = new ManualClock(NOW);
  ledger = new InMemoryLedger();
  const deps: ReadApiDependencies = {
    ari: new InMemoryAriStore(),
    reservations: new InMemoryReservationStore(),
    deliveries: ledger,
    deliveryLog: ledger,
    dedupeWindowSeconds: 7 * 86_400,
    review: new InMemoryReviewStore(),
    parity: new InMemoryParityStore(),
    rejections: new InMemoryRejectionLog(),
    mappings: new MappingResolver(new InMemoryMappingStore(), [], clock),
    requeue: async () => {},
    clock,
    sourceIds: new Set(['cm-demo', 'pms-demo']),
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

let sequence = 0;
/** An entry as the edge and apply leave it, received `agoMs` before NOW. */
function delivered(agoMs: number, overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  const receivedAt = iso(NOW - agoMs);
  const entry: LedgerEntry = {
    eventId: `evt_${String(sequence++).padStart(4, '0')}`,
    sourceId: 'cm-demo',
    kind: 'channel-manager',
    idempotencyKey: `key-${sequence}`,
    providerEventType: 'rate_update',
    canonicalType: 'ari.update',
    status: 'applied',
    occurredAt: receivedAt,
    receivedAt,
    updatedAt: receivedAt,
    deliveryCount: 1,
    retained: true,
    expiresAt: Math.floor(NOW / 1000) + 7 * 86_400,
    ...overrides,
  };
  ledger.entries.set(entry.eventId, entry);
  return entry;
}

async function call(
  path: string,
  query: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; json: Record<string, unknown> }> {
  const result = await handler({
    httpMethod: method,
    resource: '/{proxy+}',
    path,
    pathParameters: { proxy: path.slice(1) },
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    headers: {},
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1' },
  } as unknown as APIGatewayProxyEvent);
  return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, unknown> };
}

const ids = (json: Record<string, unknown>) =>
  (json.items as { eventId: string }[]).map((row) => row.eventId);

/** The refusal's code and the fields it names. */
async function refusal(path: string, query: Record<string, string>) {
  const { status, json } = await call(path, query);
  return {
    status,
    error: json.error,
    fields: ((json.fields ?? []) as { path: string }[]).map((field) => field.path),
  };
}

describe('GET /deliveries', () => {
  it('lists the last 24 hours newest first, each row as the log shows it, with the window it read', async () => {
    const old = delivered(25 * HOUR);
    const earlier = delivered(2 * HOUR, {
      status: 'parked',
      reason: 'unmapped: roomType DBL',
      retained: false,
    });
    const latest = delivered(1 * HOUR, { sourceId: 'pms-demo', kind: 'pms', status: 'received' });

    const { status, json } = await call('/deliveries');

    expect(status).toBe(200);
    expect(json).toEqual({
      from: iso(NOW - 24 * HOUR),
      to: iso(NOW),
      items: [
        {
          eventId: latest.eventId,
          sourceId: 'pms-demo',
          kind: 'pms',
          providerEventType: 'rate_update',
          canonicalType: 'ari.update',
          status: 'received',
          occurredAt: latest.occurredAt,
          receivedAt: latest.receivedAt,
          updatedAt: latest.updatedAt,
          deliveryCount: 1,
          retained: true,
        },
        expect.objectContaining({
          eventId: earlier.eventId,
          status: 'parked',
          reason: 'unmapped: roomType DBL',
          retained: false,
        }),
      ],
      nextCursor: null,
    });
    expect(ids(json)).not.toContain(old.eventId);
    // Never the idempotency key, lease, failure notes or expiry: those stay behind GET /deliveries/{eventId}.
    expect(Object.keys((json.items as object[])[0] ?? {})).not.toContain('idempotencyKey');
  });

  it('filters by source, status and type (provider or canonical), within an explicit window', async () => {
    const match = delivered(3 * HOUR, { status: 'rejected', reason: 'invalid_dates: x' });
    delivered(3 * HOUR, { status: 'applied' });
    delivered(3 * HOUR, { status: 'rejected', sourceId: 'pms-demo' });
    delivered(3 * HOUR, {
      status: 'rejected',
      providerEventType: 'reservation.created',
      canonicalType: 'reservation.change',
    });
    const older = delivered(30 * HOUR, { status: 'rejected' });
    const window = { from: iso(NOW - 48 * HOUR), to: iso(NOW - 2 * HOUR) };

    for (const type of ['rate_update', 'ari.update']) {
      const { json } = await call('/deliveries', { source: 'cm-demo', status: 'rejected', type, ...window });
      expect(ids(json), type).toEqual([match.eventId, older.eventId]);
    }
    const { json } = await call('/deliveries', {
      source: 'cm-demo',
      status: 'rejected',
      type: 'ari.update',
      from: iso(NOW - 4 * HOUR),
      to: iso(NOW - 2 * HOUR),
    });
    expect(ids(json)).toEqual([match.eventId]);
  });

  it('takes instants with any offset, and reads "from" inclusive and "to" exclusive', async () => {
    const atFrom = delivered(5 * HOUR);
    delivered(3 * HOUR);
    const { json } = await call('/deliveries', {
      from: '2026-06-01T08:00:00+01:00',
      to: '2026-06-01T11:00:00+02:00',
    });
    expect(json).toMatchObject({ from: iso(NOW - 5 * HOUR), to: iso(NOW - 3 * HOUR) });
    expect(ids(json)).toEqual([atFrom.eventId]);
  });

  it('pages through "the last 24 hours" as they were when the first page was read, however late the next', async () => {
    const entries = [1, 2, 3, 4, 5].map((hours) => delivered(hours * HOUR + 30 * 60_000));
    const first = await call('/deliveries', { limit: '2' });
    expect(ids(first.json)).toEqual(entries.slice(0, 2).map((entry) => entry.eventId));

    clock.advance(30 * HOUR);
    const seen = [...ids(first.json)];
    let cursor = first.json.nextCursor as string | null;
    while (cursor !== null) {
      const page = await call('/deliveries', { limit: '2', cursor });
      expect(page.json).toMatchObject({ from: first.json.from, to: first.json.to });
      seen.push(...ids(page.json));
      cursor = page.json.nextCursor as string | null;
    }
    expect(seen).toEqual(entries.map((entry) => entry.eventId));
  });

  it('accepts a cursor with the window it was issued for named again, in whole or in part', async () => {
    const entries = [1, 2, 3].map((hours) => delivered(hours * HOUR));
    const from = '2026-06-01T08:00:00Z';
    const first = await call('/deliveries', { from, limit: '1' });
    clock.advance(HOUR);
    // As a client repeating its query with the cursor sends it: "to" was now, and is left out again.
    const second = await call('/deliveries', { from, limit: '1', cursor: first.json.nextCursor as string });
    const third = await call('/deliveries', {
      from: iso(NOW - 4 * HOUR),
      to: iso(NOW),
      limit: '1',
      cursor: second.json.nextCursor as string,
    });
    expect([first, second, third].map(({ status }) => status)).toEqual([200, 200, 200]);
    expect([first, second, third].flatMap(({ json }) => ids(json))).toEqual(entries.map((e) => e.eventId));
    expect(third.json.nextCursor).toBeNull();
  });

  describe('refuses, naming the parameter', () => {
    const cases: ReadonlyArray<[string, Record<string, string>, string]> = [
      ['an unknown parameter', { sourceId: 'cm-demo' }, 'sourceId'],
      ['a source that is not configured', { source: 'cm-lisbon' }, 'source'],
      ['a status that is not a ledger status', { status: 'failed' }, 'status'],
      ['a type with characters no provider sends', { type: 'rate update' }, 'type'],
      ['a type longer than 100 characters', { type: 'x'.repeat(101) }, 'type'],
      ['a "from" without a zone', { from: '2026-06-01T10:00:00' }, 'from'],
      ['a "from" that is a date, not an instant', { from: '2026-06-01' }, 'from'],
      ['a "to" that is no time at all', { to: 'yesterday' }, 'to'],
      ['a "to" before "from"', { from: iso(NOW - HOUR), to: iso(NOW - 2 * HOUR) }, 'to'],
      ['a "to" equal to "from"', { from: iso(NOW - HOUR), to: iso(NOW - HOUR) }, 'to'],
      ['a "from" in the future without "to"', { from: iso(NOW + HOUR) }, 'from'],
      ['a window longer than the dedupe window', { from: iso(NOW - 8 * 86_400_000) }, 'from'],
      ['a limit of 0', { limit: '0' }, 'limit'],
      ['a limit above 500', { limit: '501' }, 'limit'],
      ['a limit that is not a whole number', { limit: '1.5' }, 'limit'],
      ['an empty cursor', { cursor: '' }, 'cursor'],
    ];
    for (const [name, query, field] of cases) {
      it(name, async () => {
        expect(await refusal('/deliveries', query)).toEqual({
          status: 400,
          error: 'invalid_query',
          fields: [field],
        });
      });
    }
  });

  describe('refuses a cursor it did not issue for this query', () => {
    const window = { from: iso(NOW - 3 * HOUR), to: iso(NOW) };
    const position = { eventId: 'evt_x', logAt: logAtOf(iso(NOW - HOUR), 'evt_x') };
    const cases: ReadonlyArray<[string, () => Record<string, string>]> = [
      ['one that is not base64url', () => ({ cursor: 'not a cursor!' })],
      ['one that is not JSON', () => ({ cursor: Buffer.from('{"pk":').toString('base64url') })],
      ['a key of another table', () => ({ cursor: encodeCursor({ pk: 'P#x', sk: '2026-06-01' }) })],
      [
        'one issued for another source',
        () => ({
          source: 'pms-demo',
          cursor: encodeLogCursor(logIndexFor({ sourceId: 'cm-demo' }), window, position),
        }),
      ],
      [
        'one issued for another status',
        () => ({
          status: 'applied',
          cursor: encodeLogCursor(logIndexFor({ status: 'rejected' }), window, position),
        }),
      ],
      [
        'one issued without the status filter now added',
        () => ({ status: 'applied', cursor: encodeLogCursor(logIndexFor({}), window, position) }),
      ],
      [
        'one issued for another window',
        () => ({
          from: iso(NOW - 4 * HOUR),
          to: window.to,
          cursor: encodeLogCursor(logIndexFor({}), window, position),
        }),
      ],
      [
        'one whose position lies outside its window',
        () => ({
          cursor: encodeLogCursor(logIndexFor({}), window, {
            eventId: 'evt_x',
            logAt: logAtOf(iso(NOW - 4 * HOUR), 'evt_x'),
          }),
        }),
      ],
      [
        'one whose position names another event than its key',
        () => ({
          cursor: encodeLogCursor(logIndexFor({}), window, { eventId: 'evt_y', logAt: position.logAt }),
        }),
      ],
      [
        'one whose window runs backwards',
        () => ({
          cursor: encodeLogCursor(logIndexFor({}), { from: window.to, to: window.from }, position),
        }),
      ],
    ];
    for (const [name, query] of cases) {
      it(name, async () => {
        const { status, json } = await call('/deliveries', query());
        expect({ status, error: json.error }).toEqual({ status: 400, error: 'invalid_cursor' });
        expect(json.message).toMatch(/^The cursor is not valid for this query \(.+\)\. Pass back/);
      });
    }
  });

  it('answers 405 to a method other than GET', async () => {
    const { status, json } = await call('/deliveries', {}, 'POST');
    expect({ status, error: json.error }).toEqual({ status: 405, error: 'method_not_allowed' });
  });
});

describe('GET /deliveries/counts', () => {
  it('counts the window per status, every status named, zero included', async () => {
    const statuses: LedgerStatus[] = ['applied', 'applied', 'parked', 'dead-lettered', 'received'];
    for (const status of statuses) delivered(HOUR, { status });
    delivered(HOUR, { sourceId: 'pms-demo', status: 'rejected' });
    delivered(30 * HOUR, { status: 'applied' });

    const all = await call('/deliveries/counts');
    expect(all).toEqual({
      status: 200,
      json: {
        from: iso(NOW - 24 * HOUR),
        to: iso(NOW),
        counts: {
          received: 1,
          enqueued: 0,
          recorded: 0,
          applied: 2,
          rejected: 1,
          parked: 1,
          held: 0,
          'dead-lettered': 1,
        },
        total: 6,
      },
    });
    const one = await call('/deliveries/counts', { source: 'pms-demo', from: iso(NOW - 2 * HOUR) });
    expect(one.json).toMatchObject({ source: 'pms-demo', counts: { rejected: 1, applied: 0 }, total: 1 });
  });

  describe('refuses, naming the parameter', () => {
    const cases: ReadonlyArray<[string, Record<string, string>, string]> = [
      ['a status, which it counts by', { status: 'applied' }, 'status'],
      ['a cursor, having a single answer', { cursor: 'abc' }, 'cursor'],
      ['a source that is not configured', { source: 'nope' }, 'source'],
      ['a "from" without a zone', { from: '2026-06-01T10:00' }, 'from'],
      ['a "to" before "from"', { from: iso(NOW - HOUR), to: iso(NOW - 2 * HOUR) }, 'to'],
      ['a window longer than the dedupe window', { from: iso(NOW - 8 * 86_400_000) }, 'from'],
    ];
    for (const [name, query, field] of cases) {
      it(name, async () => {
        expect(await refusal('/deliveries/counts', query)).toEqual({
          status: 400,
          error: 'invalid_query',
          fields: [field],
        });
      });
    }
  });
});

describe('GET /deliveries/{eventId}', () => {
  it('still answers one entry by id, next to the log and the counts', async () => {
    const entry = delivered(HOUR);
    const { status, json } = await call(`/deliveries/${entry.eventId}`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ eventId: entry.eventId, status: 'applied' });
  });
});
