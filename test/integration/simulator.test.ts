import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { channelManagerAdapter } from '../../lambdas/adapters/channel-manager';
import { parseConfig } from '../../lambdas/config/load';
import { SourceConfigSchema } from '../../lambdas/config/schema';
import { type CanonicalEvent, SOURCE_KINDS, type SourceKind } from '../../lambdas/domain/canonical';
import { toMinorUnits } from '../../lambdas/domain/money';
import { fixedClock } from '../../lambdas/shared/clock';
import { nodeCrypto } from '../../lambdas/shared/crypto';
import { EVENTS_QUEUE } from '../../lambdas/shared/topology';
import { senderFor } from '../../local/senders';
import {
  canonicalRestrictions,
  type DemoDataset,
  generateDataset,
  mutateShare,
  nightKey,
  type PollingRecord,
  type RoomNight,
  seededRandom,
  toPollingRecord,
} from '../../local/simulator/dataset';
import { type InventoryPage, type Simulator, startSimulator } from '../../local/simulator/server';
import {
  ARI_DELIVERY_KINDS,
  type AriDeliveryKind,
  eventIdFor,
  sendDeliveries,
  sendSampleEvents,
} from '../../local/simulator/webhooks';
import { type LocalStack, startLocalStack } from '../../local/start';
import { emulatorEndpoints, localClients } from '../support/aws';

// One JSON log line per delivery would bury the test output; warnings and errors still show.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const TOKEN = 'simulator-test-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((simulator) => simulator.stop()));
});

async function start(options: Partial<Parameters<typeof startSimulator>[0]> & { dataset: DemoDataset }) {
  const simulator = await startSimulator({ port: 0, token: TOKEN, random: seededRandom(1), ...options });
  running.push(simulator);
  return simulator;
}

