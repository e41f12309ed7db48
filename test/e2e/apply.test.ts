import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfig, SourceConfig } from '../../lambdas/config/schema';
import type { AriUpdate, CanonicalEvent } from '../../lambdas/domain/canonical';
import { addDays } from '../../lambdas/domain/dates';
import { mergeNight } from '../../lambdas/domain/lww';
import { formatMinorUnits } from '../../lambdas/domain/money';
import { FIELD_GROUPS, type NightWrite, type RoomNightState, versionOf } from '../../lambdas/domain/state';
import { DynamoDbDeliveryLedger } from '../../lambdas/ledger/dynamodb-ledger';
import { DELIVERY_LEDGER, EVENTS_DLQ, EVENTS_QUEUE, MAPPINGS } from '../../lambdas/shared/topology';
import { DynamoDbMappingStore } from '../../lambdas/state/dynamodb-mappings';
import type { SqsConsumer } from '../../local/poller';
import { senderFor } from '../../local/senders';
import { type LocalStack, startLocalStack } from '../../local/start';
import { emulatorEndpoints, localClients } from '../support/aws';
import { ariUpdate } from '../support/events';
import { eventually } from '../support/eventually';

/** A stay date `days` after today: the stay window the edge and apply enforce follows the real clock. */
function stayDate(days: number): string {
  return addDays(new Date().toISOString().slice(0, 10), days);
}

/**
 * The apply pipeline end to end on this machine: signed webhooks over HTTP or canonical events straight onto the
 * queue, the real consumer behind the local SQS event source, DynamoDB Local, and state read back through the
 * read API. Each scenario uses its own property, so that their room nights never mix.
 */

const SOURCE_ID = 'channel-manager-demo';
const DEDUPE_WINDOW_SECONDS = 30 * 86_400;

let stack: LocalStack;
let config: ParitySyncConfig;
let ledger: DynamoDbDeliveryLedger;
const clients = localClients();

/** Failures injected around the consumer: the local event source invokes whatever this decides. */
const faults = { randomFailureRate: 0, random: mulberry32(0x5eed) };

/** Consumer log lines, captured rather than printed: they are how the test counts what was applied. */
const consumerLog: Record<string, unknown>[] = [];
const streams = [process.stdout, process.stderr] as const;
const originalWrites = streams.map((stream) => stream.write.bind(stream));

/** Powertools writes INFO to stdout and WARN / ERROR to stderr, one JSON object per line. */
function captureLogLines(): void {
  streams.forEach((stream, index) => {
    const write = originalWrites[index] as (...args: unknown[]) => boolean;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (!text.startsWith('{"level"')) return write(chunk, ...rest);
      for (const line of text.split('\n').filter(Boolean)) consumerLog.push(JSON.parse(line));
      return true;
    }) as typeof stream.write;
  });
}

beforeAll(async () => {
  captureLogLines();

  const example = JSON.parse(readFileSync('config/local.example.json', 'utf8')) as Record<string, unknown>;
  config = parseConfig({
    ...example,
    mappings: [
      {
        scope: SOURCE_ID,
        properties: {
          HOTEL001: 'lisbon-01',
          HOTEL002: 'porto-01',
          HOTEL003: 'faro-01',
          HOTEL004: 'braga-01',
        },
        roomTypes: { 'DBL-STD': 'dbl', 'TWN-STD': 'twn' },
        ratePlans: { BAR: 'bar' },
      },
    ],
    properties: [{ propertyId: 'lisbon-01', roomTypes: [{ roomTypeId: 'dbl', physicalRooms: 20 }] }],
  });
  stack = await startLocalStack({
    config,
    emulators: emulatorEndpoints(),
    prefix: `e2eapply${randomBytes(4).toString('hex')}`,
    // Failed records come back after one second, so that five receives fit in a few seconds.
    pollVisibilitySeconds: 1,
    wrapConsumer: injectFaults,
  });
  ledger = new DynamoDbDeliveryLedger(clients.dynamodb, stack.topology.tables[DELIVERY_LEDGER.id] ?? '');
});

afterAll(async () => {
  await stack?.stop();
  streams.forEach((stream, index) => {
    stream.write = originalWrites[index] as typeof stream.write;
  });
});

