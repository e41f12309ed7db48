import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfig } from '../../lambdas/config/schema';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { SqsWorkQueue, type WorkQueue } from '../../lambdas/queue/sqs-work-queue';
import {
  DEAD_LETTERED,
  type PlannedRun,
  planRun,
  runWorkItem,
  type WorkerDependencies,
  type WorkMessage,
} from '../../lambdas/reconcile/fanout';
import { createReconcileRuntime, type ReconcileRuntime } from '../../lambdas/reconcile/runtime';
import { type ReconcileReport, reconcile, type SourceResult } from '../../lambdas/reconcile/service';
import { createWorkDeadLetterConsumer } from '../../lambdas/reconcile/work-dead-letters';
import { createReconcileWorker } from '../../lambdas/reconcile/worker';
import { systemClock } from '../../lambdas/shared/clock';
import {
  ARI_STATE,
  MAPPINGS,
  PARITY_FINDINGS,
  RECONCILE_AUDIT,
  RECONCILE_CHECKPOINTS,
  RECONCILE_RUN_LOG,
  RECONCILE_WORK,
  RECONCILE_WORK_DLQ,
} from '../../lambdas/shared/topology';
import { DynamoDbAriStore } from '../../lambdas/state/dynamodb-ari-store';
import { DynamoDbAuditLog } from '../../lambdas/state/dynamodb-audit';
import { DynamoDbReconcileRunStore } from '../../lambdas/state/dynamodb-reconcile-runs';
import type { ReconcileRunStore, RunDetail } from '../../lambdas/state/reconcile-runs';
import { type SqsConsumer, startSqsPoller } from '../../local/poller';
import {
  canonicalValues,
  type DemoDataset,
  generateDataset,
  seededRandom,
} from '../../local/simulator/dataset';
import { type Simulator, startSimulator } from '../../local/simulator/server';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';
import { eventually } from '../support/eventually';

/**
 * Reconciliation fanned out over the work queue, end to end on the emulators: the planner records the run and
 * sends its items to the RECONCILE_WORK queue in fauxqs, workers take them through the local stand-in for the
 * SQS event source, and every store is the DynamoDB adapter on DynamoDB Local.
 */

const SIGNING_SECRET = 'noW14haeZIwGXEM6hqY0dhjqqO1ZnFbrRp2CwPqqgMs=';
const TOKEN = 'fanout-token';
const PROPERTIES = ['H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'H7', 'H8'];
const ROOM_TYPES: Record<string, string> = { 'DBL-STD': 'dbl', 'TWN-STD': 'twn', 'STE-DLX': 'ste' };
const SOURCE = 'cm-fan';
/** One request every two seconds per property: a page is handled faster, so unpaced paging is refused. */
const PER_PROPERTY_PER_MINUTE = 30;

let simulator: Simulator | undefined;
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await simulator?.stop();
  simulator = undefined;
});

function tableOf(topology: IsolatedTopology, definition: { readonly id: string }): string {
  const name = topology.tables[definition.id];
  if (name === undefined) throw new Error(`${definition.id} was not provisioned`);
  return name;
}

function configFor(baseUrl: string, rateLimit: Record<string, number>, workers = 8): ParitySyncConfig {
  return parseConfig({
    version: 1,
    sources: [
      {
        id: SOURCE,
        kind: 'channel-manager',
        secrets: [{ value: SIGNING_SECRET }],
        polling: { baseUrl, token: { value: TOKEN }, pageSize: 10, rateLimit, propertyIds: PROPERTIES },
      },
    ],
    mappings: [
      {
        scope: '*',
        properties: Object.fromEntries(PROPERTIES.map((id) => [id, `fo-${id.toLowerCase()}`])),
        roomTypes: ROOM_TYPES,
        ratePlans: { BAR: 'bar', NRF: 'nrf' },
      },
    ],
    reconciliation: { workers },
  });
}