async function getPage(
  simulator: Simulator,
  query: Record<string, string>,
  headers: Record<string, string> = AUTH,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${simulator.url}/inventory?${new URLSearchParams(query)}`, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as never };
}

const recordKey = (record: PollingRecord) =>
  `${record.property_id}|${record.room_type_code}|${record.rate_plan_code}|${record.date}`;

/** Follows next_cursor to the end; `between` runs after every page that has a successor. */
async function scan(
  simulator: Simulator,
  limit: number,
  between: (pageIndex: number) => void = () => {},
): Promise<{ records: PollingRecord[]; pages: number }> {
  const records: PollingRecord[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: Record<string, string> = { limit: String(limit) };
    if (cursor !== null) query.cursor = cursor;
    const { status, body } = await getPage(simulator, query);
    expect(status).toBe(200);
    const page = body as unknown as InventoryPage;
    records.push(...page.results);
    cursor = page.next_cursor;
    if (cursor !== null) between(pages);
    pages++;
    // A scan whose changes outpace its pages would chase its tail; fail plainly rather than time out.
    if (pages > 1000) throw new Error('scan did not finish within 1000 pages');
  } while (cursor !== null);
  return { records, pages };
}

describe('demo data set', () => {
  it('is the same for the same seed and differs for another', () => {
    const records = (seed: number) => generateDataset({ seed, nights: 250 }).nights().map(toPollingRecord);
    expect(records(42)).toEqual(records(42));
    expect(records(43)).not.toEqual(records(42));
  });

  it('builds exactly N distinct nights with well-formed values', () => {
    const dataset = generateDataset({ seed: 5, nights: 101, properties: ['H1', 'H2'] });
    const nights = dataset.nights();
    expect(nights).toHaveLength(101);
    expect(new Set(nights.map(nightKey)).size).toBe(101);
    expect(new Set(nights.map((night) => night.propertyId))).toEqual(new Set(['H1', 'H2']));
    for (const night of nights) {
      expect(night.baseRate).toMatch(/^[1-9][0-9]*\.[0-9]{2}$/);
      expect(Number.isInteger(night.availability) && night.availability >= 0).toBe(true);
      expect(night.restrictions.minLengthOfStay).toBeGreaterThanOrEqual(1);
      expect(new Date(night.updatedAt).toISOString()).toBe(night.updatedAt);
    }
    const record = toPollingRecord(nights[0] as (typeof nights)[number]);
    expect(Object.keys(record).sort()).toEqual(
      [
        'availability',
        'base_rate',
        'currency',
        'date',
        'property_id',
        'rate_plan_code',
        'restrictions',
        'room_type_code',
        'updated_at',
      ].sort(),
    );
    expect(record.currency).toBe('EUR');
    expect(record.restrictions).toMatchObject({
      min_length_of_stay: expect.any(Number),
      closed_to_arrival: expect.any(Boolean),
      closed_to_departure: expect.any(Boolean),
    });
  });

  it('mutates exactly the share asked for, reproducibly, and leaves the rest alone', () => {
    const run = () => {
      const dataset = generateDataset({ seed: 9, nights: 300 });
      const before = new Map(dataset.nights().map((night) => [nightKey(night), night]));
      const at = new Date('2026-05-02T00:00:00.000Z');
      const changes = mutateShare(dataset, { share: 0.1, at, random: seededRandom(77) });
      return { dataset, before, at, changes };
    };
    const { dataset, before, at, changes } = run();
    expect(changes).toHaveLength(30);
    const changed = new Set(changes.map(nightKey));
    expect(changed.size).toBe(30);
    for (const night of dataset.nights()) {
      const previous = before.get(nightKey(night));
      if (changed.has(nightKey(night))) {
        expect(night.updatedAt).toBe(at.toISOString());
        expect(night.baseRate).not.toBe(previous?.baseRate);
        expect(Number(night.baseRate)).toBeGreaterThan(0);
      } else {
        expect(night).toBe(previous);
      }
    }
    expect(run().changes).toEqual(changes);
  });

  it('refuses a mutation time that does not move updated_at forward', () => {
    const dataset = generateDataset({ seed: 1, nights: 10 });
    const latest = new Date(dataset.latestUpdatedAtMs);
    expect(() => mutateShare(dataset, { share: 0.5, at: latest, random: seededRandom(1) })).toThrow(
      /must be later than the latest updated_at/,
    );
  });
});

describe('polling API', () => {
  it('listens on 127.0.0.1 only', async () => {
    const simulator = await start({ dataset: generateDataset({ seed: 1, nights: 5 }) });
    const url = new URL(simulator.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect((await getPage(simulator, { limit: '5' })).status).toBe(200);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && !address.internal && address.family === 'IPv4');
    // Where the machine has another interface, the port must not answer on it.
    if (external) {
      await expect(
        fetch(`http://${external.address}:${url.port}/inventory`, { headers: AUTH }),
      ).rejects.toThrow();
    }
    await expect(
      startSimulator({
        port: 0,
        host: '0.0.0.0' as '127.0.0.1',
        token: TOKEN,
        dataset: generateDataset({ seed: 1, nights: 1 }),
        random: seededRandom(1),
      }),
    ).rejects.toThrow(/host/);
  });

  it('requires the bearer token', async () => {
    const simulator = await start({ dataset: generateDataset({ seed: 1, nights: 5 }) });
    const refused: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-value' },
      { authorization: TOKEN },
    ];
    for (const headers of refused) {
      const response = await getPage(simulator, {}, headers);
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('unauthorized');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await getPage(simulator, {}, { authorization: `bearer ${TOKEN}` })).status).toBe(200);
    expect(simulator.stats()).toMatchObject({ requests: 4, unauthorized: 3, pagesServed: 1 });
  });

  it('validates limit, cursor and updated_after', async () => {
    const simulator = await start({ dataset: generateDataset({ seed: 1, nights: 20 }) });
    for (const limit of ['0', '1001', 'ten', '', '-1', '2.5']) {
      const response = await getPage(simulator, { limit });
      expect(response.status, `limit=${limit}`).toBe(400);
      expect(String(response.body.message)).toContain('limit');
    }
    expect((await getPage(simulator, { limit: '1000' })).status).toBe(200);
    expect((await getPage(simulator, { limit: '1' })).status).toBe(200);
    expect((await getPage(simulator, { cursor: 'not-a-cursor' })).status).toBe(400);
    expect((await getPage(simulator, { updated_after: '2026-05-01 00:00' })).status).toBe(400);
    const twice = await fetch(`${simulator.url}/inventory?limit=1&limit=2`, { headers: AUTH });
    expect(twice.status).toBe(400);
    expect(simulator.stats().badRequests).toBe(9);
  });

  it('pages over every record exactly once in (updated_at, key) order', async () => {
    const dataset = generateDataset({ seed: 3, nights: 200, updateSpreadSeconds: 60 });
    const simulator = await start({ dataset });
    const { records, pages } = await scan(simulator, 7);
    expect(pages).toBe(Math.ceil(200 / 7));
    expect(records.map(recordKey).sort()).toEqual(dataset.nights().map(nightKey).sort());
    const positions = records.map((record) => [record.updated_at, recordKey(record)] as const);
    const sorted = [...positions].sort(([ta, ka], [tb, kb]) =>
      ta === tb ? (ka < kb ? -1 : 1) : ta < tb ? -1 : 1,
    );
    expect(positions).toEqual(sorted);
    // 200 records over 61 possible seconds: ties exist, so the key really breaks them.
    expect(new Set(records.map((record) => record.updated_at)).size).toBeLessThan(200);
    expect(simulator.stats()).toMatchObject({ pagesServed: pages, recordsServed: 200 });
  });

  it('treats updated_after as inclusive', async () => {
    const dataset = generateDataset({ seed: 4, nights: 120, updateSpreadSeconds: 30 });
    const simulator = await start({ dataset });
    const ordered = dataset.byUpdate();
    const watermark = (ordered[60] as (typeof ordered)[number]).night.updatedAt;
    const expected = dataset
      .nights()
      .filter((night) => night.updatedAt >= watermark)
      .map(nightKey)
      .sort();
    const { body } = await getPage(simulator, { limit: '1000', updated_after: watermark });
    const page = body as unknown as InventoryPage;
    expect(page.results.map(recordKey).sort()).toEqual(expected);
    expect(page.results.some((record) => record.updated_at === watermark)).toBe(true);
    expect(page.next_cursor).toBeNull();
  });

  it('loses nothing when records change between pages; only changed records come twice', async () => {
    const dataset = generateDataset({ seed: 11, nights: 240, updateSpreadSeconds: 120 });
    const simulator = await start({ dataset });
    const random = seededRandom(99);
    const mutatedDuringScan = new Set<string>();
    let at = dataset.latestUpdatedAtMs;
    const { records } = await scan(simulator, 9, () => {
      at += 1000;
      for (const night of mutateShare(dataset, { share: 0.01, at: new Date(at), random })) {
        mutatedDuringScan.add(nightKey(night));
      }
    });
    expect(mutatedDuringScan.size).toBeGreaterThan(30);

    const seen = new Map<string, PollingRecord[]>();
    for (const record of records)
      seen.set(recordKey(record), [...(seen.get(recordKey(record)) ?? []), record]);
    expect([...seen.keys()].sort()).toEqual(dataset.nights().map(nightKey).sort());
    const duplicated = [...seen].filter(([, copies]) => copies.length > 1).map(([key]) => key);
    expect(duplicated.length).toBeGreaterThan(0);
    for (const key of duplicated) expect(mutatedDuringScan.has(key)).toBe(true);
    // Every change made before the last page was reached is seen in its final state.
    for (const night of dataset.nights()) {
      expect(seen.get(nightKey(night))?.at(-1)).toEqual(toPollingRecord(night));
    }
  });

  it('answers 429 with Retry-After once the token bucket is empty', async () => {
    let nowMs = Date.parse('2026-05-01T00:00:00Z');
    const clock = { now: () => new Date(nowMs) };
    const simulator = await start({
      dataset: generateDataset({ seed: 1, nights: 5 }),
      rateLimit: { requestsPerSecond: 2, burst: 3 },
      clock,
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await getPage(simulator, {})).status);
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await getPage(simulator, {});
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toMatchObject({ error: 'rate_limited', retry_after_seconds: 1 });

    nowMs += 500; // half a second at 2/s refills one token
    expect((await getPage(simulator, {})).status).toBe(200);
    expect((await getPage(simulator, {})).status).toBe(429);

    simulator.setRateLimit({ requestsPerSecond: 0.1, burst: 1 });
    expect((await getPage(simulator, {})).status).toBe(200);
    const slowRefill = await getPage(simulator, {});
    expect(slowRefill.headers.get('retry-after')).toBe('10');

    simulator.setRateLimit(undefined);
    expect((await getPage(simulator, {})).status).toBe(200);
    expect(simulator.stats()).toMatchObject({ rateLimited: 3, pagesServed: 6 });
  });

  it('pages one property when asked for property_id, in the same order, missing nothing', async () => {
    const dataset = generateDataset({ seed: 3, nights: 240, properties: ['H1', 'H2', 'H3'] });
    const simulator = await start({ dataset });
    const records: PollingRecord[] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string> = { limit: '25', property_id: 'H2' };
      if (cursor !== null) query.cursor = cursor;
      const { status, body } = await getPage(simulator, query);
      expect(status).toBe(200);
      const page = body as unknown as InventoryPage;
      records.push(...page.results);
      cursor = page.next_cursor;
    } while (cursor !== null);

    const expected = dataset
      .byUpdate()
      .filter((entry) => entry.night.propertyId === 'H2')
      .map((entry) => toPollingRecord(entry.night));
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(dataset.size);
    expect(records).toEqual(expected);
  });

  it('answers 429 once a property has used its quota for the minute, without touching the others', async () => {
    let nowMs = Date.parse('2026-05-01T00:00:00Z');
    const clock = { now: () => new Date(nowMs) };
    const simulator = await start({
      dataset: generateDataset({ seed: 1, nights: 20, properties: ['H1', 'H2'] }),
      rateLimit: { requestsPerSecond: 1000, burst: 1000, perPropertyPerMinute: 2 },
      clock,
    });
    const statusOf = async (property: string) => (await getPage(simulator, { property_id: property })).status;
    expect([await statusOf('H1'), await statusOf('H1')]).toEqual([200, 200]);
    const limited = await getPage(simulator, { property_id: 'H1' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(limited.body).toMatchObject({ error: 'rate_limited', retry_after_seconds: 30 });
    expect(await statusOf('H2')).toBe(200);
    // Requests that name no property are charged to the source-wide bucket only.
    expect((await getPage(simulator, {})).status).toBe(200);

    nowMs += 30_000; // half a minute at 2 a minute refills one request
    expect(await statusOf('H1')).toBe(200);
    expect(await statusOf('H1')).toBe(429);
  });

  it('injects 500/503 faults at the configured rate, replayably for a seed', async () => {
    const dataset = generateDataset({ seed: 1, nights: 5 });
    const errorRate = 0.2;
    const statusesFor = async (seed: number) => {
      const simulator = await start({ dataset, random: seededRandom(seed), faults: { errorRate } });
      const statuses: number[] = [];
      for (let i = 0; i < 300; i++) statuses.push((await getPage(simulator, { limit: '1' })).status);
      return { simulator, statuses };
    };
    const { simulator, statuses } = await statusesFor(2024);
    const faults = statuses.filter((status) => status !== 200).length;
    expect(simulator.stats().faults).toBe(faults);
    expect(new Set(statuses)).toEqual(new Set([200, 500, 503]));
    // Binomial(300, 0.2): mean 60, sd ≈ 6.9.
    expect(faults).toBeGreaterThan(40);
    expect(faults).toBeLessThan(80);

    // The documented draw order, replayed: one draw for "error?", one more for "500 or 503?".
    const replay = seededRandom(2024);
    const expected = statuses.map(() => (replay() < errorRate ? (replay() < 0.5 ? 500 : 503) : 200));
    expect(statuses).toEqual(expected);
    expect((await statusesFor(2024)).statuses).toEqual(statuses);

    simulator.setFaults(undefined);
    expect((await getPage(simulator, {})).status).toBe(200);
  });

  it('delays requests by slowMs at the configured rate', async () => {
    const simulator = await start({
      dataset: generateDataset({ seed: 1, nights: 5 }),
      faults: { slowRate: 1, slowMs: 150 },
    });
    const startedAt = performance.now();
    expect((await getPage(simulator, {})).status).toBe(200);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140);
    simulator.setFaults({ slowRate: 0.5, slowMs: 1 });
    for (let i = 0; i < 40; i++) await getPage(simulator, {});
    const replay = seededRandom(1);
    replay(); // the first request's slow draw
    const expectedSlow = 1 + Array.from({ length: 40 }, () => replay() < 0.5).filter(Boolean).length;
    expect(simulator.stats().slow).toBe(expectedSlow);
  });
});

