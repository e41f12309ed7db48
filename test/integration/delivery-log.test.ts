import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SourceKind } from '../../lambdas/domain/canonical';
import { compareVersions } from '../../lambdas/domain/state';
import { LOG_ALL, logAtOf, sourceStatusOf } from '../../lambdas/ledger/delivery-log';
import { DynamoDbDeliveryLedger } from '../../lambdas/ledger/dynamodb-ledger';
import {
  type DeliveryLogQuery,
  type DeliveryLogRow,
  LEDGER_STATUSES,
  type LedgerStatus,
} from '../../lambdas/ledger/ports';
import { DELIVERY_LEDGER } from '../../lambdas/shared/topology';
import { entryAt, LEASE_MS } from '../ports/delivery-ledger.contract';
import { deliver } from '../ports/delivery-log.contract';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

// The delivery log over a ledger of 10,000 entries in DynamoDB Local: every combination of filters pages through
// exactly what an oracle computed from the same entries says, never twice, one Query per page.

const COUNT = 10_000;
const DAY_START = Date.parse('2026-04-10T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

const SOURCES: ReadonlyArray<{ id: string; kind: SourceKind }> = [
  { id: 'cm-lisbon', kind: 'channel-manager' },
  { id: 'ota-booking', kind: 'ota' },
  { id: 'pms-main', kind: 'pms' },
  { id: 'hospitable', kind: 'hospitable' },
  { id: 'mapping', kind: 'mapping' },
];
const TYPES: ReadonlyArray<{ provider: string; canonical?: string }> = [
  { provider: 'rate_update', canonical: 'ari.update' },
  { provider: 'reservation.created', canonical: 'reservation.change' },
  { provider: 'reservation.cancelled', canonical: 'reservation.change' },
  { provider: 'message.created' },
];
// Weighted as a busy ledger is: mostly applied, a tail of everything else.
const STATUS_WEIGHTS: ReadonlyArray<[LedgerStatus, number]> = [
  ['applied', 60],
  ['enqueued', 8],
  ['recorded', 8],
  ['parked', 8],
  ['rejected', 6],
  ['held', 5],
  ['received', 3],
  ['dead-lettered', 2],
];

interface Spec {
  readonly eventId: string;
  readonly sourceId: string;
  readonly kind: SourceKind;
  readonly providerEventType: string;
  readonly canonicalType?: string;
  readonly status: LedgerStatus;
  readonly receivedAtMs: number;
}

/** A fixed pseudo-random sequence, so that a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function specs(): Spec[] {
  const next = random(20260410);
  const totalWeight = STATUS_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);
  return Array.from({ length: COUNT }, (_, index) => {
    const source = SOURCES[Math.floor(next() * SOURCES.length)] ?? SOURCES[0];
    const type = TYPES[Math.floor(next() * TYPES.length)] ?? TYPES[0];
    const pick = next() * totalWeight;
    let below = 0;
    const status =
      STATUS_WEIGHTS.find(([, weight]) => {
        below += weight;
        return pick < below;
      })?.[0] ?? 'applied';
    // Over one day, several entries to the millisecond: ties are ordered by event id.
    const receivedAtMs = DAY_START + Math.floor(next() * 6_000) * 14_400;
    return {
      eventId: `evt_${index.toString(16).padStart(8, '0')}${Math.floor(next() * 1e9).toString(16)}`,
      sourceId: source?.id ?? 'cm-lisbon',
      kind: source?.kind ?? 'channel-manager',
      providerEventType: type?.provider ?? 'rate_update',
      ...(type?.canonical ? { canonicalType: type.canonical } : {}),
      status,
      receivedAtMs,
    };
  });
}

/**
 * The item DynamoDbDeliveryLedger leaves for `spec` after the protocol `deliver` runs (claim; confirm at +10 ms;
 * settle or dead-letter at +20 ms), attribute for attribute. A test below holds the two to the same item.
 */
function ledgerItem(spec: Spec, expiresAt: number): Record<string, AttributeValue> {
  const S = (value: string) => ({ S: value });
  const at = (ms: number) => S(iso(spec.receivedAtMs + ms));
  const entry = entryAt(spec.receivedAtMs);
  const item: Record<string, AttributeValue> = {
    pk: S(spec.eventId),
    eventId: S(spec.eventId),
    sourceId: S(spec.sourceId),
    kind: S(spec.kind),
    idempotencyKey: S(entry.idempotencyKey),
    providerEventType: S(spec.providerEventType),
    ...(spec.canonicalType ? { canonicalType: S(spec.canonicalType) } : {}),
    status: S(spec.status),
    occurredAt: S(entry.occurredAt),
    receivedAt: at(0),
    updatedAt: at(0),
    expiresAt: { N: String(expiresAt) },
    deliveryCount: { N: '1' },
    logAll: S(LOG_ALL),
    logAt: S(logAtOf(iso(spec.receivedAtMs), spec.eventId)),
    sourceStatus: S(sourceStatusOf(spec.sourceId, spec.status)),
  };
  if (spec.status === 'received') return { ...item, leaseUntil: { N: String(spec.receivedAtMs + LEASE_MS) } };
  if (spec.status === 'recorded') return { ...item, updatedAt: at(10) };
  const enqueued = {
    ...item,
    updatedAt: at(10),
    messageId: S(`msg-${spec.eventId}`),
    event: S(JSON.stringify({ id: spec.eventId })),
    retained: { BOOL: true },
  };
  if (spec.status === 'enqueued') return enqueued;
  if (spec.status === 'dead-lettered') {
    const why = S('dead-lettered after 5 receives: Error: boom');
    return { ...enqueued, updatedAt: at(20), reason: why, lastError: why, lastErrorAt: at(20) };
  }
  return {
    ...enqueued,
    updatedAt: at(20),
    settledAt: at(20),
    ...(spec.status === 'applied' ? {} : { reason: S(`${spec.status}: because`) }),
  };
}

/** What the log shows of `spec`, as the oracle expects it. */
function rowOf(spec: Spec): DeliveryLogRow {
  const updatedMs =
    spec.status === 'received' ? 0 : spec.status === 'recorded' || spec.status === 'enqueued' ? 10 : 20;
  const reason =
    spec.status === 'dead-lettered'
      ? 'dead-lettered after 5 receives: Error: boom'
      : ['rejected', 'parked', 'held'].includes(spec.status)
        ? `${spec.status}: because`
        : undefined;
  return {
    eventId: spec.eventId,
    sourceId: spec.sourceId,
    kind: spec.kind,
    providerEventType: spec.providerEventType,
    ...(spec.canonicalType ? { canonicalType: spec.canonicalType } : {}),
    status: spec.status,
    ...(reason ? { reason } : {}),
    occurredAt: entryAt(spec.receivedAtMs).occurredAt,
    receivedAt: iso(spec.receivedAtMs),
    updatedAt: iso(spec.receivedAtMs + updatedMs),
    deliveryCount: 1,
    ...(spec.status === 'received' || spec.status === 'recorded' ? {} : { retained: true }),
  };
}

/** The entries a query must list, newest first, computed from the specs alone. */
function oracle(all: readonly Spec[], query: Omit<DeliveryLogQuery, 'limit' | 'cursor'>): string[] {
  return all
    .filter(
      (spec) =>
        (query.sourceId === undefined || spec.sourceId === query.sourceId) &&
        (query.status === undefined || spec.status === query.status) &&
        (query.type === undefined ||
          spec.providerEventType === query.type ||
          spec.canonicalType === query.type) &&
        iso(spec.receivedAtMs) >= query.from &&
        iso(spec.receivedAtMs) < query.to,
    )
    .map((spec) => ({ id: spec.eventId, logAt: logAtOf(iso(spec.receivedAtMs), spec.eventId) }))
    .sort((a, b) => compareVersions(b.logAt, a.logAt))
    .map((entry) => entry.id);
}

/** Counts every command the client sends, by name, before any retry. */
function countCommands(client: DynamoDBClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '(unnamed)';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return counts;
}

describe('the delivery log over 10,000 ledger entries in DynamoDB Local', () => {
  let topology: IsolatedTopology;
  let tableName: string;
  let all: Spec[];
  /** The specs by event id: looking each listed entry up in 10,000 specs costs more than the queries. */
  let byId: Map<string, Spec>;
  let expiresAt: number;

  beforeAll(async () => {
    topology = await provisionIsolated();
    tableName = topology.tables[DELIVERY_LEDGER.id] ?? '';
    all = specs();
    byId = new Map(all.map((spec) => [spec.eventId, spec]));
    expiresAt = Math.floor(Date.now() / 1000) + 30 * 86_400;
    const items = all.map((spec) => ledgerItem(spec, expiresAt));
    const batches = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) =>
      items.slice(i * 25, i * 25 + 25),
    );
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let index = next++; index < batches.length; index = next++) {
          let requests = (batches[index] ?? []).map((Item) => ({ PutRequest: { Item } }));
          while (requests.length > 0) {
            const { UnprocessedItems } = await topology.dynamodb.send(
              new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }),
            );
            requests = (UnprocessedItems?.[tableName] ?? []) as typeof requests;
          }
        }
      }),
    );
  }, 180_000);

  it('is filled with exactly the items the ledger itself writes', async () => {
    const ledger = new DynamoDbDeliveryLedger(topology.dynamodb, tableName);
    // Outside the day the log tests read, one entry in each status through the ledger's own protocol.
    for (const [index, status] of LEDGER_STATUSES.entries()) {
      const receivedAtMs = DAY_START - (index + 1) * 60_000;
      const entry = await deliver(ledger, {
        sourceId: 'pms-main',
        status,
        receivedAtMs,
        providerEventType: 'reservation.created',
        canonicalType: 'reservation.change',
      });
      const { Item } = await topology.dynamodb.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: entry.eventId } }, ConsistentRead: true }),
      );
      const spec: Spec = {
        eventId: entry.eventId,
        sourceId: 'pms-main',
        kind: 'pms',
        providerEventType: 'reservation.created',
        canonicalType: 'reservation.change',
        status,
        receivedAtMs,
      };
      // The claim's own token is random: the seeded items carry none, and the log never reads it.
      const { claimToken, ...written } = Item ?? {};
      expect(claimToken, status).toEqual({ S: expect.any(String) });
      expect(written, status).toEqual(ledgerItem(spec, entry.expiresAt));
      const [row] = (await ledger.list({ from: iso(receivedAtMs), to: iso(receivedAtMs + 1), limit: 1 }))
        .items;
      expect(row, status).toEqual(rowOf(spec));
    }
  });

  const windows = {
    'the whole day': { from: iso(DAY_START), to: iso(DAY_START + 86_400_000) },
    'two hours': { from: iso(DAY_START + 5 * 3_600_000 + 7_200), to: iso(DAY_START + 7 * 3_600_000 + 7_200) },
  };
  const filters: ReadonlyArray<Pick<DeliveryLogQuery, 'sourceId' | 'status' | 'type'>> = [
    undefined,
    'cm-lisbon',
  ].flatMap((sourceId) =>
    [undefined, 'applied', 'held'].flatMap((status) =>
      [undefined, 'reservation.created', 'ari.update'].map((type) => ({
        ...(sourceId ? { sourceId } : {}),
        ...(status ? { status: status as LedgerStatus } : {}),
        ...(type ? { type } : {}),
      })),
    ),
  );

  for (const [windowName, window] of Object.entries(windows)) {
    for (const filter of filters) {
      const limit = filter.type === undefined && filter.status === undefined ? 500 : 137;
      it(`pages through ${windowName}, ${JSON.stringify(filter)}, ${limit} a page, one Query each`, async () => {
        const client = topology.dynamodb;
        const counting = new DynamoDbDeliveryLedger(client, tableName);
        const counts = countCommands(client);
        try {
          const seen: DeliveryLogRow[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const before = counts.get('QueryCommand') ?? 0;
            const page = await counting.list({ ...filter, ...window, limit, ...(cursor ? { cursor } : {}) });
            expect(counts.get('QueryCommand'), `page ${pages}`).toBe(before + 1);
            expect(page.items.length).toBeLessThanOrEqual(limit);
            // Without a type every page but the last is full, and the last hands out no cursor.
            if (filter.type === undefined && page.cursor !== undefined)
              expect(page.items).toHaveLength(limit);
            seen.push(...page.items);
            cursor = page.cursor;
            pages += 1;
          } while (cursor !== undefined);

          const expected = oracle(all, { ...filter, ...window });
          const ids = seen.map((row) => row.eventId);
          expect(new Set(ids).size).toBe(ids.length);
          expect(ids).toEqual(expected);
          expect(seen).toEqual(expected.map((id) => rowOf(byId.get(id) as Spec)));
          if (filter.type === undefined) expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
          expect([...counts.keys()]).toEqual(['QueryCommand']);
        } finally {
          client.middlewareStack.remove('countCommands');
        }
      }, 60_000);
    }
  }

  it('counts every status as the oracle does, for every source and for one', async () => {
    const ledger = new DynamoDbDeliveryLedger(topology.dynamodb, tableName);
    for (const window of Object.values(windows)) {
      for (const sourceId of [undefined, 'ota-booking']) {
        const expected = Object.fromEntries(
          LEDGER_STATUSES.map((status) => [status, oracle(all, { ...window, sourceId, status }).length]),
        );
        expect(await ledger.counts({ ...window, ...(sourceId ? { sourceId } : {}) })).toEqual(expected);
      }
    }
    expect(oracle(all, windows['the whole day'])).toHaveLength(COUNT);
  }, 60_000);
});
