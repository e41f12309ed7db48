import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import { addDays } from '../../lambdas/domain/dates';
import { DynamoDbDeliveryLedger } from '../../lambdas/ledger/dynamodb-ledger';
import { SqsEventQueue } from '../../lambdas/queue/sqs-queue';
import { DELIVERY_LEDGER, EVENTS_DLQ, EVENTS_QUEUE } from '../../lambdas/shared/topology';
import { type LocalStack, startLocalStack } from '../../local/start';
import { emulatorEndpoints, localClients } from '../support/aws';
import { ariUpdate } from '../support/events';
import { eventually } from '../support/eventually';
import { failingRecords } from '../support/failing-consumer';

/**
 * Holding and resuming a source, and redriving the dead-letter queue, on the local stack: the real ingest queue,
 * consumer, read API and stores on the emulators, driven over HTTP as an operator would.
 */

const DEDUPE_WINDOW_SECONDS = 30 * 86_400;

let stack: LocalStack;
let ledger: DynamoDbDeliveryLedger;
let queue: SqsEventQueue;
const clients = localClients();

/** Event ids the consumer must fail without looking at them, until SQS moves them to the DLQ. */
const failing = new Set<string>();

/** The consumer's log lines, captured: they say how often each event was applied. */
const consumerLog: Record<string, unknown>[] = [];
const streams = [process.stdout, process.stderr] as const;
const originalWrites = streams.map((stream) => stream.write.bind(stream));

beforeAll(async () => {
  streams.forEach((stream, index) => {
    const write = originalWrites[index] as (...args: unknown[]) => boolean;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (!text.startsWith('{"level"')) return write(chunk, ...rest);
      for (const line of text.split('\n').filter(Boolean)) consumerLog.push(JSON.parse(line));
      return true;
    }) as typeof stream.write;
  });

  const config = parseConfig(JSON.parse(readFileSync('config/local.example.json', 'utf8')));
  stack = await startLocalStack({
    config,
    emulators: emulatorEndpoints(),
    prefix: `e2eops${randomBytes(4).toString('hex')}`,
    // Failed records come back after one second, so that five receives fit in a few seconds.
    pollVisibilitySeconds: 1,
    reconcileIntervalMs: 0,
    wrapConsumer: (consumer) =>
      failingRecords(consumer, (body) => failing.has((JSON.parse(body) as { eventId: string }).eventId)),
  });
  ledger = new DynamoDbDeliveryLedger(clients.dynamodb, stack.topology.tables[DELIVERY_LEDGER.id] ?? '');
  queue = new SqsEventQueue(clients.sqs, queueUrl(EVENTS_QUEUE.id));
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  streams.forEach((stream, index) => {
    stream.write = originalWrites[index] as typeof stream.write;
  });
});

