import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import { versionOf } from '../../lambdas/domain/state';
import { DynamoDbDeliveryLedger } from '../../lambdas/ledger/dynamodb-ledger';
import { createReadApiHandler } from '../../lambdas/read/http';
import type { DeliveryRecord, ReadApiDependencies } from '../../lambdas/read/read';
import { fixedClock } from '../../lambdas/shared/clock';
import { InvalidCursorError } from '../../lambdas/shared/cursor';
import { DeliveryInProgressError } from '../../lambdas/shared/errors';
import type { ParityFinding, ParityNightKey, ParityQuery, ParkedEvent } from '../../lambdas/state/ports';
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
import { ariUpdate } from '../support/events';

const clock = fixedClock('2026-06-01T12:00:00.000Z');

/** Remembers every query, so a test can see what the route passed on. */
class RecordingParityStore extends InMemoryParityStore {
  readonly queries: ParityQuery[] = [];
  override async list(query: ParityQuery) {
    this.queries.push(query);
    return super.list(query);
  }
}

function parkedAri(eventId: string, roomType: string): ParkedEvent {
  const event = ariUpdate({
    eventId,
    sourceId: 'cm-demo',
    occurredAt: '2026-06-01T11:00:00.000Z',
    receivedAt: '2026-06-01T11:00:00.300Z',
    data: { roomTypeExternalId: roomType, dateTo: '2026-07-01', availability: 3 },
  });
  return {
    event,
    reason: `no roomType mapping for external id "${roomType}"`,
    waitingFor: `roomType|${roomType}`,
    parkedAt: '2026-06-01T11:00:01.000Z',
  };
}

/** Holds and dead letters, which the routes of this file never touch (test/unit/operations-routes.test.ts does). */
function operationsFakes(): Pick<ReadApiDependencies, 'sources' | 'holds' | 'deadLetters'> {
  return {
    sources: [],
    holds: new InMemoryHoldStore(),
    deadLetters: {
      events: new InMemoryDeadLetterQueue(clock),
      reconcile: new InMemoryDeadLetterQueue(clock),
      parity: new InMemoryDeadLetterQueue(clock),
    },
  };
}

let ari: InMemoryAriStore;
let review: InMemoryReviewStore;
let parity: RecordingParityStore;
let reservations: InMemoryReservationStore;
let mappingStore: InMemoryMappingStore;
let deliveries: Map<string, DeliveryRecord>;
let requeued: CanonicalEvent[];
let handler: ReturnType<typeof createReadApiHandler>;

beforeEach(() => {
  ari = new InMemoryAriStore();
  review = new InMemoryReviewStore();
  parity = new RecordingParityStore();
  reservations = new InMemoryReservationStore();
  mappingStore = new InMemoryMappingStore();
  deliveries = new Map();
  requeued = [];
  const deps: ReadApiDependencies = {
    ari,
    reservations,
    deliveries: {
      get: async (eventId) => deliveries.get(eventId),
      getWithEvent: async (eventId) => {
        const entry = deliveries.get(eventId);
        return entry === undefined ? undefined : { entry };
      },
    },
    deliveryLog: new InMemoryLedger(),
    dedupeWindowSeconds: 30 * 86_400,
    review,
    parity,
    rejections: new InMemoryRejectionLog(),
    mappings: new MappingResolver(mappingStore, [], clock),
    requeue: async (event) => {
      requeued.push(event);
    },
    clock,
    sourceIds: new Set(['cm-demo', 'pms-demo']),
    ...operationsFakes(),
  };
  handler = createReadApiHandler(deps, new Logger({ serviceName: 'read-test', logLevel: 'SILENT' }));
});

async function call(
  method: string,
  path: string,
  query: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const result = await handler({
    httpMethod: method,
    // Behind a greedy proxy resource the route comes from the path alone.
    resource: '/{proxy+}',
    path,
    pathParameters: { proxy: path.slice(1) },
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    headers: {},
    body: body === undefined ? null : Buffer.from(body).toString('base64'),
    isBase64Encoded: body !== undefined,
    requestContext: { requestId: 'req-1' },
  } as unknown as APIGatewayProxyEvent);
  expect(result.headers).toEqual({ 'content-type': 'application/json' });
  return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, unknown> };
}

const fieldPaths = (json: Record<string, unknown>) =>
  (json.fields as { path: string; message: string }[]).map((field) => field.path);

