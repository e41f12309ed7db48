import { randomBytes } from 'node:crypto';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParityOptionsSchema } from '../../lambdas/config/reconcile-options';
import { createParityConsumer } from '../../lambdas/parity/consumer';
import { parseStreamBatchFailure } from '../../lambdas/queue/stream-failures';
import { checkPropertyParity } from '../../lambdas/reconcile/parity';
import { fixedClock } from '../../lambdas/shared/clock';
import { ARI_STATE, PARITY_DLQ, PARITY_FINDINGS } from '../../lambdas/shared/topology';
import { DynamoDbAriStore } from '../../lambdas/state/dynamodb-ari-store';
import { DynamoDbParityStore } from '../../lambdas/state/dynamodb-parity';
import type { ParityRecord } from '../../lambdas/state/ports';
import { LOCAL_AWS } from '../../local/emulators';
import { startParityStream } from '../../local/parity-stream';
import type { StreamPoller } from '../../local/stream-poller';
import { InMemoryParityStore } from '../fakes/reconcile-memory';
import { emulatorEndpoints, type IsolatedTopology, provisionIsolated } from '../support/aws';
import { eventually } from '../support/eventually';
import {
  findingsOnly,
  HORIZON_DAYS,
  nightChange,
  PARITY_PROPERTY,
  TODAY,
  TRUTH,
} from '../support/parity-changes';

const clock = fixedClock(`${TODAY}T08:00:00Z`);
/**
 * One room type and rate plan (an id that needs percent-encoding in the stream's keys): a run's few changes then
 * often fall on the same night, so that findings appear and are cleared again.
 */
const denseChange = nightChange.map((change) => ({
  ...change,
  key: { ...change.key, roomTypeId: 'suite#1 ä', ratePlanId: 'bar' },
}));

let topology: IsolatedTopology;
let poller: StreamPoller;
let ari: DynamoDbAriStore;
let findings: DynamoDbParityStore;
/** The property ids the consumer may check, one per run, and the stream records it has seen for each. */
const runs = new Map<string, number>();
/** Nights whose check fails on purpose, by room type. */
const failing = new Set<string>();

function table(definition: { readonly id: string }): string {
  const name = topology.tables[definition.id];
  if (name === undefined) throw new Error(`table ${definition.id} was not provisioned`);
  return name;
}

/** Parity configured for these properties only, as a deployment configures its own. */
function optionsFor(...propertyIds: string[]) {
  return ParityOptionsSchema.parse({
    properties: propertyIds.map((propertyId) => ({
      propertyId,
      sourceOfTruth: TRUTH,
      tolerance: { absoluteMinor: 5 },
    })),
  });
}

beforeAll(async () => {
  topology = await provisionIsolated();
  ari = new DynamoDbAriStore(topology.dynamodb, table(ARI_STATE));
  findings = new DynamoDbParityStore(topology.dynamodb, table(PARITY_FINDINGS));
  const deps = {
    ari: {
      readNightChannels: (key: Parameters<DynamoDbAriStore['readNightChannels']>[0]) => {
        if (failing.has(key.roomTypeId)) throw new Error('ThrottlingException: injected');
        return ari.readNightChannels(key);
      },
    },
    store: findings,
    clock,
  };
  const consumer = async (event: DynamoDBStreamEvent) => {
    const ids = event.Records.map((record) => record.dynamodb?.Keys?.pk?.S?.slice(2) ?? '');
    // Each run's own property has parity; its `-off` twin has none.
    const configured = [...new Set(ids)].filter((id) => !id.endsWith('-off'));
    const check = createParityConsumer(
      deps,
      { parity: optionsFor(...configured), horizonDays: HORIZON_DAYS },
      { error: () => undefined },
    );
    const result = await check(event);
    // Counted once checked and written, so that a test waiting for its records reads the findings they left.
    for (const id of ids) runs.set(id, (runs.get(id) ?? 0) + 1);
    return result;
  };
  const deadLetterQueue = topology.queues[PARITY_DLQ.id];
  if (deadLetterQueue === undefined) throw new Error('the parity DLQ was not provisioned');
  poller = await startParityStream({
    dynamodb: topology.dynamodb,
    sqs: topology.sqs,
    dynamodbEndpoint: emulatorEndpoints().dynamodbEndpoint,
    ...LOCAL_AWS,
    ariTableName: table(ARI_STATE),
    deadLetterQueueUrl: deadLetterQueue.url,
    consumer,
    logError: () => undefined,
  });
  await poller.started;
});

afterAll(async () => {
  await poller?.stop();
});

async function storedFindings(propertyId: string): Promise<ParityRecord[]> {
  const page = await findings.list({ propertyId, from: '2026-05-01', to: '2026-07-01', limit: 1000 });
  return [...page.items];
}