/**
 * Fails a share of records at random, half before the consumer sees them and half after it has applied them
 * (as if the function timed out just before answering), but never on the last receive, so nothing is lost.
 */
function injectFaults(consumer: SqsConsumer): SqsConsumer {
  return async (event, context) => {
    if (faults.randomFailureRate === 0) return consumer(event, context);
    const dropped: SQSRecord[] = [];
    const forgotten: SQSRecord[] = [];
    const passed: SQSRecord[] = [];
    for (const record of event.Records) {
      const lastReceive =
        Number(record.attributes.ApproximateReceiveCount) >= (EVENTS_QUEUE.maxReceiveCount ?? 1);
      if (lastReceive || faults.random() >= faults.randomFailureRate) passed.push(record);
      else if (faults.random() < 0.5) dropped.push(record);
      else forgotten.push(record);
    }
    const response: SQSBatchResponse =
      passed.length + forgotten.length > 0
        ? ((await consumer({ Records: [...passed, ...forgotten] }, context)) ?? { batchItemFailures: [] })
        : { batchItemFailures: [] };
    return {
      batchItemFailures: [
        ...response.batchItemFailures,
        ...[...dropped, ...forgotten].map((record) => ({ itemIdentifier: record.messageId })),
      ],
    };
  };
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
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

interface NightView {
  readonly propertyId: string;
  readonly roomTypeId: string;
  readonly ratePlanId: string;
  readonly channel: string;
  readonly date: string;
  readonly [group: string]: unknown;
}

async function readAri(propertyId: string, from: string, to: string): Promise<NightView[]> {
  const items: NightView[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ from, to, limit: '500', ...(cursor ? { cursor } : {}) });
    const { status, json } = await api('GET', `/properties/${propertyId}/ari?${query}`);
    expect(status, JSON.stringify(json)).toBe(200);
    items.push(...(json.items as NightView[]));
    cursor = json.nextCursor as string | null;
  } while (cursor);
  return items;
}

/**
 * The delivery's ledger entry once the apply pipeline has settled it. The consumer settles the entry after
 * writing the state, so the state can be readable a moment before the entry leaves `enqueued`.
 */
function settledDelivery(eventId: string): Promise<Record<string, unknown>> {
  return eventually(
    `delivery ${eventId} to be settled`,
    async () => {
      const { json } = await api('GET', `/deliveries/${eventId}`);
      return json.status === 'received' || json.status === 'enqueued' ? undefined : json;
    },
    5_000,
  );
}

function source(): SourceConfig {
  const found = config.sources.find((s) => s.id === SOURCE_ID);
  if (!found) throw new Error(`no ${SOURCE_ID} in the configuration`);
  return found;
}

/** Posts a signed rate update, exactly as the channel manager would send it. */
async function postRateUpdate(overrides: Record<string, unknown>): Promise<string> {
  const sender = senderFor('channel-manager');
  const now = new Date();
  const body = Buffer.from(
    JSON.stringify({ ...sender.sample('rate_update', now, randomUUID), ...overrides }),
  );
  const secret = source().secrets[0];
  if (!secret || !('value' in secret)) throw new Error('demo source has no literal secret');
  const response = await fetch(`${stack.url}/webhooks/${SOURCE_ID}`, {
    method: 'POST',
    headers: sender.sign(body, { secret: secret.value, at: now }),
    body,
  });
  const json = (await response.json()) as Record<string, unknown>;
  expect(response.status, JSON.stringify(json)).toBe(200);
  expect(json).toMatchObject({ status: 'accepted', action: 'enqueued' });
  return String(json.eventId);
}

/** A canonical ARI event as the edge would build it, with the edge's event id for its idempotency key. */
function canonicalAri(idempotencyKey: string, occurredAt: Date, data: AriUpdate): CanonicalEvent {
  return ariUpdate({
    sourceId: SOURCE_ID,
    idempotencyKey,
    occurredAt: occurredAt.toISOString(),
    receivedAt: new Date().toISOString(),
    data,
  });
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  parallel: number,
  run: (batch: T[]) => Promise<void>,
) {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) await run(batches[next++] as T[]);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/**
 * Queues events the way the edge makes them durable: claim the ledger entry, send to SQS (with the same message
 * attributes as SqsEventQueue), confirm with the message id. `extraCopies` are sent again without a claim, as
 * the at-least-once queue or an unconfirmed edge write would.
 */
