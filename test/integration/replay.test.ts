import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { BatchWriteItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ConsumerDependencies, createConsumer } from '../../lambdas/apply/consumer';
import type { PropertySettings } from '../../lambdas/config/schema';
import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import { versionOf } from '../../lambdas/domain/state';
import { LOG_ALL, logAtOf, sourceStatusOf } from '../../lambdas/ledger/delivery-log';
import { DynamoDbDeliveryLedger } from '../../lambdas/ledger/dynamodb-ledger';
import { DynamoDbReplayJobStore } from '../../lambdas/ledger/dynamodb-replay-jobs';
import type { LedgerStatus } from '../../lambdas/ledger/ports';
import type { ReplayRequest } from '../../lambdas/ledger/replay-jobs';
import type { ReplayEventQueue } from '../../lambdas/queue/ports';
import { asciiJson, SqsEventQueue, SqsReplayWorkQueue } from '../../lambdas/queue/sqs-queue';
import { startReplay } from '../../lambdas/read/replays';
import { createReplayConsumer } from '../../lambdas/replay/consumer';
import type { ReplayWorkerDependencies } from '../../lambdas/replay/worker';
import { systemClock } from '../../lambdas/shared/clock';
import {
  ARI_STATE,
  CONTROLS,
  DELIVERY_LEDGER,
  EVENTS_QUEUE,
  GUESTS,
  MAPPINGS,
  REPLAY_QUEUE,
  RESERVATIONS,
  REVIEW,
} from '../../lambdas/shared/topology';
import { DynamoDbAriStore } from '../../lambdas/state/dynamodb-ari-store';
import { DynamoDbControlStore } from '../../lambdas/state/dynamodb-controls';
import { DynamoDbGuestStore } from '../../lambdas/state/dynamodb-guests';
import { DynamoDbMappingStore } from '../../lambdas/state/dynamodb-mappings';
import { DynamoDbReservationStore } from '../../lambdas/state/dynamodb-reservations';
import { DynamoDbReviewStore } from '../../lambdas/state/dynamodb-review';
import { MappingResolver } from '../../lambdas/state/resolver';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';
import { ariUpdate } from '../support/events';

// The consumer's EMF lines would bury the test output; nothing reads them here.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const SOURCE = 'cm-replay';
const RECEIVED = '2026-06-01T12:00:00.000Z';
const WINDOW = { from: '2026-06-01T00:00:00.000Z', to: '2026-06-02T00:00:00.000Z' };
const NIGHT = '2026-07-01';

let topology: IsolatedTopology;
let ledger: DynamoDbDeliveryLedger;
let jobs: DynamoDbReplayJobStore;
let ari: DynamoDbAriStore;
let eventsUrl: string;
let workUrl: string;

beforeAll(async () => {
  topology = await provisionIsolated();
  const table = (id: string) => topology.tables[id] as string;
  ledger = new DynamoDbDeliveryLedger(topology.dynamodb, table(DELIVERY_LEDGER.id));
  jobs = new DynamoDbReplayJobStore(topology.dynamodb, table(CONTROLS.id));
  ari = new DynamoDbAriStore(topology.dynamodb, table(ARI_STATE.id));
  eventsUrl = topology.queues[EVENTS_QUEUE.id]?.url as string;
  workUrl = topology.queues[REPLAY_QUEUE.id]?.url as string;
});

/** Rate and availability for one night of property `property`, at the i-th version. */
function nightEvent(property: string, i: number, availability: number): CanonicalEvent {
  return ariUpdate({
    sourceId: SOURCE,
    receivedAt: new Date(Date.parse(RECEIVED) + i).toISOString(),
    occurredAt: new Date(Date.parse(RECEIVED) - 60_000 + i).toISOString(),
    data: {
      propertyExternalId: property,
      dateFrom: NIGHT,
      dateTo: NIGHT,
      rate: { amountMinor: 10_000 + i, currency: 'EUR' },
      availability,
    },
  });
}

/** Ledger entries as the edge and apply leave them, written 25 at a time. */
async function seedLedger(events: readonly CanonicalEvent[], status: LedgerStatus): Promise<void> {
  const requests: WriteRequest[] = events.map((event) => ({
    PutRequest: {
      Item: {
        pk: { S: event.eventId },
        eventId: { S: event.eventId },
        sourceId: { S: event.sourceId },
        kind: { S: event.kind },
        idempotencyKey: { S: event.idempotencyKey },
        providerEventType: { S: event.providerEventType },
        canonicalType: { S: event.type },
        status: { S: status },
        occurredAt: { S: event.occurredAt },
        receivedAt: { S: event.receivedAt },
        updatedAt: { S: event.receivedAt },
        deliveryCount: { N: '1' },
        expiresAt: { N: String(Math.floor(Date.now() / 1000) + 86_400) },
        logAll: { S: LOG_ALL },
        logAt: { S: logAtOf(event.receivedAt, event.eventId) },
        sourceStatus: { S: sourceStatusOf(event.sourceId, status) },
        retained: { BOOL: true },
        event: { S: asciiJson(event) },
      },
    },
  }));
  const batches: WriteRequest[][] = [];
  for (let start = 0; start < requests.length; start += 25) batches.push(requests.slice(start, start + 25));
  await Promise.all(
    batches.map((batch) =>
      topology.dynamodb.send(
        new BatchWriteItemCommand({
          RequestItems: { [topology.tables[DELIVERY_LEDGER.id] as string]: batch },
        }),
      ),
    ),
  );
}