function queueUrl(id: string): string {
  const url = stack.topology.queues[id]?.url;
  if (url === undefined) throw new Error(`queue ${id} was not provisioned`);
  return url;
}

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Makes events durable as the edge does: claim the ledger entry, send through the queue adapter, confirm. */
async function enqueueLikeTheEdge(events: readonly CanonicalEvent[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < events.length) {
      const event = events[next++] as CanonicalEvent;
      const now = new Date();
      const outcome = await ledger.claim(
        {
          eventId: event.eventId,
          sourceId: event.sourceId,
          kind: event.kind,
          idempotencyKey: event.idempotencyKey,
          providerEventType: event.providerEventType,
          canonicalType: event.type,
          status: 'received',
          occurredAt: event.occurredAt,
          receivedAt: now.toISOString(),
          updatedAt: now.toISOString(),
          leaseUntil: now.getTime() + 15_000,
          deliveryCount: 1,
          expiresAt: Math.floor(now.getTime() / 1000) + DEDUPE_WINDOW_SECONDS,
        },
        now.getTime(),
      );
      expect(outcome.outcome).toBe('claimed');
      const { messageId, body } = await queue.enqueue(event);
      // The body as queued is kept for replay, as the edge keeps it.
      await ledger.confirm(event, 'enqueued', new Date().toISOString(), messageId, body);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Whether the ledger says `status` for every one of the events. */
async function allAre(events: readonly CanonicalEvent[], status: string): Promise<boolean> {
  for (let start = 0; start < events.length; start += 25) {
    const page = events.slice(start, start + 25);
    const found = await Promise.all(page.map((event) => ledger.status(event.eventId)));
    if (found.some((each) => each !== status)) return false;
  }
  return true;
}

async function depth(id: string): Promise<number> {
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl(id),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

/** Rate updates of one room night, a minute apart in the order given, the last one the newest. */
function rateUpdates(sourceId: string, channelId: string, date: string, amounts: readonly number[]) {
  const first = Date.now() - amounts.length * 60_000;
  return amounts.map((amountMinor, index) =>
    ariUpdate({
      sourceId,
      idempotencyKey: `ops-${randomUUID()}`,
      occurredAt: new Date(first + index * 60_000).toISOString(),
      receivedAt: new Date().toISOString(),
      data: {
        channelId,
        propertyExternalId: 'HOTEL002',
        roomTypeExternalId: 'DBL-STD',
        ratePlanExternalId: 'BAR',
        dateFrom: date,
        dateTo: date,
        rate: { amountMinor, currency: 'EUR' },
      },
    }),
  );
}

async function nightsOf(channel: string, date: string) {
  const { json } = await api('GET', `/properties/demo-resort/ari?from=${date}&to=${date}`);
  return (json.items as Array<{ channel: string; rate?: { amountMinor: number; eventId: string } }>).filter(
    (night) => night.channel === channel,
  );
}

function appliedCounts(eventIds: ReadonlySet<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of consumerLog) {
    if (line.message !== 'event' || line.outcome !== 'applied') continue;
    const id = String(line.correlation_id);
    if (eventIds.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('holding and resuming a source, end to end', () => {
  it('parks a held source’s events as held, and on resume releases and applies them, the newest winning', async () => {
    const sourceId = 'channel-manager-demo';
    const date = addDays(new Date().toISOString().slice(0, 10), 45);
    const channel = `${sourceId}:CH-HOLD`;

    const held = await api('POST', `/sources/${sourceId}/hold`, { reason: 'checking a bad export' });
    expect(held).toMatchObject({ status: 200, json: { sourceId, held: true, created: true } });
    const listed = await api('GET', '/sources');
    expect(
      (listed.json.items as Array<Record<string, unknown>>).find((s) => s.sourceId === sourceId),
    ).toMatchObject({ held: true, reason: 'checking a bad export', heldBy: 'unsigned caller at 127.0.0.1' });

    const events = rateUpdates(sourceId, 'CH-HOLD', date, [10_100, 10_200, 10_300, 10_400, 10_500, 10_600]);
    // Queued newest first, as a provider replaying its backlog might.
    await enqueueLikeTheEdge([...events].reverse());
    await eventually(
      'every event of the held source to be held',
      async () => ((await allAre(events, 'held')) ? true : undefined),
      20_000,
    );
    expect(await nightsOf(channel, date)).toEqual([]);
    const review = await api('GET', '/review?limit=500');
    const waiting = (
      review.json.items as Array<{ eventId: string; waitingFor: string; reason: string }>
    ).filter((item) => item.waitingFor === `hold|${sourceId}`);
    expect(waiting.map((item) => item.eventId).sort()).toEqual(events.map((event) => event.eventId).sort());
    expect(new Set(waiting.map((item) => item.reason))).toEqual(new Set(['held']));

    // The order a resume sends them in is checked against DynamoDB Local by the review store's contract
    // (waitingInOrder) and by the route's tests; here, that they all come back and apply.
    const resumed = await api('POST', `/sources/${sourceId}/resume`);
    expect(resumed).toEqual({
      status: 200,
      json: { sourceId, held: false, resumed: true, released: events.length, nextCursor: null },
    });

    await eventually(
      'every released event to be applied',
      async () => ((await allAre(events, 'applied')) ? true : undefined),
      20_000,
    );
    const newest = events.at(-1) as CanonicalEvent;
    expect(await nightsOf(channel, date)).toMatchObject([
      { rate: { amountMinor: 10_600, eventId: newest.eventId } },
    ]);
    const after = await api('GET', '/review?limit=500');
    expect(
      (after.json.items as Array<{ waitingFor: string }>).filter(
        (item) => item.waitingFor === `hold|${sourceId}`,
      ),
    ).toEqual([]);
  }, 60_000);
});

describe('the dead-letter queue, end to end', () => {
  it('redrives a DLQ of 500 events, and every one of them is applied exactly once', async () => {
    const date = addDays(new Date().toISOString().slice(0, 10), 50);
    const events = Array.from({ length: 500 }, (_, index) =>
      ariUpdate({
        sourceId: 'standard-webhooks-demo',
        kind: 'standard-webhooks',
        idempotencyKey: `dlq-${index}-${randomUUID()}`,
        receivedAt: new Date().toISOString(),
        data: {
          channelId: `CH-DLQ-${index}`,
          propertyExternalId: 'HOTEL002',
          roomTypeExternalId: 'DBL-STD',
          ratePlanExternalId: 'BAR',
          dateFrom: date,
          dateTo: date,
          rate: { amountMinor: 20_000 + index, currency: 'EUR' },
        },
      }),
    );
    const eventIds = new Set(events.map((event) => event.eventId));
    for (const eventId of eventIds) failing.add(eventId);

    await enqueueLikeTheEdge(events);
    await eventually(
      'SQS to move all 500 events to the DLQ after their five receives',
      async () => ((await depth(EVENTS_DLQ.id)) === 500 ? true : undefined),
      60_000,
      500,
    );
    const listing = await api('GET', '/dlq/events?limit=20');
    expect(listing.json.approximateCount).toBe(500);
    const items = listing.json.items as Array<{ eventId: string; receiveCount: number }>;
    expect(items).toHaveLength(20);
    for (const item of items) expect(eventIds.has(item.eventId)).toBe(true);
    expect(await depth(EVENTS_DLQ.id)).toBe(500);

    failing.clear();
    let moved = 0;
    for (let call = 0; call < 10 && moved < 500; call++) {
      const { status, json } = await api('POST', '/dlq/events/redrive');
      expect(status, JSON.stringify(json)).toBe(200);
      expect(json.via).toBe('resend');
      moved += Number(json.moved);
      if (json.complete === true) break;
    }
    expect(moved).toBe(500);

    await eventually(
      'all 500 redriven events to be applied',
      async () => ((await allAre(events, 'applied')) ? true : undefined),
      60_000,
      500,
    );
    const applied = appliedCounts(eventIds);
    expect(applied.size).toBe(500);
    expect(new Set(applied.values())).toEqual(new Set([1]));
    expect(await depth(EVENTS_DLQ.id)).toBe(0);
    await eventually('the events queue to drain', async () =>
      (await depth(EVENTS_QUEUE.id)) === 0 ? true : undefined,
    );
    expect((await api('GET', '/dlq/events')).json).toMatchObject({ approximateCount: 0, items: [] });
  }, 180_000);
});

describe('replaying a source, end to end', () => {
  it('replays applied events through the replay worker to done, and state stays as it was', async () => {
    const sourceId = 'channel-manager-demo';
    const date = addDays(new Date().toISOString().slice(0, 10), 55);
    const channel = `${sourceId}:CH-REPLAY`;
    // The window starts with this test: earlier tests' events of the source are not in it.
    const from = new Date().toISOString();
    const events = rateUpdates(sourceId, 'CH-REPLAY', date, [30_100, 30_200, 30_300, 30_400, 30_500]);
    await enqueueLikeTheEdge(events);
    await eventually('every event to be applied', async () =>
      (await allAre(events, 'applied')) ? true : undefined,
    );
    const before = await nightsOf(channel, date);
    expect(before).toMatchObject([{ rate: { amountMinor: 30_500 } }]);
    const to = new Date(Date.now() + 1_000).toISOString();
    // What will be replayed is what an operator reads on the delivery: the canonical event exactly as queued.
    const shown = await api('GET', `/deliveries/${events[0]?.eventId}`);
    expect(shown.json).toMatchObject({ status: 'applied', retained: true });
    expect(shown.json.event).toEqual(JSON.parse(JSON.stringify(events[0])));

    const started = await api('POST', '/replays', { source: sourceId, from, to, statuses: ['applied'] });
    expect(started).toMatchObject({
      status: 202,
      json: { status: 'running', request: { source: sourceId } },
    });
    const jobId = started.json.jobId as string;
    const done = await eventually('the replay job to be done', async () => {
      const { json } = await api('GET', `/replays/${jobId}`);
      return json.status === 'running' ? undefined : json;
    });
    expect(done).toMatchObject({ status: 'done', counts: { matched: 5, replayed: 5, notRetained: 0 } });

    await eventually('the replayed events to be applied again', async () => {
      const again = appliedCounts(new Set(events.map((event) => event.eventId)));
      return again.size === events.length && [...again.values()].every((count) => count === 2)
        ? true
        : undefined;
    });
    expect(await allAre(events, 'applied')).toBe(true);
    expect(await nightsOf(channel, date)).toEqual(before);
  }, 60_000);
});