/** `perPropertyBurst` 1 leaves no slack: an unpaced client is refused on its second page however busy the machine. */
async function startProvider(
  perPropertyPerMinute?: number,
  sourceLimit = { requestsPerSecond: 1000, burst: 1000 },
  perPropertyBurst = 2,
): Promise<{ dataset: DemoDataset; url: string }> {
  const dataset = generateDataset({ seed: 33, nights: 8 * 45, properties: PROPERTIES });
  simulator = await startSimulator({
    port: 0,
    token: TOKEN,
    dataset,
    random: seededRandom(9),
    rateLimit: {
      ...sourceLimit,
      ...(perPropertyPerMinute === undefined ? {} : { perPropertyPerMinute, perPropertyBurst }),
    },
  });
  return { dataset, url: simulator.url };
}

function runtimeOf(
  topology: IsolatedTopology,
  config: ParitySyncConfig,
  sharedRateLimits = false,
): ReconcileRuntime {
  return createReconcileRuntime({
    config,
    sharedRateLimits,
    tables: {
      ari: tableOf(topology, ARI_STATE),
      mappings: tableOf(topology, MAPPINGS),
      checkpoints: tableOf(topology, RECONCILE_CHECKPOINTS),
      audit: tableOf(topology, RECONCILE_AUDIT),
      parity: tableOf(topology, PARITY_FINDINGS),
    },
    dynamodb: topology.dynamodb,
    secrets: createSecretResolver({}),
  });
}

/**
 * Local state that agrees with the provider on most nights, holds an older rate for every fifth and nothing for
 * every seventh: drift above the threshold in every property, so each one is corrected.
 */
async function seed(topology: IsolatedTopology, dataset: DemoDataset): Promise<void> {
  const ari = new DynamoDbAriStore(topology.dynamodb, tableOf(topology, ARI_STATE));
  await Promise.all(
    dataset.nights().map(async (night, index) => {
      if (index % 7 === 0) return;
      const values = canonicalValues(night);
      const stale = index % 5 === 0;
      const rate = stale ? { ...values.rate, amountMinor: values.rate.amountMinor + 500 } : values.rate;
      const updatedAt = stale
        ? new Date(Date.parse(night.updatedAt) - 86_400_000).toISOString()
        : night.updatedAt;
      await ari.writeNight(keyOf(night), { ...values, rate }, `${updatedAt}#seed`, 'seed');
    }),
  );
}

function keyOf(night: { propertyId: string; roomTypeCode: string; ratePlanCode: string; date: string }) {
  return {
    propertyId: `fo-${night.propertyId.toLowerCase()}`,
    roomTypeId: ROOM_TYPES[night.roomTypeCode] ?? '',
    ratePlanId: night.ratePlanCode.toLowerCase(),
    channel: SOURCE,
    date: night.date,
  };
}

interface FanOut {
  readonly runs: ReconcileRunStore;
  readonly worker: WorkerDependencies;
  readonly sent: WorkMessage[];
  readonly completed: ReconcileReport[];
  readonly queueUrl: string;
  plan(): Promise<PlannedRun & { outcome: 'planned' }>;
  /** Runs `workers` receive loops over the work queue until the run is complete. */
  drain(runId: string, workers: number): Promise<RunDetail>;
  /**
   * Runs `workers` receive loops, each with its own reconcile runtime (polling clients, limiters, breakers) as
   * separate Lambda containers have, sharing the provider's quota through the checkpoints table.
   */
  drainAsContainers(runId: string, workers: number): Promise<RunDetail>;
}