describe('GET /properties/{propertyId}/ari', () => {
  async function writeNights(dates: readonly string[]) {
    for (const [index, date] of dates.entries()) {
      await ari.writeNight(
        { propertyId: 'lisbon-01', roomTypeId: 'dbl', ratePlanId: 'bar', channel: 'cm-demo:booking', date },
        {
          rate: { amountMinor: 12990 + index, currency: 'EUR' },
          availability: { rooms: 4, requested: 9, cappedBy: 'physical rooms 4: at most 4' },
          restrictions: { minLengthOfStay: 2, closedToArrival: false },
        },
        versionOf({ occurredAt: '2026-06-01T10:00:00.000Z', idempotencyKey: `k${index}` }),
        `evt_${index}`,
      );
    }
  }

  it('answers each night with money in minor units, currency and a decimal amount, and who wrote each group', async () => {
    await writeNights(['2026-07-01']);
    const { status, json } = await call('GET', '/properties/lisbon-01/ari', {
      from: '2026-07-01',
      to: '2026-07-01',
    });
    expect(status).toBe(200);
    expect(json).toEqual({
      items: [
        {
          propertyId: 'lisbon-01',
          roomTypeId: 'dbl',
          ratePlanId: 'bar',
          channel: 'cm-demo:booking',
          date: '2026-07-01',
          rate: {
            amountMinor: 12990,
            currency: 'EUR',
            amount: '129.90',
            version: '2026-06-01T10:00:00.000Z#k0',
            eventId: 'evt_0',
          },
          availability: {
            rooms: 4,
            requested: 9,
            cappedBy: 'physical rooms 4: at most 4',
            version: '2026-06-01T10:00:00.000Z#k0',
            eventId: 'evt_0',
          },
          restrictions: {
            minLengthOfStay: 2,
            closedToArrival: false,
            version: '2026-06-01T10:00:00.000Z#k0',
            eventId: 'evt_0',
          },
        },
      ],
      nextCursor: null,
    });
  });

  it('pages with limit and the cursor it hands out, and ends with a null cursor', async () => {
    const dates = ['2026-07-01', '2026-07-02', '2026-07-03', '2026-07-04', '2026-07-05'];
    await writeNights(dates);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { status, json } = await call('GET', '/properties/lisbon-01/ari', {
        from: '2026-07-01',
        to: '2026-07-31',
        limit: '2',
        ...(cursor ? { cursor } : {}),
      });
      expect(status).toBe(200);
      const items = json.items as { date: string }[];
      expect(items.length).toBeLessThanOrEqual(2);
      seen.push(...items.map((item) => item.date));
      cursor = (json.nextCursor as string | null) ?? undefined;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(dates);
  });

  it('defaults the page size to 100', async () => {
    const dates = Array.from({ length: 101 }, (_, i) => `2026-08-${String((i % 31) + 1).padStart(2, '0')}`);
    for (const [index, date] of dates.entries()) {
      await ari.writeNight(
        { propertyId: 'lisbon-01', roomTypeId: `rt${index}`, ratePlanId: 'bar', channel: 'c', date },
        { availability: { rooms: 1 } },
        'v1',
        'evt',
      );
    }
    const { json } = await call('GET', '/properties/lisbon-01/ari', { from: '2026-08-01', to: '2026-08-31' });
    expect((json.items as unknown[]).length).toBe(100);
    expect(json.nextCursor).toEqual(expect.any(String));
  });

  it.each([
    [{ to: '2026-07-01' }, 'from'],
    [{ from: '2026-07-01' }, 'to'],
    [{ from: '2026-02-30', to: '2026-03-01' }, 'from'],
    [{ from: '2026-07-01', to: '07/02/2026' }, 'to'],
    [{ from: '2026-07-02', to: '2026-07-01' }, 'to'],
    [{ from: '2026-01-01', to: '2027-01-02' }, 'to'],
    [{ from: '2026-07-01', to: '2026-07-02', limit: '0' }, 'limit'],
    [{ from: '2026-07-01', to: '2026-07-02', limit: '501' }, 'limit'],
    [{ from: '2026-07-01', to: '2026-07-02', limit: 'ten' }, 'limit'],
    [{ from: '2026-07-01', to: '2026-07-02', limit: '2.5' }, 'limit'],
    [{ from: '2026-07-01', to: '2026-07-02', form: '2026-07-01' }, 'form'],
    [{ from: '2026-07-01', to: '2026-07-02', cursor: '' }, 'cursor'],
  ])('answers 400 naming the parameter for %j', async (query, parameter) => {
    const { status, json } = await call('GET', '/properties/lisbon-01/ari', query);
    expect(status).toBe(400);
    expect(json.error).toBe('invalid_query');
    expect(json.message).toEqual(expect.stringContaining(parameter));
    expect(fieldPaths(json)).toEqual([parameter]);
  });

  it('accepts a full leap year of 366 dates and refuses 367', async () => {
    expect((await call('GET', '/properties/p/ari', { from: '2028-01-01', to: '2028-12-31' })).status).toBe(
      200,
    );
    const refused = await call('GET', '/properties/p/ari', { from: '2028-01-01', to: '2029-01-01' });
    expect(refused.status).toBe(400);
    expect(refused.json.fields).toEqual([
      { path: 'to', message: 'the range covers 367 dates; at most 366 are read at once, split it' },
    ]);
  });

  it('names every bad parameter at once', async () => {
    const { json } = await call('GET', '/properties/p/ari', { from: 'soon', limit: '9999' });
    expect(fieldPaths(json).sort()).toEqual(['from', 'limit', 'to']);
  });

  it('filters by room type and rate plan', async () => {
    for (const roomTypeId of ['dbl', 'twn']) {
      await ari.writeNight(
        { propertyId: 'p', roomTypeId, ratePlanId: 'bar', channel: 'c', date: '2026-07-01' },
        { availability: { rooms: 2 } },
        'v',
        'e',
      );
    }
    const { json } = await call('GET', '/properties/p/ari', {
      from: '2026-07-01',
      to: '2026-07-01',
      roomType: 'twn',
    });
    expect((json.items as { roomTypeId: string }[]).map((item) => item.roomTypeId)).toEqual(['twn']);
  });
});

