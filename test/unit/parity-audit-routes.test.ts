import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Page } from '../../lambdas/domain/page';
import { createReadApiHandler } from '../../lambdas/read/http';
import type { ReadApiDependencies } from '../../lambdas/read/read';
import { fixedClock } from '../../lambdas/shared/clock';
import type { AuditQuery, AuditReader, AuditRecord } from '../../lambdas/state/audit';
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

const clock = fixedClock('2026-06-01T12:00:00.000Z');

/** Answers the page it is given and remembers what it was asked. */
class ScriptedAuditReader implements AuditReader {
  readonly queries: AuditQuery[] = [];
  page: Page<AuditRecord> = { items: [] };
  async list(query: AuditQuery): Promise<Page<AuditRecord>> {
    this.queries.push(query);
    return this.page;
  }
}

const OVERWRITTEN: AuditRecord = {
  key: {
    propertyId: 'demo-hotel',
    roomTypeId: 'double',
    ratePlanId: 'bar',
    channel: 'cm:CH1',
    date: '2026-06-10',
  },
  group: 'rate',
  action: 'overwritten',
  before: { amountMinor: 12_000, currency: 'EUR' },
  after: { amountMinor: 13_000, currency: 'EUR' },
  beforeVersion: '2026-06-01T10:00:00.000Z#0001',
  providerUpdatedAt: '2026-06-01T11:00:00.000Z',
  runId: 'run-1',
  at: '2026-06-01T11:30:00.000Z',
};

let audit: ScriptedAuditReader;
let handler: ReturnType<typeof createReadApiHandler>;

beforeEach(() => {
  audit = new ScriptedAuditReader();
  const deps: ReadApiDependencies = {
    ari: new InMemoryAriStore(),
    reservations: new InMemoryReservationStore(),
    deliveries: { get: async () => undefined, getWithEvent: async () => undefined },
    deliveryLog: new InMemoryLedger(),
    dedupeWindowSeconds: 30 * 86_400,
    review: new InMemoryReviewStore(),
    parity: new InMemoryParityStore(),
    parityOptions: {
      properties: [
        { propertyId: 'demo-hotel', sourceOfTruth: 'cm:CH1', tolerance: { absoluteMinor: 100 } },
        { propertyId: 'demo-resort', sourceOfTruth: 'cm:CH1' },
      ],
      defaultTolerance: { percent: 2 },
    },
    audit,
    rejections: new InMemoryRejectionLog(),
    mappings: new MappingResolver(new InMemoryMappingStore(), [], clock),
    requeue: async () => {},
    clock,
    sourceIds: new Set(['cm']),
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

async function call(path: string, query: Record<string, string> = {}, method = 'GET') {
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

const fieldPaths = (json: Record<string, unknown>) =>
  (json.fields as { path: string }[]).map((field) => field.path);

describe('GET /parity/properties', () => {
  it('answers each property whose parity is checked, its source of truth and the tolerance in force', async () => {
    const { status, json } = await call('/parity/properties');
    expect(status).toBe(200);
    expect(json).toEqual({
      items: [
        { propertyId: 'demo-hotel', sourceOfTruth: 'cm:CH1', tolerance: { absoluteMinor: 100 } },
        // No tolerance of its own: the default one applies.
        { propertyId: 'demo-resort', sourceOfTruth: 'cm:CH1', tolerance: { percent: 2 } },
      ],
    });
  });

  it('takes no query parameter', async () => {
    const { status, json } = await call('/parity/properties', { propertyId: 'demo-hotel' });
    expect(status).toBe(400);
    expect(fieldPaths(json)).toEqual(['propertyId']);
  });
});

describe('GET /reconciliation/audit', () => {
  it("answers a page of a property's audit, each record with its night, before and after, and no expiry", async () => {
    audit.page = {
      items: [{ ...OVERWRITTEN, expiresAt: 1_900_000_000 } as AuditRecord],
      cursor: 'next-page',
    };
    const { status, json } = await call('/reconciliation/audit', {
      propertyId: 'demo-hotel',
      from: '2026-06-01',
      to: '2026-06-30',
      action: 'overwritten',
      limit: '50',
    });
    expect(status).toBe(200);
    expect(audit.queries).toEqual([
      { propertyId: 'demo-hotel', from: '2026-06-01', to: '2026-06-30', action: 'overwritten', limit: 50 },
    ]);
    expect(json).toEqual({
      propertyId: 'demo-hotel',
      from: '2026-06-01',
      to: '2026-06-30',
      action: 'overwritten',
      items: [
        {
          propertyId: 'demo-hotel',
          roomTypeId: 'double',
          ratePlanId: 'bar',
          channel: 'cm:CH1',
          date: '2026-06-10',
          group: 'rate',
          action: 'overwritten',
          before: { amountMinor: 12_000, currency: 'EUR' },
          after: { amountMinor: 13_000, currency: 'EUR' },
          beforeVersion: '2026-06-01T10:00:00.000Z#0001',
          providerUpdatedAt: '2026-06-01T11:00:00.000Z',
          runId: 'run-1',
          at: '2026-06-01T11:30:00.000Z',
        },
      ],
      nextCursor: 'next-page',
    });
  });

  it('passes the cursor back to the reader and ends with a null nextCursor', async () => {
    const { json } = await call('/reconciliation/audit', {
      propertyId: 'demo-hotel',
      from: '2026-06-01',
      to: '2026-06-01',
      cursor: 'next-page',
    });
    expect(audit.queries).toEqual([
      { propertyId: 'demo-hotel', from: '2026-06-01', to: '2026-06-01', limit: 100, cursor: 'next-page' },
    ]);
    expect(json).toEqual({
      propertyId: 'demo-hotel',
      from: '2026-06-01',
      to: '2026-06-01',
      items: [],
      nextCursor: null,
    });
  });

  it('names every bad parameter at once, refuses a range that runs backwards, and reads nothing', async () => {
    const bad = await call('/reconciliation/audit', { from: '2026-06-01', to: 'June', action: 'deleted' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('invalid_query');
    expect(fieldPaths(bad.json).sort()).toEqual(['action', 'propertyId', 'to']);
    expect(JSON.stringify(bad.json.fields)).toContain('must be one of overwritten, observed');
    const backwards = await call('/reconciliation/audit', {
      propertyId: 'demo-hotel',
      from: '2026-06-30',
      to: '2026-06-01',
    });
    expect(backwards.status).toBe(400);
    expect(fieldPaths(backwards.json)).toEqual(['to']);
    expect(audit.queries).toEqual([]);
  });
});
