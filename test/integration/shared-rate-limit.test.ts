import { randomUUID } from 'node:crypto';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import { PollingOptionsSchema, type RateLimit } from '../../lambdas/config/reconcile-options';
import { createSecretResolver } from '../../lambdas/config/secrets';
import {
  DynamoDbRateGate,
  type DynamoDbRateGateOptions,
  InvalidRateLimitItemError,
  RateLimitContendedError,
} from '../../lambdas/reconcile/dynamodb-rate-gate';
import { type FetchLike, PollingClient, type ProviderNight } from '../../lambdas/reconcile/polling-client';
import { InProcessRateGate, type RateGate } from '../../lambdas/reconcile/rate-limit';
import { createReconcileRuntime } from '../../lambdas/reconcile/runtime';
import { type Clock, systemClock } from '../../lambdas/shared/clock';
import {
  ARI_STATE,
  MAPPINGS,
  PARITY_FINDINGS,
  RECONCILE_AUDIT,
  RECONCILE_CHECKPOINTS,
} from '../../lambdas/shared/topology';
import { generateDataset, seededRandom } from '../../local/simulator/dataset';
import { type Simulator, startSimulator } from '../../local/simulator/server';
import { ManualClock } from '../fakes/clock';
import { rateGateContract } from '../ports/rate-gate.contract';
import { type IsolatedTopology, localClients, provisionIsolated } from '../support/aws';

// A provider's quota held in the checkpoints table on DynamoDB Local, shared by gates that stand for separate
// reconcile function instances: each is built on a DynamoDB client of its own, as each container has.

let topology: IsolatedTopology;

beforeAll(async () => {
  topology = await provisionIsolated();
});

function checkpointsTable(): string {
  const name = topology.tables[RECONCILE_CHECKPOINTS.id];
  if (name === undefined) throw new Error('the checkpoints table was not provisioned');
  return name;
}

/** A gate as a separate function instance holds it: its own DynamoDB client, the shared table. */
function sharedGate(
  limits: RateLimit,
  clock: Clock,
  options: Omit<DynamoDbRateGateOptions, 'clock'> = {},
): DynamoDbRateGate {
  return new DynamoDbRateGate(localClients().dynamodb, checkpointsTable(), limits, {
    clock,
    random: seededRandom(5),
    ...options,
  });
}

const freshSource = () => `src-${randomUUID().slice(0, 8)}`;
const START = Date.parse('2031-03-01T12:00:00.000Z');

rateGateContract('DynamoDbRateGate', (limits, clock) => sharedGate(limits, clock));
rateGateContract('InProcessRateGate', (limits, clock) => new InProcessRateGate(limits, clock));