describe('GET /reservations/{id} and /deliveries/{eventId}', () => {
  it('answers 404 in the JSON error shape for ids it does not hold', async () => {
    const reservation = await call('GET', '/reservations/pms-demo:R-404');
    expect(reservation.status).toBe(404);
    expect(reservation.json).toEqual({
      error: 'reservation_not_found',
      message: expect.stringContaining('pms-demo:R-404'),
    });
    const delivery = await call('GET', '/deliveries/evt_nothing');
    expect(delivery.status).toBe(404);
    expect(delivery.json).toMatchObject({ error: 'delivery_not_found' });
  });

  it('answers a reservation with its total as minor units, currency and amount', async () => {
    await reservations.apply({
      id: 'pms-demo:R-1',
      sourceId: 'pms-demo',
      reservationExternalId: 'R-1',
      status: 'confirmed',
      arrivalDate: '2026-07-01',
      departureDate: '2026-07-03',
      guestExternalId: 'G-9',
      total: { amountMinor: 45000, currency: 'JPY' },
      version: '2026-06-01T10:00:00.000Z#k',
      eventId: 'evt_r1',
    });
    const { status, json } = await call('GET', `/reservations/${encodeURIComponent('pms-demo:R-1')}`);
    expect(status).toBe(200);
    expect(json).toMatchObject({
      id: 'pms-demo:R-1',
      status: 'confirmed',
      guestExternalId: 'G-9',
      total: { amountMinor: 45000, currency: 'JPY', amount: '45000' },
    });
  });

  it('answers a delivery with its status, reason, last error and timestamps', async () => {
    deliveries.set('evt_1', {
      eventId: 'evt_1',
      sourceId: 'cm-demo',
      kind: 'channel-manager',
      idempotencyKey: 'k1',
      providerEventType: 'rate_update',
      canonicalType: 'ari.update',
      status: 'enqueued',
      occurredAt: '2026-06-01T10:00:00.000Z',
      receivedAt: '2026-06-01T10:00:00.200Z',
      updatedAt: '2026-06-01T10:00:00.250Z',
      deliveryCount: 2,
      messageId: 'msg-1',
      expiresAt: 1_783_000_000,
      lastError: 'dead-lettered after 5 receives: Error: boom',
      lastErrorAt: '2026-06-01T10:05:00.000Z',
    });
    const { status, json } = await call('GET', '/deliveries/evt_1');
    expect(status).toBe(200);
    expect(json).toMatchObject({
      eventId: 'evt_1',
      status: 'enqueued',
      lastError: 'dead-lettered after 5 receives: Error: boom',
      lastErrorAt: '2026-06-01T10:05:00.000Z',
      deliveryCount: 2,
      receivedAt: '2026-06-01T10:00:00.200Z',
      expiresAt: new Date(1_783_000_000_000).toISOString(),
    });
  });

  it('routes by the resource and path parameters API Gateway matched, when it matched one of these routes', async () => {
    const result = await handler({
      httpMethod: 'GET',
      resource: '/reservations/{id}',
      // With a custom domain's base path the path carries a prefix; the resource and parameters do not.
      path: '/v1/reservations/pms-demo%3AR-2',
      pathParameters: { id: 'pms-demo:R-2' },
      queryStringParameters: null,
      headers: {},
      body: null,
      isBase64Encoded: false,
      requestContext: { requestId: 'req-2' },
    } as unknown as APIGatewayProxyEvent);
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body)).toMatchObject({
      error: 'reservation_not_found',
      message: expect.stringContaining('pms-demo:R-2'),
    });
  });

  it('answers 404 for an unknown route and 405 for a known one with the wrong method', async () => {
    expect(await call('GET', '/nothing/here')).toMatchObject({
      status: 404,
      json: { error: 'route_not_found' },
    });
    expect(await call('DELETE', '/deliveries/evt_1')).toMatchObject({
      status: 405,
      json: { error: 'method_not_allowed' },
    });
  });
});