function fanOut(topology: IsolatedTopology, config: ParitySyncConfig): FanOut {
  const runs = new DynamoDbReconcileRunStore(topology.dynamodb, tableOf(topology, RECONCILE_RUN_LOG), {
    retentionDays: 90,
  });
  const queueUrl = topology.queues[RECONCILE_WORK.id]?.url ?? '';
  const sqsQueue = new SqsWorkQueue<WorkMessage>(topology.sqs, queueUrl);
  const sent: WorkMessage[] = [];
  const work: WorkQueue<WorkMessage> = {
    send: async (bodies) => {
      sent.push(...bodies);
      await sqsQueue.send(bodies);
    },
  };
  const completed: ReconcileReport[] = [];
  const worker: WorkerDependencies = {
    runtime: runtimeOf(topology, config),
    runs,
    work,
    budgetMs: 60_000,
    leaseMs: 120_000,
    onComplete: (report) => {
      completed.push(report);
    },
  };
  return {
    runs,
    worker,
    sent,
    completed,
    queueUrl,
    async plan() {
      const planned = await planRun(
        { trigger: 'manual', parity: false },
        { config, runs, work, clock: systemClock },
      );
      if (planned.outcome !== 'planned')
        throw new Error(`the run was not planned: ${JSON.stringify(planned)}`);
      return planned;
    },
    drain(runId, workers) {
      poll(worker, workers);
      return untilComplete(runId);
    },
    drainAsContainers(runId, workers) {
      for (let index = 0; index < workers; index++) {
        poll({ ...worker, runtime: runtimeOf(topology, config, true) }, 1);
      }
      return untilComplete(runId);
    },
  };

  function poll(deps: WorkerDependencies, concurrency: number): void {
    const poller = startSqsPoller({
      sqs: topology.sqs,
      queueUrl,
      queueArn: topology.queues[RECONCILE_WORK.id]?.arn ?? '',
      region: 'eu-west-1',
      consumer: createReconcileWorker(
        { ...deps, maxReceiveCount: 5 },
        { info: () => undefined, warn: () => undefined, error: () => undefined },
      ),
      batchSize: 1,
      concurrency,
      waitTimeSeconds: 1,
      visibilityTimeoutSeconds: 120,
    });
    stops.push(() => poller.stop());
  }

  function untilComplete(runId: string): Promise<RunDetail> {
    return eventually(
      `run ${runId} to complete`,
      async () => {
        const run = await runs.get(runId);
        // The worker that completed the run reports it right after marking it complete.
        return run?.status === 'complete' && completed.length > 0 ? run : undefined;
      },
      120_000,
    );
  }
}

type Reconciled = SourceResult & { readonly outcome: 'reconciled' };

function totals(results: readonly SourceResult[]) {
  const reconciled = results.filter((result): result is Reconciled => result.outcome === 'reconciled');
  const sum = (pick: (result: Reconciled) => number) => reconciled.reduce((total, r) => total + pick(r), 0);
  return {
    scans: results.length,
    failed: results.length - reconciled.length,
    nightsPolled: sum((r) => r.nightsPolled),
    compared: sum((r) => r.drift.overall.compared),
    mismatched: sum((r) => r.drift.overall.mismatched),
    silentMisses: sum((r) => r.drift.overall.silentMisses),
    correctedGroups: sum((r) => r.correctedGroups),
    skippedCorrections: sum((r) => r.skippedCorrections),
  };
}

function perProperty(results: readonly SourceResult[]) {
  return Object.fromEntries(
    results
      .flatMap((result) => (result.outcome === 'reconciled' ? result.drift.properties : []))
      .map((property) => [
        property.propertyId,
        [property.compared, property.mismatched, property.silentMisses, property.action],
      ]),
  );
}

async function auditOf(topology: IsolatedTopology, propertyId: string) {
  const audit = new DynamoDbAuditLog(topology.dynamodb, tableOf(topology, RECONCILE_AUDIT), {
    retentionDays: 90,
    clock: systemClock,
  });
  return audit.listProperty(propertyId, '2000-01-01', '2100-01-01');
}

async function versionsOf(topology: IsolatedTopology, propertyId: string) {
  const ari = new DynamoDbAriStore(topology.dynamodb, tableOf(topology, ARI_STATE));
  const page = await ari.readNights({ propertyId, from: '2000-01-01', to: '2100-01-01', limit: 1000 });
  return page.items.map((night) => [
    night.key.date,
    night.key.roomTypeId,
    night.key.ratePlanId,
    night.rate?.version,
    night.availability?.version,
    night.restrictions?.version,
  ]);
}