describe('webhook deliveries', () => {
  const SECRET = 'maJeZpKSAw7K5Kok6D6C5q52K2xfrmrJ5JH5O3ebpg0=';
  let receiver: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    receiver = undefined;
  });

  /** A stand-in edge that checks the channel manager's HMAC itself, then runs the product's own parser. */
  async function startReceiver(): Promise<{
    url: string;
    accepted: Record<string, unknown>[];
    rejected: number;
  }> {
    const state = { url: '', accepted: [] as Record<string, unknown>[], rejected: 0 };
    const source = SourceConfigSchema.parse({
      id: 'channel-manager-sim',
      kind: 'channel-manager',
      secrets: [{ value: SECRET }],
    });
    const read = (request: IncomingMessage) =>
      new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => resolve(Buffer.concat(chunks)));
      });
    receiver = createServer(async (request, response) => {
      const body = await read(request);
      const expected = createHmac('sha256', SECRET).update(body).digest();
      const presented = Buffer.from(String(request.headers['x-channel-signature'] ?? ''), 'hex');
      const valid =
        request.url === '/webhooks/channel-manager-sim' &&
        presented.length === expected.length &&
        timingSafeEqual(presented, expected);
      if (!valid) {
        state.rejected++;
        response.writeHead(401).end();
        return;
      }
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      const context = {
        source,
        secrets: [SECRET],
        toleranceSeconds: 300,
        clock: fixedClock(Number(request.headers['x-channel-timestamp']) * 1000),
        crypto: nodeCrypto,
      };
      const deliveryRequest = { headers: request.headers as Record<string, string>, rawBody: body };
      const verified = channelManagerAdapter.verify(deliveryRequest, context);
      channelManagerAdapter.normalise(parsed, deliveryRequest, verified, context);
      state.accepted.push(parsed);
      response.writeHead(202).end();
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
    state.url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    return state;
  }

  it('signs every delivery, drops exactly the seeded share, and reports the dropped keys', async () => {
    const edge = await startReceiver();
    const dataset = generateDataset({ seed: 21, nights: 120 });
    const changes = mutateShare(dataset, {
      share: 0.5,
      at: new Date(dataset.latestUpdatedAtMs + 1000),
      random: seededRandom(5),
    });
    const dropRate = 0.3;
    const report = await sendDeliveries({
      edgeUrl: edge.url,
      source: { id: 'channel-manager-sim', secret: SECRET },
      changes,
      dropRate,
      random: seededRandom(8),
    });

    const replay = seededRandom(8);
    const expectedDropped = changes.filter(() => replay() < dropRate).map(nightKey);
    expect(report.droppedKeys).toEqual(expectedDropped);
    expect(report).toMatchObject({
      dropped: expectedDropped.length,
      sent: 60 - expectedDropped.length,
      failed: 0,
    });
    expect(report.dropped).toBeGreaterThan(8);
    expect(report.dropped).toBeLessThan(30);
    expect(edge.rejected).toBe(0);

    const receivedKeys = edge.accepted.map(
      (payload) =>
        `${payload.property_id}|${payload.room_type_external_id}|${payload.rate_plan_code}|${(payload.date_range as string[])[0]}`,
    );
    expect(new Set(receivedKeys).size).toBe(receivedKeys.length);
    expect([...receivedKeys, ...report.droppedKeys].sort()).toEqual(changes.map(nightKey).sort());

    const byKey = new Map(changes.map((night) => [nightKey(night), night]));
    for (const [index, payload] of edge.accepted.entries()) {
      const night = byKey.get(receivedKeys[index] as string);
      if (!night) throw new Error(`unexpected delivery ${receivedKeys[index]}`);
      expect(payload).toMatchObject({
        event_id: eventIdFor(night),
        date_range: [night.date, night.date],
        currency: 'EUR',
        base_rate: Number(night.baseRate),
        inventory_count: night.availability,
      });
    }
  });

  it('counts deliveries the edge refuses as failed', async () => {
    const edge = await startReceiver();
    const dataset = generateDataset({ seed: 2, nights: 10 });
    const report = await sendDeliveries({
      edgeUrl: edge.url,
      source: { id: 'channel-manager-sim', secret: 'not-the-configured-secret' },
      changes: dataset.nights(),
      dropRate: 0,
      random: seededRandom(1),
    });
    expect(report).toMatchObject({ sent: 0, dropped: 0, failed: 10, droppedKeys: [] });
    expect(report.failures.every((failure) => failure.status === 401)).toBe(true);
    expect(edge.rejected).toBe(10);
  });
});