describe('GET /parity', () => {
  const nightKey = (date: string, roomTypeId = 'dbl'): ParityNightKey => ({
    propertyId: 'lisbon-01',
    roomTypeId,
    ratePlanId: 'bar',
    date,
  });
  const undercut = (key: ParityNightKey, channelMinor: number): ParityFinding => ({
    kind: 'price',
    key,
    truthChannel: 'pms-demo',
    channel: 'cm-demo:booking',
    truthRate: { amountMinor: 13_000, currency: 'EUR' },
    channelRate: { amountMinor: channelMinor, currency: 'EUR' },
    difference: channelMinor - 13_000,
    percent: (Math.abs(channelMinor - 13_000) / 13_000) * 100,
  });
  async function putNights(dates: readonly string[]) {
    for (const date of dates) {
      const key = nightKey(date);
      await parity.putNight({
        key,
        findings: [undercut(key, 12_350)],
        checkedAt: '2026-06-01T11:45:00.000Z',
      });
    }
  }

  it('answers the nights with findings, money as minor units, currency and a decimal amount', async () => {
    const key = nightKey('2026-07-02');
    await parity.putNight({
      key,
      findings: [
        undercut(key, 12_995),
        {
          kind: 'currency_mismatch',
          key,
          truthChannel: 'pms-demo',
          channel: 'cm-demo:jp',
          truthRate: { amountMinor: 13_000, currency: 'EUR' },
          channelRate: { amountMinor: 21_000, currency: 'JPY' },
        },
      ],
      checkedAt: '2026-06-01T11:45:00.000Z',
    });
    await parity.putNight({
      key: nightKey('2026-07-03'),
      findings: [],
      checkedAt: '2026-06-01T11:45:00.000Z',
    });
    await parity.putNight({
      key: { ...nightKey('2026-07-02'), propertyId: 'porto-01' },
      findings: [undercut({ ...key, propertyId: 'porto-01' }, 1)],
      checkedAt: '2026-06-01T11:45:00.000Z',
    });

    const { status, json } = await call('GET', '/parity', {
      propertyId: 'lisbon-01',
      from: '2026-07-01',
      to: '2026-07-31',
    });
    expect(status).toBe(200);
    expect(json).toEqual({
      propertyId: 'lisbon-01',
      from: '2026-07-01',
      to: '2026-07-31',
      nights: [
        {
          date: '2026-07-02',
          roomTypeId: 'dbl',
          ratePlanId: 'bar',
          checkedAt: '2026-06-01T11:45:00.000Z',
          findings: [
            {
              kind: 'price',
              truthChannel: 'pms-demo',
              channel: 'cm-demo:booking',
              truthRate: { amountMinor: 13_000, currency: 'EUR', amount: '130.00' },
              channelRate: { amountMinor: 12_995, currency: 'EUR', amount: '129.95' },
              difference: { amountMinor: -5, currency: 'EUR', amount: '-0.05' },
              percent: (5 / 13_000) * 100,
            },
            {
              kind: 'currency_mismatch',
              truthChannel: 'pms-demo',
              channel: 'cm-demo:jp',
              truthRate: { amountMinor: 13_000, currency: 'EUR', amount: '130.00' },
              channelRate: { amountMinor: 21_000, currency: 'JPY', amount: '21000' },
            },
          ],
        },
      ],
      nextCursor: null,
    });
    expect(parity.queries).toEqual([
      { propertyId: 'lisbon-01', from: '2026-07-01', to: '2026-07-31', limit: 100 },
    ]);
  });

  it('pages with limit, takes its nextCursor back as the cursor parameter, and ends with a null nextCursor', async () => {
    await putNights(['2026-07-01', '2026-07-02', '2026-07-03']);
    const query = { propertyId: 'lisbon-01', from: '2026-07-01', to: '2026-07-03', limit: '2' };
    const first = await call('GET', '/parity', query);
    expect((first.json.nights as { date: string }[]).map((n) => n.date)).toEqual([
      '2026-07-01',
      '2026-07-02',
    ]);
    expect(first.json.nextCursor).toEqual(expect.any(String));
    expect(first.json).not.toHaveProperty('cursor');

    const second = await call('GET', '/parity', { ...query, cursor: String(first.json.nextCursor) });
    expect(second.status).toBe(200);
    expect((second.json.nights as { date: string }[]).map((n) => n.date)).toEqual(['2026-07-03']);
    expect(second.json.nextCursor).toBeNull();
    expect(second.json).not.toHaveProperty('cursor');
    expect(parity.queries[1]).toEqual({ ...query, limit: 2, cursor: first.json.nextCursor });
  });

  it('answers an empty list for a property without findings', async () => {
    const { status, json } = await call('GET', '/parity', {
      propertyId: 'p',
      from: '2026-07-01',
      to: '2026-07-01',
    });
    expect(status).toBe(200);
    expect(json).toEqual({
      propertyId: 'p',
      from: '2026-07-01',
      to: '2026-07-01',
      nights: [],
      nextCursor: null,
    });
  });

  it.each([
    [{ from: '2026-07-01', to: '2026-07-02' }, 'propertyId'],
    [{ propertyId: '', from: '2026-07-01', to: '2026-07-02' }, 'propertyId'],
    [{ propertyId: 'p', to: '2026-07-01' }, 'from'],
    [{ propertyId: 'p', from: '2026-07-01' }, 'to'],
    [{ propertyId: 'p', from: '2026-02-30', to: '2026-03-01' }, 'from'],
    [{ propertyId: 'p', from: '2026-07-01', to: '07/02/2026' }, 'to'],
    [{ propertyId: 'p', from: '2026-07-02', to: '2026-07-01' }, 'to'],
    [{ propertyId: 'p', from: '2026-01-01', to: '2027-01-02' }, 'to'],
    [{ propertyId: 'p', from: '2026-07-01', to: '2026-07-02', limit: '0' }, 'limit'],
    [{ propertyId: 'p', from: '2026-07-01', to: '2026-07-02', limit: '501' }, 'limit'],
    [{ propertyId: 'p', from: '2026-07-01', to: '2026-07-02', limit: 'ten' }, 'limit'],
    [{ propertyId: 'p', from: '2026-07-01', to: '2026-07-02', cursor: '' }, 'cursor'],
    [{ propertyId: 'p', from: '2026-07-01', to: '2026-07-02', roomType: 'dbl' }, 'roomType'],
  ])('answers 400 naming the parameter for %j', async (query, parameter) => {
    const { status, json } = await call('GET', '/parity', query);
    expect(status).toBe(400);
    expect(json.error).toBe('invalid_query');
    expect(json.message).toEqual(expect.stringContaining(parameter));
    expect(fieldPaths(json)).toEqual([parameter]);
    expect(parity.queries).toEqual([]);
  });

  it('accepts 366 dates and refuses 367 with the same message as the ARI route', async () => {
    const accepted = await call('GET', '/parity', { propertyId: 'p', from: '2028-01-01', to: '2028-12-31' });
    expect(accepted.status).toBe(200);
    const refused = await call('GET', '/parity', { propertyId: 'p', from: '2028-01-01', to: '2029-01-01' });
    expect(refused.json.fields).toEqual([
      { path: 'to', message: 'the range covers 367 dates; at most 366 are read at once, split it' },
    ]);
  });

  it('answers 405 for a method other than GET', async () => {
    expect((await call('POST', '/parity', {}, '{}')).status).toBe(405);
  });
});

