import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult, SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfig } from '../../lambdas/config/schema';
import { addDays } from '../../lambdas/domain/dates';
import { ARI_STATE, RECONCILE_RUN_LOG } from '../../lambdas/shared/topology';
import { secretReferences } from '../../lib/deploy-config';
import { LOCAL_AWS } from '../../local/emulators';
import { senderFor } from '../../local/senders';
import { generateDataset, seededRandom } from '../../local/simulator/dataset';
import { type Simulator, startSimulator } from '../../local/simulator/server';
import { emulatorEndpoints, type LocalClients, localClients } from '../support/aws';
import { type AwsStub, startAwsStub } from '../support/aws-stub';
import {
  type DeployedFunction,
  type DeployedStack,
  type ProxyRoute,
  proxyRoutes,
  type QueueTrigger,
  queueTriggers,
  scheduleTriggers,
  streamTriggers,
  synthesize,
} from '../support/deployed-stack';
import { EmulatedResources } from '../support/emulated-resources';
import {
  environmentBytes,
  type FunctionContainer,
  FunctionInitError,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  type LocalEndpoints,
  lambdaEnvironment,
  provideRuntimeSdk,
  startFunction,
} from '../support/lambda-container';
import { apiGatewayProxyEvent, sqsEvent } from '../support/lambda-events';

/**
 * The deployed artifacts, not the sources: `bin/app.ts` is synthesised with bundling on, and each function in the
 * template is started from its asset directory (what is zipped and uploaded) in a process of its own, with the
 * environment the template gives it: table and queue references resolve to tables and queues created from the
 * template's own definitions in DynamoDB Local and fauxqs, Secrets Manager is a loopback stub, and the polled
 * provider is the local simulator. Each function is then invoked with the event its trigger in the template
 * would send. A bundle that needs a package Lambda does not provide, a handler setting that does not match the
 * bundle, or a variable the code needs and the stack does not set fails here.
 */

const REGION = LOCAL_AWS.region;
const ACCOUNT = '000000000000';
/** The OTA source of the example deployment configuration: it signs the webhook the ingest function is sent. */
const SIGNED_SOURCE_ID = 'ota';
const SIMULATOR_TOKEN = `sim-${randomBytes(16).toString('hex')}`;
/** Internal ids the operator maps the example sender's room type and rate plan to, through the read API. */
const ROOM_TYPE = { externalId: 'DBL-STD', internalId: 'dbl' };
const RATE_PLAN = { externalId: 'BAR', internalId: 'bar' };
const SYNTH_TIMEOUT_MS = 150_000;
const START_TIMEOUT_MS = 30_000;

let workDir: string;
let config: ParitySyncConfig;
let stack: DeployedStack;
let resources: EmulatedResources;
let stub: AwsStub;
let simulator: Simulator;
let endpoints: LocalEndpoints;
let clients: LocalClients;
const secretValues = new Map<string, string>();
const environments = new Map<string, Record<string, string>>();
const containers = new Map<string, FunctionContainer>();
let ingest: DeployedFunction;
let apply: DeployedFunction;
let read: DeployedFunction;
let reconcile: DeployedFunction;
let reconcileWorker: DeployedFunction;
let reconcileWorkDeadLetters: DeployedFunction;
let replay: DeployedFunction;
let parity: DeployedFunction;