describe('DynamoDbRateGate', () => {
  it('keeps one small item per bucket in the checkpoints table', async () => {
    const clock = new ManualClock(START);
    const gate = sharedGate({ requestsPerSecond: 4, burst: 2, perPropertyPerMinute: 30 }, clock);
    const source = freshSource();
    await gate.reserve(source, 'H1');
    clock.advance(125);
    await gate.reserve(source);
    const item = async (pk: string) =>
      (
        await topology.dynamodb.send(
          new GetItemCommand({ TableName: checkpointsTable(), Key: { pk: { S: pk } }, ConsistentRead: true }),
        )
      ).Item;
    expect(await item(`bucket#["${source}"]`)).toEqual({
      pk: { S: `bucket#["${source}"]` },
      tokens: { N: '0.5' },
      refilledAt: { N: String(START + 125) },
      version: { N: '2' },
    });
    expect(await item(`bucket#["${source}","H1"]`)).toEqual({
      pk: { S: `bucket#["${source}","H1"]` },
      tokens: { N: '0' },
      refilledAt: { N: String(START) },
      version: { N: '1' },
    });
  });

  it('shares its buckets between instances: what one reserved, the other waits for', async () => {
    const clock = new ManualClock(START);
    const limits = { requestsPerSecond: 10, burst: 2 };
    const [first, second] = [sharedGate(limits, clock), sharedGate(limits, clock)];
    const source = freshSource();
    expect(await first.reserve(source)).toBe(0);
    expect(await second.reserve(source)).toBe(0);
    expect(await first.waitTime(source)).toBe(100);
    expect(await second.reserve(source)).toBe(100);
    expect(await first.reserve(source)).toBe(200);
  });

  it('computes again from the winner’s bucket when another instance wrote first, and gives up when bounded', async () => {
    const clock = new ManualClock(START);
    const limits = { requestsPerSecond: 10, burst: 1 };
    const source = freshSource();
    const loser = sharedGate(limits, clock, { maxAttempts: 1, sleep: async () => undefined });
    const winner = sharedGate(limits, clock);
    // The loser has read the bucket (full) when the winner takes its only token.
    expect(await loser.waitTime(source)).toBe(0);
    expect(await winner.reserve(source)).toBe(0);
    const refused = loser.reserve(source);
    await expect(refused).rejects.toBeInstanceOf(RateLimitContendedError);
    await expect(refused).rejects.toMatchObject({ code: 'rate_limit_contended' });
    // Nothing was reserved by the refused write: the next caller waits for one token, not two.
    expect(await winner.waitTime(source)).toBe(100);

    const sleeps: number[] = [];
    const retrying = sharedGate(limits, clock, {
      maxAttempts: 2,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect(await retrying.waitTime(source)).toBe(100);
    expect(await winner.reserve(source)).toBe(100);
    expect(await retrying.reserve(source)).toBe(200);
    expect(sleeps).toHaveLength(1);
  });

  it('refuses an item it did not write, naming it and saying how to recover', async () => {
    const source = freshSource();
    await topology.dynamodb.send(
      new PutItemCommand({
        TableName: checkpointsTable(),
        Item: { pk: { S: `bucket#["${source}"]` }, tokens: { S: 'lots' } },
      }),
    );
    const gate = sharedGate({ requestsPerSecond: 1, burst: 1 }, new ManualClock(START));
    const error = await gate.reserve(source).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidRateLimitItemError);
    expect(error).toMatchObject({ code: 'rate_limit_item_invalid' });
    expect((error as Error).message).toContain(`bucket#["${source}"]`);
    expect((error as Error).message).toContain('Delete it');
  });

  it('lets eight instances reserving at one instant take each token once', async () => {
    const clock = new ManualClock(START);
    const limits = { requestsPerSecond: 20, burst: 4 };
    const source = freshSource();
    const gates = Array.from({ length: 8 }, (_, index) =>
      sharedGate(limits, clock, { random: seededRandom(index + 1) }),
    );
    const waits = (
      await Promise.all(
        gates.map(async (gate) => {
          const own: number[] = [];
          for (let i = 0; i < 5; i++) own.push(await gate.reserve(source));
          return own;
        }),
      )
    ).flat();
    // Forty reservations at one instant: four at once, then one every 50 ms, none twice.
    expect(waits.sort((a, b) => a - b)).toEqual([
      ...Array.from({ length: 4 }, () => 0),
      ...Array.from({ length: 36 }, (_, i) => (i + 1) * 50),
    ]);
  });

  it('keeps eight instances reserving concurrently in real time within capacity plus rate × elapsed', async () => {
    const limits = { requestsPerSecond: 25, burst: 5 };
    const source = freshSource();
    const sendTimes: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, index) => {
        // The instant the gate last read is the one its answer counts from: its final, successful attempt.
        let readAt = 0;
        const clock: Clock = {
          now: () => {
            const now = systemClock.now();
            readAt = now.getTime();
            return now;
          },
        };
        const gate = sharedGate(limits, clock, { random: seededRandom(index + 11) });
        for (let i = 0; i < 8; i++) {
          const wait = await gate.reserve(source);
          sendTimes.push(readAt + wait);
        }
      }),
    );
    expect(sendTimes).toHaveLength(64);
    const sorted = sendTimes.sort((a, b) => a - b);
    // In every window from one send to a later one, no more were admitted than the bucket allows.
    const excess: string[] = [];
    for (let from = 0; from < sorted.length; from++) {
      for (let to = from; to < sorted.length; to++) {
        const admitted = to - from + 1;
        const allowed =
          limits.burst + (limits.requestsPerSecond * ((sorted[to] ?? 0) - (sorted[from] ?? 0))) / 1000;
        if (admitted > allowed + 1e-9)
          excess.push(`${admitted} sends in ${(sorted[to] ?? 0) - (sorted[from] ?? 0)} ms`);
      }
    }
    expect(excess).toEqual([]);
    // The gate did hold them back: 64 requests at 25 a second cannot all go within a second.
    expect((sorted.at(-1) ?? 0) - (sorted[0] ?? 0)).toBeGreaterThanOrEqual(((64 - 5) * 1000) / 25);
  });
});