describe('GET /review', () => {
  it('lists parked events page by page, without their payload', async () => {
    for (const id of ['evt_a', 'evt_b', 'evt_c']) await review.park(parkedAri(id, `RT-${id}`));
    const first = await call('GET', '/review', { limit: '2' });
    expect(first.status).toBe(200);
    expect((first.json.items as { eventId: string }[]).map((item) => item.eventId)).toEqual([
      'evt_a',
      'evt_b',
    ]);
    expect(first.json.items).toContainEqual({
      eventId: 'evt_a',
      sourceId: 'cm-demo',
      kind: 'channel-manager',
      type: 'ari.update',
      providerEventType: 'rate_update',
      occurredAt: '2026-06-01T11:00:00.000Z',
      reason: 'no roomType mapping for external id "RT-evt_a"',
      waitingFor: 'roomType|RT-evt_a',
      parkedAt: '2026-06-01T11:00:01.000Z',
    });
    const second = await call('GET', '/review', { limit: '2', cursor: String(first.json.nextCursor) });
    expect((second.json.items as { eventId: string }[]).map((item) => item.eventId)).toEqual(['evt_c']);
    expect(second.json.nextCursor).toBeNull();
  });

  it('refuses a bad limit naming it', async () => {
    const { status, json } = await call('GET', '/review', { limit: '-1' });
    expect(status).toBe(400);
    expect(fieldPaths(json)).toEqual(['limit']);
  });
});