beforeAll(async () => {
  const emulators = emulatorEndpoints();
  clients = localClients();
  workDir = mkdtempSync(join(tmpdir(), 'paritysync-deployed-'));

  // The example deployment configuration, with its polled providers served by the simulator on loopback.
  const example = JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'config', 'aws.example.json'), 'utf8'),
  ) as {
    sources: Array<{ polling?: { baseUrl: string; propertyIds?: string[] } }>;
  };
  const polledProperties = example.sources.flatMap((source) => source.polling?.propertyIds ?? []);
  simulator = await startSimulator({
    port: 0,
    token: SIMULATOR_TOKEN,
    random: seededRandom(11),
    dataset: generateDataset({
      seed: 11,
      nights: 12,
      ...(polledProperties.length > 0 ? { properties: polledProperties } : {}),
      roomTypes: [ROOM_TYPE.externalId],
      ratePlans: [RATE_PLAN.externalId],
      firstDate: addDays(new Date().toISOString().slice(0, 10), 30),
    }),
  });
  for (const source of example.sources) if (source.polling) source.polling.baseUrl = simulator.url;
  const configPath = join(workDir, 'paritysync.json');
  writeFileSync(configPath, JSON.stringify(example, null, 2));
  config = parseConfig(example);

  for (const { ref, purpose } of secretReferences(config)) {
    if (!('secretsManager' in ref)) throw new Error('the example configuration must deploy');
    secretValues.set(
      ref.secretsManager,
      purpose === 'polling-token' ? SIMULATOR_TOKEN : randomBytes(32).toString('hex'),
    );
  }
  stub = await startAwsStub(secretValues);
  endpoints = {
    region: REGION,
    dynamodb: emulators.dynamodbEndpoint,
    sqs: emulators.sqsEndpoint,
    secretsManager: stub.url,
    anyOtherService: stub.url,
  };

  const outdir = join(workDir, 'cdk.out');
  stack = await synthesize({
    outdir,
    context: { 'paritysync:config': configPath },
    timeoutMs: SYNTH_TIMEOUT_MS,
  });
  provideRuntimeSdk(outdir);
  resources = new EmulatedResources(stack.template, clients, {
    prefix: `dep${randomBytes(4).toString('hex')}`,
    region: REGION,
    accountId: ACCOUNT,
    stackName: stack.stackName,
  });

  const only = (what: string, matches: (fn: DeployedFunction) => boolean): DeployedFunction => {
    const found = stack.functions.filter(matches);
    if (found.length !== 1) throw new Error(`expected one function that ${what}, found ${found.length}`);
    return found[0] as DeployedFunction;
  };
  ingest = only('serves POST /webhooks/{sourceId}', (fn) =>
    routesOf(fn).some((r) => r.httpMethod === 'POST' && r.resource === '/webhooks/{sourceId}'),
  );
  const consumes = (fn: DeployedFunction, queue: RegExp) =>
    queueTriggers(stack.template, fn.logicalId).some((trigger) => queue.test(trigger.queueId));
  apply = only('consumes the events queue', (fn) => consumes(fn, /^EventQueuesEvents/));
  replay = only('consumes the replay work queue', (fn) => consumes(fn, /^ReplayJobsReplayWork(?!Dlq)/));
  parity = only(
    'reads the room-night table stream',
    (fn) => streamTriggers(stack.template, fn.logicalId).length > 0,
  );
  read = only('serves GET /deliveries/{eventId}', (fn) =>
    routesOf(fn).some((r) => r.httpMethod === 'GET' && r.resource === '/deliveries/{eventId}'),
  );
  reconcile = only('runs on a schedule', (fn) => schedulesOf(fn).length > 0);
  reconcileWorker = only('consumes the reconciliation work queue', (fn) =>
    consumes(fn, /^ReconciliationWorkReconcileWork(?!Dlq)/),
  );
  reconcileWorkDeadLetters = only('consumes the reconciliation work DLQ', (fn) =>
    consumes(fn, /^ReconciliationWorkReconcileWorkDlq/),
  );
}, SYNTH_TIMEOUT_MS + 30_000);