function applyConsumer(properties: readonly PropertySettings[]) {
  const table = (id: string) => topology.tables[id] as string;
  const { dynamodb } = topology;
  const deps: ConsumerDependencies = {
    ari,
    mappings: new MappingResolver(
      new DynamoDbMappingStore(dynamodb, table(MAPPINGS.id)),
      [
        {
          scope: SOURCE,
          properties: { 'HOTEL-R': 'prop-r', 'HOTEL-F': 'prop-f' },
          roomTypes: { DBL: 'dbl' },
          ratePlans: { BAR: 'bar' },
        },
      ],
      systemClock,
    ),
    review: new DynamoDbReviewStore(dynamodb, table(REVIEW.id)),
    reservations: new DynamoDbReservationStore(dynamodb, table(RESERVATIONS.id)),
    guests: new DynamoDbGuestStore(dynamodb, table(GUESTS.id), systemClock),
    ledger,
    holdStore: new DynamoDbControlStore(dynamodb, table(CONTROLS.id)),
    requeue: async () => undefined,
    properties: new Map(properties.map((settings) => [settings.propertyId, settings])),
    clock: systemClock,
    nightConcurrency: 4,
    maxReceiveCount: 5,
  };
  const silent = new Logger({ serviceName: 'replay-test', logLevel: 'SILENT' });
  return createConsumer(deps, silent, new Metrics({ namespace: 'Test', serviceName: 'replay-test' }));
}

function workerDeps(overrides: Partial<ReplayWorkerDependencies> = {}) {
  return {
    jobs,
    log: ledger,
    retained: ledger,
    events: new SqsEventQueue(topology.sqs, eventsUrl),
    work: new SqsReplayWorkQueue(topology.sqs, workUrl),
    clock: systemClock,
    pageSize: 100,
    maxReceiveCount: 5,
    ...overrides,
  };
}

/** Receives what the queue holds, hands it to `consume` as SQS batches, and deletes what it did not fail. */
async function drain(
  queueUrl: string,
  consume: (event: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>,
  visibilityTimeout?: number,
): Promise<number> {
  let handled = 0;
  for (;;) {
    const { Messages = [] } = await topology.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        WaitTimeSeconds: 0,
        // A failed message comes back at once rather than after the queue's visibility timeout.
        VisibilityTimeout: visibilityTimeout ?? 1,
      }),
    );
    if (Messages.length === 0) return handled;
    const records = Messages.map(recordOf);
    const { batchItemFailures } = await consume({ Records: records });
    const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
    const done = Messages.filter((message) => !failed.has(message.MessageId ?? ''));
    if (done.length > 0) {
      await topology.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
    handled += done.length;
    if (failed.size > 0) return handled;
  }
}

function recordOf(message: Message): SQSRecord {
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body ?? '',
    attributes: { ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1' },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: 'String', stringValue: value.StringValue },
      ]),
    ),
  } as unknown as SQSRecord;
}

async function receiveOne(queueUrl: string): Promise<SQSRecord> {
  const { Messages = [] } = await topology.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, MessageAttributeNames: ['All'] }),
  );
  const [message] = Messages;
  if (message === undefined) throw new Error(`Nothing to receive on ${queueUrl}`);
  await topology.sqs.send(
    new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
  );
  return recordOf(message);
}

async function purge(queueUrl: string): Promise<void> {
  await drain(queueUrl, async () => ({ batchItemFailures: [] }));
}

const silentLogger = new Logger({ serviceName: 'replay-test', logLevel: 'SILENT' });

async function runJob(request: ReplayRequest, deps = workerDeps()) {
  const job = await startReplay(request, { replays: jobs, replayWork: deps.work, clock: systemClock });
  await drain(workUrl, createReplayConsumer(deps, silentLogger));
  return job.jobId;
}