describe('PUT /mappings/{scope}/{entity}/{externalId}', () => {
  it('stores the mapping and puts every event waiting for it back on the queue', async () => {
    await review.park(parkedAri('evt_1', 'DBL'));
    await review.park(parkedAri('evt_2', 'DBL'));
    await review.park(parkedAri('evt_3', 'TWN'));
    const { status, json } = await call(
      'PUT',
      '/mappings/cm-demo/roomType/DBL',
      {},
      JSON.stringify({ internalId: 'dbl', propertyId: 'lisbon-01' }),
    );
    expect(status).toBe(200);
    expect(json).toEqual({
      mapping: {
        scope: 'cm-demo',
        entity: 'roomType',
        externalId: 'DBL',
        internalId: 'dbl',
        propertyId: 'lisbon-01',
      },
      released: 2,
    });
    expect(await mappingStore.get({ scope: 'cm-demo', entity: 'roomType', externalId: 'DBL' })).toEqual({
      internalId: 'dbl',
      propertyId: 'lisbon-01',
    });
    expect(requeued.map((event) => event.eventId).sort()).toEqual(['evt_1', 'evt_2']);
  });

  it('accepts * as the scope and releases nothing when nothing waits', async () => {
    const { status, json } = await call('PUT', '/mappings/*/ratePlan/BAR', {}, '{"internalId":"bar"}');
    expect(status).toBe(200);
    expect(json.released).toBe(0);
  });

  it.each([
    ['/mappings/cm-demo/hotel/X', '{"internalId":"x"}', 'invalid_path', ['entity']],
    ['/mappings/nobody/property/X', '{"internalId":"x"}', 'invalid_path', ['scope']],
    ['/mappings/cm-demo/property/X', '{}', 'invalid_body', ['internalId']],
    ['/mappings/cm-demo/property/X', '{"internalId":"x","colour":"red"}', 'invalid_body', ['colour']],
    ['/mappings/cm-demo/ratePlan/X', '{"internalId":"x","propertyId":"p"}', 'invalid_body', ['propertyId']],
    ['/mappings/nobody/hotel/X', '{"internalId":"x"}', 'invalid_path', ['scope', 'entity']],
  ])('refuses PUT %s %s with 400 %s naming the field', async (path, body, code, fields) => {
    const { status, json } = await call('PUT', path, {}, body);
    expect(status).toBe(400);
    expect(json.error).toBe(code);
    expect(fieldPaths(json)).toEqual(fields);
    expect(requeued).toEqual([]);
  });

  it('refuses a body that is not strict JSON', async () => {
    const duplicate = await call(
      'PUT',
      '/mappings/cm-demo/property/X',
      {},
      '{"internalId":"a","internalId":"b"}',
    );
    expect(duplicate).toMatchObject({ status: 400, json: { error: 'duplicate_key' } });
    const missing = await call('PUT', '/mappings/cm-demo/property/X');
    expect(missing).toMatchObject({ status: 400, json: { error: 'invalid_body' } });
  });
});