afterAll(async () => {
  await Promise.all([...containers.values()].map((container) => container.stop()));
  await Promise.all([stub?.close(), simulator?.stop()]);
  clients?.dynamodb.destroy();
  clients?.sqs.destroy();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function routesOf(fn: DeployedFunction): ProxyRoute[] {
  return proxyRoutes(stack.template, fn.logicalId);
}

function routeOf(fn: DeployedFunction, httpMethod: string, resource: string): ProxyRoute {
  const route = routesOf(fn).find((r) => r.httpMethod === httpMethod && r.resource === resource);
  if (!route) throw new Error(`${fn.logicalId} is not behind ${httpMethod} ${resource} in the template`);
  return route;
}

function schedulesOf(fn: DeployedFunction) {
  return scheduleTriggers(stack.template, fn.logicalId, {
    region: REGION,
    account: ACCOUNT,
    now: new Date(),
  });
}

function queueTriggerOf(fn: DeployedFunction): QueueTrigger {
  const [trigger, ...others] = queueTriggers(stack.template, fn.logicalId);
  if (!trigger || others.length > 0) throw new Error(`${fn.logicalId} should have one queue trigger`);
  return trigger;
}

function container(fn: DeployedFunction): FunctionContainer {
  const running = containers.get(fn.logicalId);
  if (!running) throw new Error(`${fn.logicalId} did not start; see the start-up test`);
  return running;
}

function environmentOf(fn: DeployedFunction): Record<string, string> {
  const environment = environments.get(fn.logicalId);
  if (!environment) throw new Error(`${fn.logicalId}'s environment was not resolved; see the first test`);
  return environment;
}

async function invokeProxy(
  fn: DeployedFunction,
  route: ProxyRoute,
  request: Parameters<typeof apiGatewayProxyEvent>[1],
) {
  const result = (await container(fn).invoke(apiGatewayProxyEvent(route, request))) as APIGatewayProxyResult;
  return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
}

/** Receives from a function's queue (the apply function's unless named) and hands the batch over as its event source mapping would. */
async function deliverQueuedBatch(
  fn: DeployedFunction = apply,
): Promise<{ messages: Message[]; response: SQSBatchResponse }> {
  const trigger = queueTriggerOf(fn);
  const queue = await resources.queue(trigger.queueId);
  const { sqs } = clients;
  const { Messages: messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queue.url,
      MaxNumberOfMessages: Math.min(trigger.batchSize, 10),
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  if (messages.length === 0) return { messages, response: { batchItemFailures: [] } };
  const response = (await container(fn).invoke(sqsEvent(messages, queue.arn, REGION))) as SQSBatchResponse;
  const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  const done = messages.filter((message) => !failed.has(message.MessageId ?? ''));
  if (done.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: done.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle ?? '',
        })),
      }),
    );
  }
  return { messages, response };
}