describe('replay jobs over the delivery log', () => {
  it('replays 1,000 applied events without changing state or their entries', {
    timeout: 40_000,
  }, async () => {
    const events = Array.from({ length: 1000 }, (_, i) => nightEvent('HOTEL-R', i, 3));
    await seedLedger(events, 'applied');
    const latest = events.at(-1) as CanonicalEvent;
    const key = { propertyId: 'prop-r', roomTypeId: 'dbl', ratePlanId: 'bar', channel: SOURCE, date: NIGHT };
    await ari.writeNight(
      key,
      { rate: { amountMinor: 10_999, currency: 'EUR' }, availability: { rooms: 3 } },
      versionOf(latest),
      latest.eventId,
    );
    const before = await ari.readNightsByKey([key]);

    const jobId = await runJob({ source: SOURCE, ...WINDOW, statuses: ['applied'] });
    const consumer = applyConsumer([]);
    const drains = Array.from({ length: 6 }, () => drain(eventsUrl, (event) => consumer(event), 60));
    const applied = (await Promise.all(drains)).reduce((sum, count) => sum + count, 0);

    expect(applied).toBe(1000);
    expect(await jobs.get(jobId)).toMatchObject({
      status: 'done',
      counts: { matched: 1000, replayed: 1000, notRetained: 0 },
    });
    expect(await ari.readNightsByKey([key])).toEqual(before);
    const counts = await ledger.counts({ sourceId: SOURCE, ...WINDOW });
    expect(counts.applied).toBe(1000);
  });

  it('applies rejected events once the configuration that refused them is fixed', async () => {
    const events = Array.from({ length: 3 }, (_, i) => nightEvent('HOTEL-F', 5000 + i, 9));
    const strict: PropertySettings = {
      propertyId: 'prop-f',
      roomTypes: [{ roomTypeId: 'dbl', physicalRooms: 4 }],
      allotments: [],
      inventoryPolicy: { mode: 'reject', buffer: 1 },
    };
    await seedLedger(events, 'enqueued');
    const before = applyConsumer([strict]);
    await new SqsEventQueue(topology.sqs, eventsUrl).replay(
      events.map((event) => ({
        eventId: event.eventId,
        sourceId: SOURCE,
        type: event.type,
        json: asciiJson(event),
      })),
      'first-delivery',
    );
    await drain(eventsUrl, (event) => before(event));
    for (const event of events) expect((await ledger.get(event.eventId))?.status).toBe('rejected');

    // The operator corrects the room count; the events it refused are replayed.
    const fixed = applyConsumer([{ ...strict, roomTypes: [{ roomTypeId: 'dbl', physicalRooms: 12 }] }]);
    const jobId = await runJob({ source: SOURCE, ...WINDOW, statuses: ['rejected'] });
    await drain(eventsUrl, (event) => fixed(event));

    expect(await jobs.get(jobId)).toMatchObject({ status: 'done', counts: { matched: 3, replayed: 3 } });
    for (const event of events) expect((await ledger.get(event.eventId))?.status).toBe('applied');
    const key = { propertyId: 'prop-f', roomTypeId: 'dbl', ratePlanId: 'bar', channel: SOURCE, date: NIGHT };
    const [night] = await ari.readNightsByKey([key]);
    expect(night?.availability?.value).toEqual({ rooms: 9 });
  });

  it('stops a cancelled job at its next page', async () => {
    const source = 'cm-cancel';
    const events = Array.from({ length: 30 }, (_, i) => ({
      ...nightEvent('HOTEL-R', i, 1),
      sourceId: source,
    }));
    await seedLedger(events as CanonicalEvent[], 'applied');
    const deps = workerDeps({ pageSize: 10 });
    const job = await startReplay(
      { source, ...WINDOW, statuses: ['applied'] },
      { replays: jobs, replayWork: deps.work, clock: systemClock },
    );
    const worker = createReplayConsumer(deps, silentLogger);
    // One page, then the operator cancels; the work message for the next page finds the job cancelled.
    const first = await receiveOne(workUrl);
    await worker({ Records: [first] });
    expect((await jobs.cancel(job.jobId, new Date().toISOString()))?.status).toBe('cancelled');
    await drain(workUrl, worker);

    expect(await jobs.get(job.jobId)).toMatchObject({
      status: 'cancelled',
      counts: { matched: 10, replayed: 10 },
    });
    await purge(eventsUrl);
  });

  it('resumes from the saved cursor after a worker dies mid-page', async () => {
    const source = 'cm-crash';
    const events = Array.from({ length: 25 }, (_, i) => ({
      ...nightEvent('HOTEL-R', i, 1),
      sourceId: source,
    }));
    await seedLedger(events as CanonicalEvent[], 'applied');
    const real = new SqsEventQueue(topology.sqs, eventsUrl);
    let crashes = 1;
    const flaky: ReplayEventQueue = {
      replay: async (page, replay) => {
        await real.replay(page, replay);
        // The page went out, and the worker died before recording it.
        if (page.length > 0 && crashes-- > 0) throw new Error('worker killed mid-page');
      },
    };
    const deps = workerDeps({ pageSize: 10, events: flaky });
    const job = await startReplay(
      { source, ...WINDOW, statuses: ['applied'] },
      { replays: jobs, replayWork: deps.work, clock: systemClock },
    );
    const worker = createReplayConsumer(deps, silentLogger);
    await drain(workUrl, worker);
    expect(await jobs.get(job.jobId)).toMatchObject({ status: 'running', cursor: { status: 0 } });

    // SQS delivers the work message again once its visibility times out; the job goes on from its cursor.
    await sleep(1_100);
    await drain(workUrl, worker);
    expect(await jobs.get(job.jobId)).toMatchObject({
      status: 'done',
      counts: { matched: 25, replayed: 25, notRetained: 0 },
    });
    await purge(eventsUrl);
  });
});