async function enqueueLikeTheEdge(events: readonly CanonicalEvent[], extraCopies: readonly CanonicalEvent[]) {
  const queueUrl = stack.topology.queues[EVENTS_QUEUE.id]?.url ?? '';
  const claimed = new Set<string>();
  const messages = [...events, ...extraCopies];
  shuffle(messages, faults.random);
  await inBatches(messages, 10, 8, async (batch) => {
    const now = new Date();
    const fresh = batch.filter((event) => !claimed.has(event.eventId));
    for (const event of fresh) claimed.add(event.eventId);
    await Promise.all(
      fresh.map(async (event) => {
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
      }),
    );
    const { Successful = [], Failed = [] } = await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((event, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify(event),
          MessageAttributes: {
            eventId: { DataType: 'String', StringValue: event.eventId },
            sourceId: { DataType: 'String', StringValue: event.sourceId },
            type: { DataType: 'String', StringValue: event.type },
          },
        })),
      }),
    );
    expect(Failed).toEqual([]);
    await Promise.all(
      Successful.map(async (sent) => {
        const event = batch[Number(sent.Id)] as CanonicalEvent;
        if (fresh.includes(event)) {
          await ledger.confirm(event, 'enqueued', new Date().toISOString(), sent.MessageId);
        }
      }),
    );
  });
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}

/**
 * Random ARI updates over a few room nights of one property: random field groups, values and versions. The
 * occurred-at times collide now and then, so that the idempotency-key tie-break is exercised too.
 */
function randomAriEvents(
  count: number,
  propertyExternalId: string,
  firstDate: string,
  random: () => number,
): CanonicalEvent[] {
  const base = Date.now() - 3_600_000;
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  return Array.from({ length: count }, (_, index) => {
    const from = Math.floor(random() * 3);
    const to = from + Math.floor(random() * (3 - from));
    const groups = FIELD_GROUPS.filter(() => random() < 0.6);
    if (groups.length === 0) groups.push(pick(FIELD_GROUPS));
    const data: AriUpdate = {
      channelId: 'CH-A',
      propertyExternalId,
      roomTypeExternalId: pick(['DBL-STD', 'TWN-STD']),
      ratePlanExternalId: 'BAR',
      dateFrom: addDays(firstDate, from),
      dateTo: addDays(firstDate, to),
      ...(groups.includes('rate')
        ? { rate: { amountMinor: 5_000 + Math.floor(random() * 20_000), currency: 'EUR' } }
        : {}),
      ...(groups.includes('availability') ? { availability: Math.floor(random() * 15) } : {}),
      ...(groups.includes('restrictions')
        ? {
            restrictions: {
              minLengthOfStay: 1 + Math.floor(random() * 3),
              closedToArrival: random() < 0.3,
              stopSell: random() < 0.1,
            },
          }
        : {}),
    };
    const occurredAt = new Date(base + Math.floor(random() * 200) * 1000);
    return canonicalAri(`${propertyExternalId}-${index}-${randomUUID()}`, occurredAt, data);
  });
}

const INTERNAL_ROOM_TYPE: Record<string, string> = { 'DBL-STD': 'dbl', 'TWN-STD': 'twn' };

/** The state in-order application reaches: every event merged in version order with the reference semantics. */
function oracle(events: readonly CanonicalEvent[], propertyId: string): NightView[] {
  const nights = new Map<string, RoomNightState>();
  const ordered = [...events].sort((a, b) => (versionOf(a) < versionOf(b) ? -1 : 1));
  for (const event of ordered) {
    if (event.type !== 'ari.update') continue;
    const ari = event.data;
    const write: NightWrite = {
      ...(ari.rate ? { rate: ari.rate } : {}),
      ...(ari.availability !== undefined ? { availability: { rooms: ari.availability } } : {}),
      ...(ari.restrictions ? { restrictions: ari.restrictions } : {}),
    };
    for (let date = ari.dateFrom; date <= ari.dateTo; date = addDays(date, 1)) {
      const key = {
        propertyId,
        roomTypeId: INTERNAL_ROOM_TYPE[ari.roomTypeExternalId ?? ''] ?? '?',
        ratePlanId: 'bar',
        channel: `${SOURCE_ID}:${ari.channelId}`,
        date,
      };
      const id = JSON.stringify(key);
      nights.set(id, mergeNight(nights.get(id) ?? { key }, write, versionOf(event), event.eventId).state);
    }
  }
  return [...nights.values()].map(asView).sort(byNight);
}