describe('parity on change over the ARI table stream in DynamoDB Local', () => {
  it('leaves each changed night with exactly the findings a full sweep gives it', async () => {
    let version = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(denseChange, { minLength: 1, maxLength: 16 }), async (changes) => {
        // A property of its own per run: the stream and the tables are shared by the runs.
        const propertyId = `p-${randomBytes(4).toString('hex')}`;
        runs.set(propertyId, 0);
        let written = 0;
        for (const change of changes) {
          version += 1;
          const key = {
            ...change.key,
            propertyId: change.key.propertyId === PARITY_PROPERTY ? propertyId : `${propertyId}-off`,
          };
          const groups = await ari.writeNight(
            key,
            change.write,
            String(version).padStart(8, '0'),
            `e${version}`,
          );
          if (groups.length > 0 && key.propertyId === propertyId) written += 1;
        }
        await eventually(`${written} stream records of ${propertyId}`, async () =>
          (runs.get(propertyId) ?? 0) >= written ? true : undefined,
        );

        const swept = new InMemoryParityStore();
        await checkPropertyParity(
          { propertyId, from: TODAY, to: '2026-06-03' },
          { ari, store: swept, clock },
          optionsFor(propertyId),
        );
        expect(findingsOnly(await storedFindings(propertyId))).toEqual(
          findingsOnly(swept.nights.get(propertyId)?.values() ?? []),
        );
      }),
      { seed: 4122026, numRuns: 10 },
    );
  }, 120_000);

  it('sends a night that keeps failing to the dead-letter queue and goes on with the next changes', async () => {
    const propertyId = `p-${randomBytes(4).toString('hex')}`;
    runs.set(propertyId, 0);
    failing.add('broken');
    const key = { propertyId, roomTypeId: 'broken', ratePlanId: 'bar', channel: TRUTH, date: TODAY };
    await ari.writeNight(key, { rate: { amountMinor: 1000, currency: 'EUR' } }, '1', 'e1');
    const queueUrl = topology.queues[PARITY_DLQ.id]?.url;
    const message = await eventually(
      'the given-up batch in the dead-letter queue',
      async () => {
        const { Messages = [] } = await topology.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
        );
        return Messages[0];
      },
      20_000,
    );
    // The shape Lambda sends a stream's on-failure destination, which the operations tools read.
    const secondIso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
    expect(parseStreamBatchFailure(message.Body ?? '')).toEqual({
      requestContext: {
        requestId: expect.any(String),
        functionArn: expect.stringMatching(/^arn:aws:lambda:[^:]+:\d{12}:function:/),
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 4,
      },
      // The consumer answered with the failed record rather than failing.
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      version: '1.0',
      timestamp: expect.any(String),
      DDBStreamBatchInfo: {
        shardId: expect.any(String),
        startSequenceNumber: expect.any(String),
        endSequenceNumber: expect.any(String),
        approximateArrivalOfFirstRecord: expect.stringMatching(secondIso),
        approximateArrivalOfLastRecord: expect.stringMatching(secondIso),
        batchSize: 1,
        streamArn: expect.stringContaining(table(ARI_STATE)),
      },
    });

    // The shard moved on: a later change to another night is checked.
    await ari.writeNight(
      { ...key, roomTypeId: 'dbl' },
      { rate: { amountMinor: 1000, currency: 'EUR' } },
      '2',
      'e2',
    );
    await ari.writeNight(
      { ...key, roomTypeId: 'dbl', channel: 'ota-a' },
      { rate: { amountMinor: 1100, currency: 'EUR' } },
      '3',
      'e3',
    );
    const stored = await eventually('the finding of the later change', async () => {
      const records = await storedFindings(propertyId);
      return records.length > 0 ? records : undefined;
    });
    expect(stored.map((record) => record.key.roomTypeId)).toEqual(['dbl']);
  }, 40_000);

  it("reads exactly one night's channels, not the neighbours sharing its key prefix", async () => {
    const propertyId = `p-${randomBytes(4).toString('hex')}-off`;
    const night = { propertyId, roomTypeId: 'suite#1 ä', ratePlanId: 'bar', date: TODAY };
    const write = (key: typeof night & { channel: string }, version: string) =>
      ari.writeNight(key, { rate: { amountMinor: 1000, currency: 'EUR' } }, version, `e${version}`);
    await write({ ...night, channel: TRUTH }, '1');
    await write({ ...night, channel: 'ota-a' }, '2');
    await write({ ...night, ratePlanId: 'bar2', channel: TRUTH }, '3');
    await write({ ...night, roomTypeId: 'suite', channel: TRUTH }, '4');
    await write({ ...night, date: '2026-06-02', channel: TRUTH }, '5');

    const channels = await ari.readNightChannels(night);
    expect(channels.map((state) => state.key)).toEqual([
      { ...night, channel: TRUTH },
      { ...night, channel: 'ota-a' },
    ]);
  });
});