describe('webhook deliveries of every kind to the real edge', () => {
  const secretFor = (kind: SourceKind) =>
    kind === 'standard-webhooks'
      ? `whsec_${Buffer.from(`simulator-${kind}-test-key-bytes`).toString('base64')}`
      : `simulator-${kind}-test-secret-${'0123456789abcdef'.repeat(2)}`;
  const sourceId = (kind: SourceKind) => `${kind}-sim`;
  let stack: LocalStack;
  const { sqs } = localClients();

  beforeAll(async () => {
    const config = parseConfig({
      version: 1,
      sources: SOURCE_KINDS.map((kind) => ({
        id: sourceId(kind),
        kind,
        secrets: [{ value: secretFor(kind) }],
        // The platform's published ranges exclude loopback, where the local edge sees every sender.
        ...(kind === 'hospitable' ? { allowedCidrs: ['127.0.0.1/32', '::1/128'] } : {}),
      })),
    });
    // No consumer: the tests read the canonical events off the queue themselves.
    stack = await startLocalStack({
      config,
      emulators: emulatorEndpoints(),
      prefix: `sim${Date.now().toString(36)}`,
      consumer: false,
      reconcileIntervalMs: 0,
      log: () => {},
    });
  });
  afterAll(async () => {
    await stack?.stop();
    sqs.destroy();
  });

  /** Everything on the events queue now: the edge enqueues before it answers, so nothing is still coming. */
  async function drainEvents(): Promise<CanonicalEvent[]> {
    const queueUrl = stack.topology.queues[EVENTS_QUEUE.id]?.url;
    const events: CanonicalEvent[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) return events;
      for (const message of Messages) {
        events.push(JSON.parse(message.Body ?? '{}') as CanonicalEvent);
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
  }

  it.each(ARI_DELIVERY_KINDS)(
    'delivers room-night changes as %s: accepted, the seeded share dropped, rates in minor units',
    async (kind: AriDeliveryKind) => {
      const dataset = generateDataset({ seed: 31, nights: 40 });
      const changes = mutateShare(dataset, {
        share: 0.3,
        at: new Date(dataset.latestUpdatedAtMs + 1000),
        random: seededRandom(5),
      });
      const dropRate = 0.25;
      const send = () =>
        sendDeliveries({
          edgeUrl: stack.url,
          source: { id: sourceId(kind), kind, secret: secretFor(kind) },
          changes,
          dropRate,
          random: seededRandom(13),
        });
      const report = await send();

      const replay = seededRandom(13);
      const expectedDropped = changes.filter(() => replay() < dropRate).map(nightKey);
      expect(expectedDropped.length).toBeGreaterThan(0);
      expect(expectedDropped.length).toBeLessThan(changes.length);
      expect(report).toEqual({
        sent: changes.length - expectedDropped.length,
        dropped: expectedDropped.length,
        failed: 0,
        droppedKeys: expectedDropped,
        failures: [],
      });

      const events = await drainEvents();
      expect(events.every((event) => event.sourceId === sourceId(kind) && event.kind === kind)).toBe(true);
      expect(events).toHaveLength(report.sent);
      const byEventId = new Map(changes.map((night) => [eventIdFor(night), night]));
      const deliveredKeys: string[] = [];
      for (const event of events) {
        const night = byEventId.get(event.idempotencyKey);
        if (!night) throw new Error(`unexpected idempotency key ${event.idempotencyKey}`);
        deliveredKeys.push(nightKey(night));
        if (event.type !== 'ari.update') throw new Error(`expected an ari.update, got ${event.type}`);
        expect(event.data).toMatchObject({
          propertyExternalId: night.propertyId,
          roomTypeExternalId: night.roomTypeCode,
          ratePlanExternalId: night.ratePlanCode,
          dateFrom: night.date,
          dateTo: night.date,
          rate: { amountMinor: toMinorUnits(night.baseRate, 'EUR'), currency: 'EUR' },
          availability: night.availability,
        });
        expect(Number.isInteger(event.data.rate?.amountMinor)).toBe(true);
        // The OTA's rate event has no restrictions; the other two carry the night's in full.
        if (kind !== 'ota') {
          const { restrictions } = night;
          expect(event.data.restrictions).toEqual(canonicalRestrictions(restrictions));
        }
      }
      expect([...deliveredKeys, ...expectedDropped].sort()).toEqual(changes.map(nightKey).sort());

      // The same seed drops the same nights, and the edge takes the re-sent changes as duplicates.
      const again = await send();
      expect(again).toEqual(report);
      expect(await drainEvents()).toEqual([]);

      // A later change of a delivered night is a new event.
      const first = changes.find((night) => !expectedDropped.includes(nightKey(night))) as RoomNight;
      const later = {
        ...first,
        baseRate: '321.09',
        updatedAt: new Date(Date.parse(first.updatedAt) + 1000).toISOString(),
      };
      const laterReport = await sendDeliveries({
        edgeUrl: stack.url,
        source: { id: sourceId(kind), kind, secret: secretFor(kind) },
        changes: [later],
        dropRate: 0,
        random: seededRandom(1),
      });
      expect(laterReport.sent).toBe(1);
      const [newEvent, ...rest] = await drainEvents();
      expect(rest).toEqual([]);
      expect(newEvent).toMatchObject({
        idempotencyKey: eventIdFor(later),
        data: { rate: { amountMinor: 32109, currency: 'EUR' } },
      });
    },
  );

  it('refuses room nights for a kind that cannot carry them', async () => {
    await expect(
      sendDeliveries({
        edgeUrl: stack.url,
        source: { id: sourceId('pms'), kind: 'pms' as AriDeliveryKind, secret: secretFor('pms') },
        changes: [],
        dropRate: 0,
        random: seededRandom(1),
      }),
    ).rejects.toThrow(/pms source cannot carry room nights/);
  });

  it.each(SOURCE_KINDS)(
    'streams %s sample events: all accepted, the seeded share dropped and never seen',
    async (kind: SourceKind) => {
      const { sampleTypes } = senderFor(kind);
      const count = Math.max(10, 2 * sampleTypes.length);
      const dropRate = 0.3;
      let serial = 0;
      const report = await sendSampleEvents({
        edgeUrl: stack.url,
        source: { id: sourceId(kind), kind, secret: secretFor(kind) },
        count,
        dropRate,
        random: seededRandom(17),
        eventId: () => `sim-${kind}-${serial++}`,
      });

      const replay = seededRandom(17);
      const plan = Array.from({ length: count }, (_, index) => ({
        id: `sim-${kind}-${index}`,
        type: sampleTypes[index % sampleTypes.length] as string,
        dropped: replay() < dropRate,
      }));
      const dropped = plan.filter((event) => event.dropped).map((event) => event.id);
      const sent = plan.filter((event) => !event.dropped);
      expect(dropped.length).toBeGreaterThan(0);
      expect(report).toEqual({
        sent: count - dropped.length,
        dropped: dropped.length,
        failed: 0,
        droppedEventIds: dropped,
        sentEventIds: sent.map((event) => event.id),
        failures: [],
      });

      const events = await drainEvents();
      expect(events.length).toBeGreaterThan(0);
      expect(events.length).toBeLessThanOrEqual(report.sent);
      for (const event of events) {
        expect(event.sourceId).toBe(sourceId(kind));
        const text = JSON.stringify(event);
        for (const id of dropped) expect(text).not.toContain(`"${id}"`);
      }
      // Where the provider's idempotency key is an id the sample draws (or the message id), the events on
      // the queue are exactly the ones sent, less the types ParitySync only records.
      if (kind !== 'pms' && kind !== 'hospitable') {
        const applied = sent.filter((event) => event.type !== 'invoice.paid').map((event) => event.id);
        expect(events.map((event) => event.idempotencyKey).sort()).toEqual(applied.sort());
      }
    },
  );

  it('refuses a type the kind does not send', async () => {
    await expect(
      sendSampleEvents({
        edgeUrl: stack.url,
        source: { id: sourceId('ota'), kind: 'ota', secret: secretFor('ota') },
        count: 1,
        types: ['reservation.created'],
        dropRate: 0,
        random: seededRandom(1),
      }),
    ).rejects.toThrow(/ota source sends rate_update; "reservation.created" is not one of them/);
  });
});