describe('reconciliation fanned out over the work queue', () => {
  it('completes a run over eight properties with the drift totals of the serial run over the same data', async () => {
    const { dataset, url } = await startProvider();
    const config = configFor(url, { requestsPerSecond: 200, burst: 20 });
    const [serialTopology, fanTopology] = await Promise.all([provisionIsolated(), provisionIsolated()]);
    await Promise.all([seed(serialTopology, dataset), seed(fanTopology, dataset)]);

    const serial = await reconcile({ parity: false }, runtimeOf(serialTopology, config)());

    const fan = fanOut(fanTopology, config);
    const planned = await fan.plan();
    expect(planned).toMatchObject({
      driftItems: 8,
      parityItems: 0,
      scans: PROPERTIES.map((id) => `${SOURCE} ${id}`),
    });
    expect(fan.sent.map((message) => message.itemId)).toEqual(
      PROPERTIES.map((id) => `drift/${SOURCE}/${id}`),
    );
    const run = await fan.drain(planned.runId, 4);

    expect(fan.completed).toHaveLength(1);
    const report = fan.completed[0] as ReconcileReport;
    expect(totals(report.sources)).toEqual(totals(serial.sources));
    expect(totals(serial.sources)).toMatchObject({ scans: 8, failed: 0, nightsPolled: dataset.size });
    expect(totals(serial.sources).correctedGroups).toBeGreaterThan(0);
    expect(perProperty(report.sources)).toEqual(perProperty(serial.sources));

    // The run log sums the same figures per source.
    expect(run).toMatchObject({ status: 'complete', planned: 8, done: 8, failed: 0 });
    const serialTotals = totals(serial.sources);
    expect(run.sources).toEqual([
      expect.objectContaining({
        sourceId: SOURCE,
        planned: 8,
        done: 8,
        nightsPolled: serialTotals.nightsPolled,
        compared: serialTotals.compared,
        mismatched: serialTotals.mismatched,
        silentMisses: serialTotals.silentMisses,
        correctedGroups: serialTotals.correctedGroups,
      }),
    ]);
    // And local state ends the same in both.
    for (const id of ['fo-h1', 'fo-h8']) {
      const values = async (topology: IsolatedTopology) =>
        (
          await new DynamoDbAriStore(topology.dynamodb, tableOf(topology, ARI_STATE)).readNights({
            propertyId: id,
            from: '2000-01-01',
            to: '2100-01-01',
            limit: 1000,
          })
        ).items.map((night) => [night.key, night.rate?.value, night.availability?.value]);
      expect(await values(fanTopology)).toEqual(await values(serialTopology));
    }
    // A serial run and a fanned-out one over the same data: about 10 s alone, twice that beside other files.
  }, 60_000);

  it('changes nothing when a finished item is delivered again, or when an item whose worker died runs again', async () => {
    const { dataset, url } = await startProvider();
    const config = configFor(url, { requestsPerSecond: 200, burst: 20 });
    const topology = await provisionIsolated();
    await seed(topology, dataset);
    const fan = fanOut(topology, config);
    const planned = await fan.plan();

    // A worker takes H1's item, does all its work, and dies before it can end the item.
    const [h1] = fan.sent as [WorkMessage];
    const dying: WorkerDependencies = {
      ...fan.worker,
      leaseMs: 1,
      runs: { ...bound(fan.runs), finish: async () => Promise.reject(new Error('worker killed')) },
    };
    await expect(runWorkItem(h1, dying)).rejects.toThrow('worker killed');
    const audited = await auditOf(topology, 'fo-h1');
    const versions = await versionsOf(topology, 'fo-h1');
    expect(audited.length).toBeGreaterThan(0);

    // Its message comes back (with the rest): the lease ran out, so a worker runs it again.
    const run = await fan.drain(planned.runId, 4);
    expect(run).toMatchObject({ planned: 8, done: 8, failed: 0 });
    expect(await auditOf(topology, 'fo-h1')).toEqual(audited);
    expect(await versionsOf(topology, 'fo-h1')).toEqual(versions);

    // Every item delivered once more: each is acknowledged without work.
    const before = {
      run: await fan.runs.get(planned.runId),
      audit: await auditOf(topology, 'fo-h2'),
      versions: await versionsOf(topology, 'fo-h2'),
    };
    const outcomes = await Promise.all(fan.sent.map((message) => runWorkItem(message, fan.worker)));
    expect(outcomes.every((outcome) => outcome.outcome === 'skipped')).toBe(true);
    expect(await fan.runs.get(planned.runId)).toEqual(before.run);
    expect(await auditOf(topology, 'fo-h2')).toEqual(before.audit);
    expect(await versionsOf(topology, 'fo-h2')).toEqual(before.versions);
    expect(fan.completed).toHaveLength(1);
  });

  it('with eight workers and the provider quota left out of the configuration, rides out the 429s losing no night', async () => {
    const { dataset, url } = await startProvider(PER_PROPERTY_PER_MINUTE, undefined, 1);
    const config = configFor(url, { requestsPerSecond: 200, burst: 20 });
    const topology = await provisionIsolated();
    const fan = fanOut(topology, config);
    const planned = await fan.plan();
    await fan.drain(planned.runId, 8);
    const report = fan.completed[0] as ReconcileReport;
    const provider = simulator as Simulator;
    expect(provider.stats().rateLimited).toBeGreaterThan(0);
    expect(report.sources.reduce((n, s) => n + (s.outcome === 'reconciled' ? s.throttled : 0), 0)).toBe(
      provider.stats().rateLimited,
    );
    for (const id of PROPERTIES) {
      const result = report.sources.find((source) => source.propertyId === id);
      expect(result?.outcome === 'reconciled' && result.nightsPolled, id).toBe(
        dataset.nights().filter((night) => night.propertyId === id).length,
      );
    }
  });

  it('ends the item of a worker Lambda stops on every receive once its message is dead-lettered: the run completes, and the next is planned at once', async () => {
    const { url } = await startProvider();
    const config = configFor(url, { requestsPerSecond: 200, burst: 20 });
    const topology = await provisionIsolated();
    const fan = fanOut(topology, config);
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const queue = (definition: { readonly id: string }) => {
      const provisioned = topology.queues[definition.id];
      if (provisioned === undefined) throw new Error(`${definition.id} was not provisioned`);
      return provisioned;
    };
    const poll = (definition: { readonly id: string }, consumer: SqsConsumer, batchSize: number) => {
      const poller = startSqsPoller({
        sqs: topology.sqs,
        queueUrl: queue(definition).url,
        queueArn: queue(definition).arn,
        region: 'eu-west-1',
        consumer,
        batchSize,
        concurrency: 2,
        waitTimeSeconds: 1,
        // Five receives of the stopped worker's message, one a second.
        visibilityTimeoutSeconds: 1,
        // The stopped invocations are expected; anything else is still reported.
        logError: (message, error) => {
          if (!(error instanceof Error && error.message.startsWith('Task timed out')))
            console.error(message, error);
        },
      });
      stops.push(() => poller.stop());
    };

    // The work DLQ's consumer, as deployed: it runs all along, and finds nothing to do until a message arrives.
    const deadLettered: number[] = [];
    poll(
      RECONCILE_WORK_DLQ,
      createWorkDeadLetterConsumer({ ...fan.worker, clock: systemClock }, quiet, {
        singleMetric: () => ({
          addDimension: () => undefined,
          addMetric: (_name: string, _unit: string, value: number) => deadLettered.push(value),
        }),
      }),
      RECONCILE_WORK_DLQ.consumer?.batchSize ?? 10,
    );

    const planned = await fan.plan();
    const doomed = `drift/${SOURCE}/H3`;
    const worker = createReconcileWorker({ ...fan.worker, maxReceiveCount: 5 }, quiet);
    const receives: number[] = [];
    poll(
      RECONCILE_WORK,
      async (event, context) => {
        const [record] = event.Records;
        const message = JSON.parse(record?.body ?? '{}') as WorkMessage;
        if (message.itemId !== doomed) return worker(event, context);
        receives.push(Number(record?.attributes.ApproximateReceiveCount));
        // Lambda stops the invocation once the item is claimed, every time: nothing of the worker runs after
        // that, not even the give-up of the last receive. Its lease is shorter than the message's visibility.
        const claimedAt = Date.now();
        await fan.runs.claim(
          message,
          randomUUID(),
          new Date(claimedAt).toISOString(),
          new Date(claimedAt + 500).toISOString(),
        );
        throw new Error('Task timed out after 0.50 seconds');
      },
      1,
    );

    const run = await eventually(
      `run ${planned.runId} to complete`,
      async () => {
        const current = await fan.runs.get(planned.runId);
        return current?.status === 'complete' && fan.completed.length > 0 ? current : undefined;
      },
      50_000,
      250,
    );
    expect(receives).toEqual([1, 2, 3, 4, 5]);
    expect(run).toMatchObject({ planned: 8, done: 7, failed: 1 });
    expect(run.sources).toEqual([
      expect.objectContaining({ sourceId: SOURCE, planned: 8, done: 7, failed: 1 }),
    ]);
    expect(run.items.find((item) => item.itemId === doomed)).toMatchObject({
      status: 'failed',
      error: DEAD_LETTERED,
    });
    expect(fan.completed).toHaveLength(1);
    expect(fan.completed[0]?.sources.filter((source) => source.outcome === 'failed')).toEqual([
      expect.objectContaining({ propertyId: 'H3', error: DEAD_LETTERED }),
    ]);
    expect(deadLettered).toEqual([1]);
    // The consumer deleted the message it handled.
    const { Attributes: dlq = {} } = await topology.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue(RECONCILE_WORK_DLQ).url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(dlq).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });

    // No day-long wait: the next run is planned at once.
    expect((await fan.plan()).runId).not.toBe(planned.runId);
  }, 60_000);

  // Each worker polls its own property, so the source-wide limit is what they share: unshared, eight workers at
  // their property's pace would ask for twice what the provider admits.
  it('with eight workers, each with its own runtime, paced to the provider quota kept in DynamoDB, draws no 429', async () => {
    const { dataset, url } = await startProvider(120, { requestsPerSecond: 6, burst: 4 });
    const config = configFor(url, {
      // Under the provider's: requests leave evenly paced, but a worker held up (by a slow store, a busy machine)
      // sends late, bunched with the next ones, and the provider's burst must absorb that.
      requestsPerSecond: 3,
      burst: 1,
      perPropertyPerMinute: 90,
    });
    const topology = await provisionIsolated();
    const fan = fanOut(topology, config);
    const planned = await fan.plan();
    await fan.drainAsContainers(planned.runId, 8);
    const report = fan.completed[0] as ReconcileReport;
    expect((simulator as Simulator).stats().rateLimited).toBe(0);
    expect(totals(report.sources)).toMatchObject({ scans: 8, failed: 0, nightsPolled: dataset.size });
  }, 60_000); // 360 nights in pages of 10 at 3 requests a second: some 15 s however fast the machine.
});

/** The store's methods, bound, so that a test can replace one of them. */
function bound(store: ReconcileRunStore): ReconcileRunStore {
  return {
    create: store.create.bind(store),
    claim: store.claim.bind(store),
    finish: store.finish.bind(store),
    abandon: store.abandon.bind(store),
    parityDue: store.parityDue.bind(store),
    markParitySent: store.markParitySent.bind(store),
    complete: store.complete.bind(store),
    get: store.get.bind(store),
    list: store.list.bind(store),
    latest: store.latest.bind(store),
    takeParitySweep: store.takeParitySweep.bind(store),
  };
}