describe('when a store fails', () => {
  const event = (path: string) =>
    ({
      httpMethod: 'GET',
      resource: '/{proxy+}',
      path,
      pathParameters: { proxy: path.slice(1) },
      queryStringParameters: null,
      headers: {},
      body: null,
      isBase64Encoded: false,
      requestContext: { requestId: 'req-7' },
    }) as unknown as APIGatewayProxyEvent;

  function handlerWith(deliveriesGet: (eventId: string) => Promise<DeliveryRecord | undefined>) {
    const deps: ReadApiDependencies = {
      ari,
      reservations,
      deliveries: {
        get: deliveriesGet,
        getWithEvent: async (eventId) => {
          const entry = await deliveriesGet(eventId);
          return entry === undefined ? undefined : { entry };
        },
      },
      deliveryLog: new InMemoryLedger(),
      dedupeWindowSeconds: 30 * 86_400,
      review,
      parity,
      rejections: new InMemoryRejectionLog(),
      mappings: new MappingResolver(mappingStore, [], clock),
      requeue: async () => {},
      clock,
      sourceIds: new Set(['cm-demo']),
      ...operationsFakes(),
    };
    return createReadApiHandler(deps, new Logger({ serviceName: 'read-test', logLevel: 'SILENT' }));
  }

  /** A port nothing listens on: DynamoDB there is as unreachable as a stopped DynamoDB Local. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('answers 503 store_unavailable with Retry-After when DynamoDB cannot be reached', async () => {
    const dynamodb = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const ledger = new DynamoDbDeliveryLedger(dynamodb, 'paritysync-delivery-ledger');
    try {
      const result = await handlerWith((eventId) => ledger.get(eventId))(event('/deliveries/evt_1'));
      expect(result.statusCode).toBe(503);
      expect(result.headers).toEqual({ 'content-type': 'application/json', 'retry-after': '5' });
      const body = JSON.parse(result.body) as Record<string, unknown>;
      expect(body.error).toBe('store_unavailable');
      expect(String(body.message)).toMatch(/ECONNREFUSED.*Retry it in 5 seconds/);
    } finally {
      dynamodb.destroy();
    }
  });

  it('answers 503 when DynamoDB throttles the read', async () => {
    const throttled = new ProvisionedThroughputExceededException({
      message: 'The level of configured provisioned throughput for the table was exceeded.',
      $metadata: { httpStatusCode: 400 },
    });
    const result = await handlerWith(async () => {
      throw throttled;
    })(event('/deliveries/evt_1'));
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('5');
    expect(JSON.parse(result.body)).toMatchObject({ error: 'store_unavailable' });
  });

  it('keeps 500 for a fault in the code, naming the request id and without Retry-After', async () => {
    const result = await handlerWith(async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'S')");
    })(event('/deliveries/evt_1'));
    expect(result.statusCode).toBe(500);
    expect(result.headers).toEqual({ 'content-type': 'application/json' });
    const body = JSON.parse(result.body) as Record<string, unknown>;
    expect(body.error).toBe('internal_error');
    expect(String(body.message)).toMatch(/retrying will not help.*request id req-7/);
  });
});

describe('the status of a refusal', () => {
  it('answers 400 with the store’s own code and message when the store refuses the cursor', async () => {
    const refusal = new InvalidCursorError('it names another property');
    parity.list = async () => {
      throw refusal;
    };
    const { status, json } = await call('GET', '/parity', {
      propertyId: 'p',
      from: '2026-07-01',
      to: '2026-07-02',
      cursor: 'eyJvdGhlciI6MX0',
    });
    expect(status).toBe(400);
    expect(json).toEqual({ error: 'invalid_cursor', message: refusal.message });
  });

  it('answers 500 for an error the read API never raises, whatever its class', async () => {
    reservations.get = async () => {
      throw new DeliveryInProgressError('delivery_in_progress', 'Another delivery is being made durable.');
    };
    const { status, json } = await call('GET', '/reservations/pms-demo:R-1');
    expect(status).toBe(500);
    expect(json).toMatchObject({ error: 'internal_error', message: expect.stringContaining('req-1') });
  });
});