function asView(state: RoomNightState): NightView {
  const view: Record<string, unknown> = { ...state.key };
  if (state.rate) {
    view.rate = {
      ...state.rate.value,
      amount: formatMinorUnits(state.rate.value),
      version: state.rate.version,
      eventId: state.rate.eventId,
    };
  }
  for (const group of ['availability', 'restrictions'] as const) {
    const value = state[group];
    if (value) view[group] = { ...value.value, version: value.version, eventId: value.eventId };
  }
  return view as unknown as NightView;
}

function byNight(a: NightView, b: NightView): number {
  return `${a.date}${a.roomTypeId}`.localeCompare(`${b.date}${b.roomTypeId}`);
}

async function ledgerStatuses(eventIds: readonly string[]): Promise<Map<string, string | undefined>> {
  const statuses = new Map<string, string | undefined>();
  await inBatches(eventIds, 1, 16, async ([eventId]) => {
    statuses.set(eventId as string, await ledger.status(eventId as string));
  });
  return statuses;
}

async function queueDepth(queueId: string): Promise<number> {
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.topology.queues[queueId]?.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

/**
 * The consumer settles an event in the ledger before it logs the outcome, so the last lines may trail the ledger
 * by a moment: wait for a line per event, then count them all.
 */
async function everyEventLogged(eventIds: ReadonlySet<string>): Promise<Map<string, number>> {
  await eventually(
    'an applied line for every event in the consumer log',
    async () => (appliedLogCount(eventIds).size === eventIds.size ? true : undefined),
    10_000,
  ).catch(() => undefined);
  return appliedLogCount(eventIds);
}

function appliedLogCount(eventIds: ReadonlySet<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of consumerLog) {
    if (line.message !== 'event' || line.outcome !== 'applied') continue;
    const id = String(line.correlation_id);
    if (eventIds.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------------------

describe('the apply pipeline, end to end', () => {
  it('makes a signed rate update visible through the read API, applied to every night exactly', async () => {
    const firstNight = addDays(new Date().toISOString().slice(0, 10), 40);
    const lastNight = addDays(firstNight, 2);
    const sentAt = performance.now();
    const eventId = await postRateUpdate({
      property_id: 'HOTEL001',
      room_type_external_id: 'DBL-STD',
      rate_plan_code: 'BAR',
      channel_id: 'CH-BOOKING',
      date_range: [firstNight, lastNight],
      currency: 'EUR',
      base_rate: 149.5,
      inventory_count: 7,
      restrictions: { min_length_of_stay: 2, closed_to_arrival: true, closed_to_departure: false },
    });
    const nights = await eventually(
      'the three nights in the read API',
      async () => {
        const items = await readAri('lisbon-01', firstNight, lastNight);
        return items.length === 3 ? items : undefined;
      },
      5_000,
    );
    const visibleAfterMs = performance.now() - sentAt;

    const version = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#/);
    expect(nights).toEqual(
      [0, 1, 2].map((offset) => ({
        propertyId: 'lisbon-01',
        roomTypeId: 'dbl',
        ratePlanId: 'bar',
        channel: `${SOURCE_ID}:CH-BOOKING`,
        date: addDays(firstNight, offset),
        rate: { amountMinor: 14950, currency: 'EUR', amount: '149.50', version, eventId },
        availability: { rooms: 7, version, eventId },
        restrictions: {
          minLengthOfStay: 2,
          closedToArrival: true,
          closedToDeparture: false,
          version,
          eventId,
        },
      })),
    );
    // How fast is measured by `npm run bench` (visibility latency), not asserted here.
    if (process.env.PARITYSYNC_TEST_TIMINGS)
      console.info(`rate update visible after ${Math.round(visibleAfterMs)} ms`);
    expect(await settledDelivery(eventId)).toMatchObject({ status: 'applied', eventId });
  });

  it('converges 1,000 shuffled events with 10% duplicates to the in-order state', async () => {
    const random = mulberry32(0xb0b);
    const events = randomAriEvents(1_000, 'HOTEL002', stayDate(90), random);
    const duplicates = Array.from(
      { length: 100 },
      () => events[Math.floor(random() * events.length)] as CanonicalEvent,
    );
    const expected = oracle(events, 'porto-01');
    expect(expected).toHaveLength(6);

    await enqueueLikeTheEdge(events, duplicates);
    await eventually(
      'the read API to show the in-order state',
      async () => {
        const actual = (await readAri('porto-01', stayDate(90), stayDate(92))).sort(byNight);
        return JSON.stringify(actual) === JSON.stringify(expected) ? actual : undefined;
      },
      // 1,100 deliveries through one local consumer: about 30 s on a quiet 2-core machine, twice that on a busy one.
      90_000,
    );
    await eventually(
      'the events queue to drain',
      async () => ((await queueDepth(EVENTS_QUEUE.id)) === 0 ? true : undefined),
      10_000,
    );

    const statuses = await ledgerStatuses(events.map((event) => event.eventId));
    expect(new Set(statuses.values())).toEqual(new Set(['applied']));
    const applied = await everyEventLogged(new Set(events.map((event) => event.eventId)));
    expect(applied.size).toBe(events.length);
    // An event queued once is applied once. Two copies processed at the same instant both write nothing new
    // after the first and the ledger settles once, but both may still report `applied`.
    const duplicated = new Set(duplicates.map((event) => event.eventId));
    const sentOnce = [...applied].filter(([eventId]) => !duplicated.has(eventId));
    expect(new Set(sentOnce.map(([, count]) => count))).toEqual(new Set([1]));
  }, 120_000);

  it('applies every event exactly once although 10% of records fail at random, before or after applying', async () => {
    const random = mulberry32(0xfa11);
    const events = randomAriEvents(300, 'HOTEL003', stayDate(120), random);
    const expected = oracle(events, 'faro-01');
    faults.randomFailureRate = 0.1;
    try {
      await enqueueLikeTheEdge(events, []);
      // Polled first, as it costs one request: a record leaves the queue only once settled or dead-lettered, so
      // the ledger is read once nothing is left to settle, not 300 entries every poll while the consumer works.
      await eventually(
        'the events queue to drain',
        async () => ((await queueDepth(EVENTS_QUEUE.id)) === 0 ? true : undefined),
        30_000,
      );
      // An applied entry keeps its outcome whatever redelivery asks, so each poll reads only the others.
      const applied = new Set<string>();
      await eventually(
        'every event to be applied',
        async () => {
          const pending = events.map((event) => event.eventId).filter((eventId) => !applied.has(eventId));
          for (const [eventId, status] of await ledgerStatuses(pending)) {
            if (status === 'applied') applied.add(eventId);
          }
          return applied.size === events.length ? true : undefined;
        },
        30_000,
      );
      await eventually(
        'the events queue to drain',
        async () => ((await queueDepth(EVENTS_QUEUE.id)) === 0 ? true : undefined),
        10_000,
      );
    } finally {
      faults.randomFailureRate = 0;
    }

    const actual = (await readAri('faro-01', stayDate(120), stayDate(122))).sort(byNight);
    expect(actual).toEqual(expected);
    const applied = await everyEventLogged(new Set(events.map((event) => event.eventId)));
    expect(applied.size).toBe(events.length);
    expect(Math.max(...applied.values())).toBe(1);
    const ids = new Set(events.map((event) => event.eventId));
    const retried = consumerLog.filter(
      (line) => ids.has(String(line.correlation_id)) && Number(line.receiveCount) > 1,
    );
    // The injected failures really happened, and redeliveries of applied events were recognised as such.
    expect(retried.length).toBeGreaterThan(10);
    expect(retried.some((line) => line.outcome === 'skipped')).toBe(true);
    expect(await queueDepth(EVENTS_DLQ.id)).toBe(0);
  }, 60_000);

  it('dead-letters an event that always fails, and its ledger entry says why', async () => {
    // The edge and apply refuse any event whose own ids could break a key, so the poison is in the store: a
    // mapping item written past the API, whose internal room type id makes the room night's sort key exceed
    // DynamoDB's 1 KB limit. Every write of the event fails, as a store outage that never ends would.
    const roomType = `POISON-${randomUUID()}`;
    await new DynamoDbMappingStore(clients.dynamodb, stack.topology.tables[MAPPINGS.id] ?? '').put(
      { scope: SOURCE_ID, entity: 'roomType', externalId: roomType },
      { internalId: 'X'.repeat(1_100) },
      new Date().toISOString(),
      'a corrupt mapping item',
    );
    const poison = canonicalAri(`poison-${randomUUID()}`, new Date(), {
      propertyExternalId: 'HOTEL004',
      roomTypeExternalId: roomType,
      ratePlanExternalId: 'BAR',
      dateFrom: stayDate(150),
      dateTo: stayDate(150),
      availability: 1,
    });
    await enqueueLikeTheEdge([poison], []);

    const dead: Message = await eventually(
      'the event in the DLQ',
      async () => {
        const { Messages = [] } = await clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.topology.queues[EVENTS_DLQ.id]?.url,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
            WaitTimeSeconds: 1,
          }),
        );
        return Messages.find((message) => message.MessageAttributes?.eventId?.StringValue === poison.eventId);
      },
      20_000,
    );
    expect(JSON.parse(dead.Body ?? '{}')).toMatchObject({ eventId: poison.eventId });

    const { status, json } = await api('GET', `/deliveries/${poison.eventId}`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ eventId: poison.eventId, status: 'dead-lettered' });
    const why =
      /^dead-lettered after 5 receives: ValidationException: .*range primary key values must be under 1024 bytes/;
    expect(json.lastError).toMatch(why);
    expect(json.reason).toMatch(why);
    // The delivery log lists it among the dead-lettered events of its source.
    const log = await api('GET', `/deliveries?source=${SOURCE_ID}&status=dead-lettered&limit=500`);
    expect(log.status).toBe(200);
    expect(log.json.items).toContainEqual(
      expect.objectContaining({ eventId: poison.eventId, status: 'dead-lettered', reason: json.reason }),
    );
    const attempts = consumerLog
      .filter((line) => line.correlation_id === poison.eventId)
      .map((line) => line.outcome);
    expect(attempts).toEqual(['retrying', 'retrying', 'retrying', 'retrying', 'dead_lettered']);
  }, 30_000);

  it('parks an unmapped event until a mapping is put through the API, then applies it', async () => {
    const night = addDays(new Date().toISOString().slice(0, 10), 60);
    const eventId = await postRateUpdate({
      property_id: 'HOTEL001',
      room_type_external_id: 'STE-NEW',
      rate_plan_code: 'BAR',
      channel_id: 'CH-BOOKING',
      date_range: [night, night],
      currency: 'EUR',
      base_rate: 310,
      inventory_count: 2,
      restrictions: { min_length_of_stay: 1, closed_to_arrival: false, closed_to_departure: false },
    });

    const parked = await eventually(
      'the event in the review list',
      async () => {
        const { json } = await api('GET', '/review?limit=500');
        return (json.items as { eventId: string }[]).find((item) => item.eventId === eventId);
      },
      5_000,
    );
    expect(parked).toMatchObject({ sourceId: SOURCE_ID, type: 'ari.update', waitingFor: 'roomType|STE-NEW' });
    expect(await settledDelivery(eventId)).toMatchObject({
      status: 'parked',
      reason: expect.stringContaining('STE-NEW'),
    });
    expect(await readAri('lisbon-01', night, night)).toEqual([]);

    const put = await api('PUT', `/mappings/${SOURCE_ID}/roomType/STE-NEW`, { internalId: 'ste' });
    expect(put).toEqual({
      status: 200,
      json: {
        mapping: { scope: SOURCE_ID, entity: 'roomType', externalId: 'STE-NEW', internalId: 'ste' },
        released: 1,
      },
    });

    await eventually(
      'the released event to be applied',
      async () => ((await api('GET', `/deliveries/${eventId}`)).json.status === 'applied' ? true : undefined),
      5_000,
    );
    expect(await readAri('lisbon-01', night, night)).toEqual([
      expect.objectContaining({
        roomTypeId: 'ste',
        rate: expect.objectContaining({ amountMinor: 31000, currency: 'EUR', amount: '310.00', eventId }),
        availability: expect.objectContaining({ rooms: 2, eventId }),
      }),
    ]);
    const { json } = await api('GET', '/review?limit=500');
    expect((json.items as { eventId: string }[]).map((item) => item.eventId)).not.toContain(eventId);
  });
});