describe('createReconcileRuntime', () => {
  /** A reconcile function instance on the test's tables whose provider answers one empty page at once. */
  function instance(sourceId: string, clock: Clock, sleeps: number[], sharedRateLimits: boolean) {
    const config = parseConfig({
      version: 1,
      sources: [
        {
          id: sourceId,
          kind: 'channel-manager',
          secrets: [{ value: 'noW14haeZIwGXEM6hqY0dhjqqO1ZnFbrRp2CwPqqgMs=' }],
          polling: {
            baseUrl: 'https://provider.example.test/v2',
            token: { value: 'provider-token' },
            rateLimit: { requestsPerSecond: 1, burst: 1 },
          },
        },
      ],
    });
    const emptyPage: FetchLike = async () => ({
      status: 200,
      headers: { get: () => null },
      text: async () => '{"results":[],"next_cursor":null}',
    });
    const tableOf = (definition: { readonly id: string }) => topology.tables[definition.id] ?? '';
    const runtime = createReconcileRuntime({
      config,
      tables: {
        ari: tableOf(ARI_STATE),
        mappings: tableOf(MAPPINGS),
        checkpoints: tableOf(RECONCILE_CHECKPOINTS),
        audit: tableOf(RECONCILE_AUDIT),
        parity: tableOf(PARITY_FINDINGS),
      },
      dynamodb: localClients().dynamodb,
      secrets: createSecretResolver({}),
      clock,
      fetch: emptyPage,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      sharedRateLimits,
    });
    const [source] = config.sources;
    if (source?.polling === undefined) throw new Error('no polled source');
    const { client } = runtime().clientFor({ ...source, polling: source.polling });
    return async () => {
      for await (const _page of client.pages({ updatedAfter: new Date(0), deadline: START + 60_000 })) {
        // Draining is the point: each page is one reserved request.
      }
    };
  }

  it.each([
    [true, [1_000]],
    [false, []],
  ])(
    'with sharedRateLimits %s, a second instance waits for what the first reserved: %j',
    async (shared, waits) => {
      const clock = new ManualClock(START);
      const sleeps: number[] = [];
      const source = freshSource();
      await instance(source, clock, sleeps, shared)();
      await instance(source, clock, sleeps, shared)();
      expect(sleeps).toEqual(waits);
    },
  );
});

// ----------------------------------------------------------------------------------------------- simulator

const TOKEN = 'sim-token-0123456789';
const PROPERTIES = ['H1', 'H2', 'H3', 'H4'];
let simulator: Simulator | undefined;

afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

/** The provider's quota, and the client's set a little below it, as a deployment would configure it. */
const PROVIDER_LIMIT = { requestsPerSecond: 16, burst: 5, perPropertyPerMinute: 600, perPropertyBurst: 3 };
const CLIENT_LIMIT: RateLimit = { requestsPerSecond: 16, burst: 2, perPropertyPerMinute: 600 };

/** Eight workers, two per property, each polling its property's whole inventory through its own gate. */
async function pollWithEightWorkers(sourceId: string, gateFor: () => RateGate, runMs: number) {
  if (!simulator) throw new Error('no simulator');
  const { url } = simulator;
  const deadline = Date.now() + runMs;
  return Promise.all(
    Array.from({ length: 8 }, async (_, worker) => {
      const propertyId = PROPERTIES[worker % PROPERTIES.length] ?? 'H1';
      const client = new PollingClient(
        PollingOptionsSchema.parse({
          baseUrl: url,
          pageSize: 20,
          rateLimit: CLIENT_LIMIT,
          backoff: { baseMs: 20, capMs: 200 },
          requestTimeoutMs: 500,
        }),
        {
          sourceId,
          fetch: (target, init) => fetch(target, init),
          clock: systemClock,
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
          random: seededRandom(worker + 21),
          token: async () => TOKEN,
          rateGate: gateFor(),
        },
      );
      const nights: ProviderNight[] = [];
      let throttled = 0;
      const pages = client.pages({ updatedAfter: new Date(0), deadline, propertyId });
      for (;;) {
        const next = await pages.next();
        if (next.done) return { propertyId, nights, throttled, outcome: next.value };
        nights.push(...next.value.nights);
        throttled += next.value.throttled;
      }
    }),
  );
}

describe('Eight polling clients against the provider simulator', () => {
  it('draw no 429 when their gates share the quota in DynamoDB', async () => {
    const dataset = generateDataset({ seed: 41, nights: 480, properties: PROPERTIES });
    simulator = await startSimulator({
      port: 0,
      host: '127.0.0.1',
      dataset,
      token: TOKEN,
      random: seededRandom(6),
      rateLimit: PROVIDER_LIMIT,
    });
    const workers = await pollWithEightWorkers(
      freshSource(),
      () => sharedGate(CLIENT_LIMIT, systemClock),
      30_000,
    );

    expect(simulator.stats().rateLimited).toBe(0);
    expect(workers.map((worker) => [worker.outcome, worker.throttled, worker.nights.length])).toEqual(
      Array.from({ length: 8 }, () => [{ status: 'complete' }, 0, 120]),
    );
    // 48 pages at 16 a second after a burst of 2: the gates paced them, no worker ran at its own full quota.
    expect(simulator.stats().pagesServed).toBe(48);
  });

  it('draw 429s when each keeps the quota to itself', async () => {
    const dataset = generateDataset({ seed: 41, nights: 480, properties: PROPERTIES });
    simulator = await startSimulator({
      port: 0,
      host: '127.0.0.1',
      dataset,
      token: TOKEN,
      random: seededRandom(6),
      rateLimit: PROVIDER_LIMIT,
    });
    // Short: a throttled worker would wait out Retry-After; the run stops at the deadline instead.
    await pollWithEightWorkers(freshSource(), () => new InProcessRateGate(CLIENT_LIMIT, systemClock), 1_200);
    expect(simulator.stats().rateLimited).toBeGreaterThan(0);
  });
});