describe('the synthesised function bundles, run with the environment the template gives them', () => {
  it('covers every function of the template: webhooks, the queue consumer, the read API, the schedule, replays and parity on change', () => {
    expect(
      new Set([ingest, apply, read, reconcile, reconcileWorker, reconcileWorkDeadLetters, replay, parity]),
    ).toEqual(new Set(stack.functions));
  });

  it('resolves every function environment to tables and queues built from the template, within Lambda limits', async () => {
    for (const fn of stack.functions) {
      expect(fn.runtime, fn.logicalId).toMatch(/^nodejs\d+\.x$/);
      const variables = await resources.environmentOf(fn);
      expect(environmentBytes(variables), fn.logicalId).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
      environments.set(fn.logicalId, variables);
    }
  }, 60_000);

  it("starts every function from its asset directory with that environment and nothing of this machine's", async () => {
    const started = await Promise.allSettled(
      stack.functions.map(async (fn) => {
        const running = await startFunction(fn, lambdaEnvironment(fn, environmentOf(fn), endpoints), {
          startTimeoutMs: START_TIMEOUT_MS,
        });
        containers.set(fn.logicalId, running);
      }),
    );
    const failures = started.flatMap((result) =>
      result.status === 'rejected' ? [String(result.reason)] : [],
    );
    expect(failures).toEqual([]);
  }, 60_000);

  /** What the ingest function accepted, followed through the apply and read functions. */
  let accepted: { eventId: string; propertyId: string; night: string } | undefined;
  const acceptedEvent = () => {
    if (!accepted) throw new Error('the ingest function accepted no event; see its test');
    return accepted;
  };

  it('ingest: accepts a correctly signed webhook with the signing secret read from Secrets Manager, and queues it', async () => {
    const source = config.sources.find((s) => s.id === SIGNED_SOURCE_ID);
    const ref = source?.secrets[0];
    if (!source || !ref || !('secretsManager' in ref))
      throw new Error(`no ${SIGNED_SOURCE_ID} source to sign for`);
    // A property id the configuration's mapping seeds know, so the event applies once room type and plan map.
    const seed = config.mappings.find((m) => m.scope === '*' || m.scope === source.id);
    const [externalPropertyId, internalPropertyId] = Object.entries(seed?.properties ?? {})[0] ?? [];
    if (!externalPropertyId || !internalPropertyId) throw new Error('the configuration seeds no property');

    const sender = senderFor(source.kind);
    const now = new Date();
    // An OTA rate update names its property in `property_id` and its night in `effective_date`.
    const sample: Record<string, unknown> = {
      ...sender.sample('rate_update', now, randomUUID),
      property_id: externalPropertyId,
    };
    const body = Buffer.from(JSON.stringify(sample));
    const headers = sender.sign(body, { secret: secretValues.get(ref.secretsManager) ?? '', at: now });

    const answer = await invokeProxy(ingest, routeOf(ingest, 'POST', '/webhooks/{sourceId}'), {
      pathParameters: { sourceId: source.id },
      headers,
      body,
      sourceIp: '198.51.100.20',
      account: ACCOUNT,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ status: 'accepted', action: 'enqueued' });
    accepted = {
      eventId: String(answer.body.eventId),
      propertyId: internalPropertyId,
      night: String(sample.effective_date),
    };
    expect(stub.calls).toContainEqual({
      service: 'secretsmanager',
      operation: 'secretsmanager.GetSecretValue',
      secretId: ref.secretsManager,
    });
  });

  it('read: an operator maps the room type and rate plan through the mapping route', async () => {
    const route = routeOf(read, 'PUT', '/mappings/{scope}/{entity}/{externalId}');
    for (const [entity, mapping] of [
      ['roomType', ROOM_TYPE],
      ['ratePlan', RATE_PLAN],
    ] as const) {
      const answer = await invokeProxy(read, route, {
        pathParameters: { scope: '*', entity, externalId: mapping.externalId },
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ internalId: mapping.internalId }),
        sourceIp: '203.0.113.9',
        account: ACCOUNT,
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
  });

  it('apply: takes the queued event as an SQS batch, reports no failures and writes the room night', async () => {
    const { eventId, propertyId, night } = acceptedEvent();
    // Without it Lambda would ignore the consumer's batchItemFailures and drop failed events with the batch.
    expect(queueTriggerOf(apply).reportsBatchItemFailures).toBe(true);
    const { messages, response } = await deliverQueuedBatch();
    expect(messages.map((m) => JSON.parse(m.Body ?? '{}').eventId)).toEqual([eventId]);
    expect(response).toEqual({ batchItemFailures: [] });

    const { Items = [] } = await clients.dynamodb.send(
      new ScanCommand({ TableName: environmentOf(apply)[ARI_STATE.environmentName] }),
    );
    const written = Items.filter((item) => item.rateEventId?.S === eventId);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      propertyId: { S: propertyId },
      roomTypeId: { S: ROOM_TYPE.internalId },
      ratePlanId: { S: RATE_PLAN.internalId },
      date: { S: night },
    });
  });

  it('read: answers the delivery lookup with the event applied', async () => {
    const { eventId } = acceptedEvent();
    const answer = await invokeProxy(read, routeOf(read, 'GET', '/deliveries/{eventId}'), {
      pathParameters: { eventId },
      sourceIp: '203.0.113.9',
      account: ACCOUNT,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ eventId, sourceId: SIGNED_SOURCE_ID, status: 'applied' });
  });

  it('reconcile: plans a scheduled run with the rule input once per event, and the worker does its items, polling with the token from Secrets Manager', async () => {
    const [schedule, ...others] = schedulesOf(reconcile);
    expect(others).toEqual([]);
    if (!schedule) throw new Error('the reconcile function has no schedule');
    expect(schedule.payload).toMatchObject({ trigger: 'schedule', eventId: expect.any(String) });
    const { eventId } = schedule.payload as { eventId: string };
    const planned = (await container(reconcile).invoke(schedule.payload)) as Record<string, unknown>;
    expect(planned).toMatchObject({ eventId, outcome: 'planned' });
    expect(planned.driftItems).toBeGreaterThan(0);

    // The worker's event source: a batch at a time until the queue stays empty (parity follows the drift items).
    const failures: unknown[] = [];
    for (let empty = 0; empty < 2; ) {
      const { messages, response } = await deliverQueuedBatch(reconcileWorker);
      failures.push(...response.batchItemFailures);
      empty = messages.length === 0 ? empty + 1 : 0;
    }
    expect(failures).toEqual([]);
    const served = simulator.stats().recordsServed;
    expect(served).toBeGreaterThan(0);
    expect(simulator.stats().unauthorized).toBe(0);
    const tokens = [...secretValues].filter(([, value]) => value === SIMULATOR_TOKEN).map(([name]) => name);
    for (const token of tokens) {
      expect(stub.calls).toContainEqual({
        service: 'secretsmanager',
        operation: 'secretsmanager.GetSecretValue',
        secretId: token,
      });
    }

    // EventBridge delivering the same event again: the first plan's summary, and no second run to do.
    const requests = simulator.stats().requests;
    expect(await container(reconcile).invoke(schedule.payload)).toEqual(planned);
    expect((await deliverQueuedBatch(reconcileWorker)).messages).toEqual([]);
    expect(simulator.stats().requests).toBe(requests);
  }, 90_000);

  it('reconcile work DLQ: a dead-lettered message of an item that ended is acknowledged, and its run left as it was', async () => {
    const runLog = environmentOf(reconcileWorkDeadLetters)[RECONCILE_RUN_LOG.environmentName];
    const rows = async () =>
      (await clients.dynamodb.send(new ScanCommand({ TableName: runLog, ConsistentRead: true }))).Items ?? [];
    const before = await rows();
    const item = before.find((row) => row.sk?.S?.startsWith('item#') && row.kind?.S === 'drift');
    const run = before.find((row) => row.pk?.S === item?.pk?.S && row.sk?.S === 'run');
    if (!item || !run) throw new Error('the reconcile run left no drift item in the run log; see its test');
    const message = {
      kind: 'drift',
      runId: run.runId?.S,
      itemId: decodeURIComponent((item.sk?.S ?? '').slice('item#'.length)),
      sourceId: item.sourceId?.S,
      ...(item.propertyId?.S === undefined ? {} : { propertyId: item.propertyId.S }),
      startedAt: run.startedAt?.S,
      dryRun: run.dryRun?.BOOL ?? false,
    };
    const queue = await resources.queue(queueTriggerOf(reconcileWorkDeadLetters).queueId);
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(message) }),
    );

    const { messages, response } = await deliverQueuedBatch(reconcileWorkDeadLetters);
    expect(messages).toHaveLength(1);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await rows()).toEqual(before);
  });

  it('calls no AWS service other than those emulated here', () => {
    expect(stub.calls.filter((call) => call.service !== 'secretsmanager')).toEqual([]);
  });

  it('names the variable when a template reference has no local stand-in', async () => {
    const broken = {
      logicalId: ingest.logicalId,
      variables: {
        ...ingest.variables,
        EVENT_QUEUE_URL: { Ref: 'NoSuchQueue' },
        IMPORTED: { 'Fn::ImportValue': 'elsewhere' },
      },
    };
    const failure = resources.environmentOf(broken);
    await expect(failure).rejects.toThrow(/EVENT_QUEUE_URL: the template has no resource NoSuchQueue/);
    await expect(failure).rejects.toThrow(/IMPORTED: .*Fn::ImportValue/);
  });

  // A table or queue handed to a function is one it uses: without it the function must fail at its cold start,
  // naming the variable, and not on the first request that needs it. Removing them all at once costs one cold
  // start per function; the start-up error names every variable that is missing.
  it('refuses to start a function whose template loses its table and queue variables, naming each', async () => {
    const problems = await Promise.all(
      stack.functions.map(async (fn) => {
        const removed = Object.keys(fn.variables).filter((name) => typeof fn.variables[name] !== 'string');
        if (removed.length === 0) return [];
        const rest = Object.fromEntries(
          Object.entries(environmentOf(fn)).filter(([name]) => !removed.includes(name)),
        );
        try {
          const running = await startFunction(fn, lambdaEnvironment(fn, rest, endpoints), {
            startTimeoutMs: START_TIMEOUT_MS,
          });
          await running.stop();
          return [`${fn.logicalId} started without ${removed.join(', ')}`];
        } catch (error) {
          if (!(error instanceof FunctionInitError)) return [`${fn.logicalId}: ${String(error)}`];
          return removed
            .filter((name) => !error.errorMessage.includes(name))
            .map((name) => `${fn.logicalId}'s start-up error does not name ${name}: ${error.errorMessage}`);
        }
      }),
    );
    expect(problems.flat()).toEqual([]);
  }, 60_000);
});
