import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { CONSOLE_PATH, CONSOLE_PATHS, consoleAsset, sendConsoleAsset } from '../console/assets';
import { loadConfigFile } from '../lambdas/config/load';
import { type ParitySyncConfig, RECONCILE_TIMEOUT_MARGIN_SECONDS } from '../lambdas/config/schema';
import { createSecretResolver } from '../lambdas/config/secrets';
import { READ_API_ROUTES } from '../lambdas/read/router';
import { awsClientConfig } from '../lambdas/shared/aws-clients';
import { ConfigurationError } from '../lambdas/shared/errors';
import { METRIC_SERVICES } from '../lambdas/shared/metric-names';
import {
  ARI_STATE,
  DELIVERY_LEDGER,
  EVENTS_DLQ,
  EVENTS_QUEUE,
  PARITY_DLQ,
  QUEUES,
  type QueueDefinition,
  RECONCILE_WORK,
  RECONCILE_WORK_DLQ,
  REPLAY_QUEUE,
  TABLES,
} from '../lambdas/shared/topology';
import { secretReferences } from '../lib/deploy-config';
import { prepareDataDirectory } from './data-directory';
import { type Demo, describeDemo, startDemo } from './demo';
import {
  type EmulatorSupervision,
  type Emulators,
  LOCAL_AWS,
  LocalEnvironmentError,
  startEmulators,
} from './emulators';
import { startParityStream } from './parity-stream';
import {
  type SqsConsumer,
  type SqsPollerOptions,
  type SwitchableSqsPoller,
  startSwitchableSqsPoller,
} from './poller';
import { type ProvisionedQueue, type ProvisionedTopology, provision } from './provision';
import { type LocalReconciler, RECONCILE_NOW_PATH, startLocalReconciler } from './reconciler';
import {
  type ControlRoute,
  type LocalApi,
  type LocalRoute,
  type ProxyHandler,
  startLocalApi,
} from './server';

const DEFAULT_CONFIG_PATH = 'config/local.example.json';
const DEFAULT_PORT = 3000;
const DEFAULT_SIMULATOR_PORT = 3100;
const REGION = LOCAL_AWS.region;
const LOCAL_CREDENTIALS = LOCAL_AWS.credentials;

/**
 * Turn the consumer off and on, as an operator disables and enables the Lambda's SQS event source mapping:
 * while off, events wait on the queue. POST, loopback only like every route here.
 */
export const CONSUMER_STOP_PATH = '/_local/consumer/stop';
export const CONSUMER_START_PATH = '/_local/consumer/start';

export interface EmulatorEndpoints {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
}

export interface LocalStackOptions {
  /** A validated configuration (see loadConfigFile / parseConfig). */
  readonly config: ParitySyncConfig;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** Already-running emulators to use (and leave running on stop); started and stopped with the stack if absent. */
  readonly emulators?: EmulatorEndpoints;
  /**
   * A directory (see prepareDataDirectory) in which the emulators the stack starts keep their tables, queues and
   * messages, so that a later stack on the same directory finds them. In memory when absent.
   */
  readonly dataDirectory?: string;
  /**
   * How the emulators the stack starts are watched. After a restart the stack provisions the topology again
   * (idempotent), before the emulator counts as back.
   */
  readonly supervision?: Omit<EmulatorSupervision, 'onRestarted'>;
  /** Prefix of table and queue names, so that several stacks can share emulators. @default 'paritysync' */
  readonly prefix?: string;
  /** Loads the ingest function; the real handler module unless a test substitutes one. */
  readonly loadIngestHandler?: () => Promise<{ readonly handler: ProxyHandler }>;
  /** Loads the read / admin API function; the real handler module unless a test substitutes one. */
  readonly loadReadHandler?: () => Promise<{ readonly handler: ProxyHandler }>;
  /**
   * Runs the apply pipeline: the consumer function behind a local stand-in for the Lambda SQS event source.
   * @default true
   */
  readonly consumer?: boolean;
  /** Loads the consumer function; the real handler module unless a test substitutes one. */
  readonly loadConsumerHandler?: () => Promise<{ readonly handler: SqsConsumer }>;
  /** Wraps the consumer the event source invokes, e.g. to inject failures in a test. */
  readonly wrapConsumer?: (consumer: SqsConsumer) => SqsConsumer;
  /**
   * Visibility timeout the local event source asks for on each receive, so that a failed record is retried
   * within seconds; the queue keeps the topology's own timeout. @default 2
   */
  readonly pollVisibilitySeconds?: number;
  /**
   * Milliseconds between scheduled reconciliation runs; 0 turns the timer off (runs can still be asked for).
   * @default the configuration's reconciliation.scheduleMinutes
   */
  readonly reconcileIntervalMs?: number;
  /** Loads the reconcile function; the real handler module unless a test substitutes one. */
  readonly loadReconcileHandler?: () => Promise<ReconcileModule>;
  readonly logError?: (message: string, error: unknown) => void;
  readonly log?: (message: string) => void;
}

/** What each consumed queue's stand-in event source sets for itself; the rest is the same for every queue. */
type QueuePolling = Omit<SqsPollerOptions, 'sqs' | 'queueUrl' | 'queueArn' | 'region' | 'ready' | 'logError'>;

type ReconcileModule = Pick<typeof import('../lambdas/reconcile/handler'), 'handler' | 'reconcilePlanner'>;

export interface LocalStack {
  /** Base URL of the local API, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly config: ParitySyncConfig;
  readonly endpoints: EmulatorEndpoints;
  readonly topology: ProvisionedTopology;
  /** Whether the consumer is polling the events queue. */
  readonly consumer: boolean;
  /** The scheduled reconciliation and "reconcile now". */
  readonly reconciler: LocalReconciler;
  /** Where the emulators keep their state, if not in memory. */
  readonly dataDirectory: string | undefined;
  /** The process id of the DynamoDB Local the stack started and supervises, while it runs. */
  dynamodbPid(): number | undefined;
  /** Stops the consumer, the API and, if the stack started them, the emulators; restores the environment. */
  stop(): Promise<void>;
}

/**
 * The whole pipeline on this machine: emulators, the topology of lambdas/shared/topology.ts, the ingest and read API
 * functions behind a local stand-in for API Gateway, and the consumer behind a local stand-in for the Lambda SQS
 * event source. The functions read their settings from process.env at load time, exactly as in Lambda, so this
 * sets them process-wide; a process should run one stack at a time. The function modules are imported once
 * and keep the environment they loaded with, so a second stack in the same process (even after the first one
 * stopped) needs a fresh module registry (vitest: `vi.resetModules()`), or it reuses the first one's tables.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  assertRunsLocally(options.config);
  if (options.emulators && options.dataDirectory !== undefined) {
    throw new Error('A data directory belongs to emulators the stack starts, not to emulators passed in');
  }
  const prefix = options.prefix ?? 'paritysync';
  const cleanup: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  };
  try {
    // The port is bound first, so that a port clash fails in milliseconds rather than after the emulators boot.
    const ingest = deferredHandler();
    const read = deferredHandler();
    const reconciler = deferred<LocalReconciler>();
    const consumerSwitch = deferred<SwitchableSqsPoller | undefined>();
    const api = await listenOrExplain(
      options,
      [
        { method: 'POST', resource: '/webhooks/{sourceId}', handler: ingest.handler },
        ...READ_API_ROUTES.map((route) => ({ ...route, handler: read.handler })),
      ],
      [
        {
          method: 'POST',
          path: RECONCILE_NOW_PATH,
          handle: async (request, response) =>
            (await reconciler.value).controlRoute.handle(request, response),
        },
        ...consumerControlRoutes(consumerSwitch.value),
        ...consoleRoutes(),
      ],
    );
    cleanup.push(() => api.close());

    let endpoints: EmulatorEndpoints;
    let emulators: Emulators | undefined;
    if (options.emulators) {
      endpoints = options.emulators;
    } else {
      const started = await startEmulators({
        ...(options.dataDirectory === undefined ? {} : { dataDirectory: options.dataDirectory }),
        supervision: {
          ...options.supervision,
          // A DynamoDB Local that ran in memory comes back without tables; with a data directory they exist.
          onRestarted: async () => {
            await provisionTopology(started, prefix);
          },
        },
      });
      cleanup.push(() => started.stop());
      emulators = started;
      endpoints = started;
    }

    const topology = await provisionTopology(endpoints, prefix);

    const restoreEnvironment = setEnvironment(functionEnvironment(options.config, endpoints, topology));
    cleanup.push(async () => restoreEnvironment());

    const loadIngest = options.loadIngestHandler ?? (() => import('../lambdas/ingest/handler'));
    ingest.resolve((await asService(METRIC_SERVICES.ingest, loadIngest)).handler);
    const loadRead = options.loadReadHandler ?? (() => import('../lambdas/read/handler'));
    read.resolve((await asService(METRIC_SERVICES.read, loadRead)).handler);

    const loadReconcile = options.loadReconcileHandler ?? (() => import('../lambdas/reconcile/handler'));
    const reconcileModule = await asService(METRIC_SERVICES.reconcile, loadReconcile);
    const localReconciler = startLocalReconciler({
      handler: reconcileModule.handler,
      planner: reconcileModule.reconcilePlanner,
      intervalMs: options.reconcileIntervalMs ?? options.config.reconciliation.scheduleMinutes * 60_000,
      ...(options.log ? { log: options.log } : {}),
      ...(options.logError ? { logError: options.logError } : {}),
    });
    cleanup.push(() => localReconciler.stop());
    reconciler.resolve(localReconciler);

    // The reconciliation workers, behind a stand-in for their SQS event source: as many at once as configured.
    const workerModule = await asService(
      METRIC_SERVICES.reconcile,
      () => import('../lambdas/reconcile/worker-handler'),
    );
    // A queue a function consumes, behind a stand-in for its SQS event source.
    const pollQueue = (sqs: SQSClient, definition: QueueDefinition, settings: QueuePolling) => {
      const queue = provisionedQueue(topology, definition);
      return startSwitchableSqsPoller({
        sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        region: REGION,
        ...(emulators ? { ready: () => emulators.available() } : {}),
        ...(options.logError ? { logError: options.logError } : {}),
        ...settings,
      });
    };
    const workSqs = localSqs(endpoints);
    const { budgetSeconds, workers } = options.config.reconciliation;
    // A message stays hidden for as long as its worker may run, as the queue's own timeout ensures in AWS.
    const workerSeconds = budgetSeconds + RECONCILE_TIMEOUT_MARGIN_SECONDS;
    const workPoller = pollQueue(workSqs, RECONCILE_WORK, {
      consumer: workerModule.createWorkerHandler((runId, event) => localReconciler.progress(runId, event)),
      visibilityTimeoutSeconds: workerSeconds,
      timeoutMs: workerSeconds * 1000,
      batchSize: 1,
      concurrency: workers,
    });
    // The work DLQ's consumer, as the topology declares it: it ends the items whose worker never did, so that
    // their runs complete.
    const deadLettersModule = await asService(
      METRIC_SERVICES.reconcile,
      () => import('../lambdas/reconcile/work-dead-letters-handler'),
    );
    const deadLetterConsumer = RECONCILE_WORK_DLQ.consumer;
    const deadLetterPoller =
      deadLetterConsumer === undefined
        ? undefined
        : pollQueue(workSqs, RECONCILE_WORK_DLQ, {
            consumer: deadLettersModule.handler,
            visibilityTimeoutSeconds: deadLetterConsumer.timeoutSeconds,
            timeoutMs: deadLetterConsumer.timeoutSeconds * 1000,
            batchSize: deadLetterConsumer.batchSize,
            concurrency: deadLetterConsumer.maxConcurrency,
          });
    cleanup.push(async () => {
      await deadLetterPoller?.close();
      await workPoller.close();
      workSqs.destroy();
    });

    const runConsumer = options.consumer ?? true;
    if (runConsumer) {
      const loadConsumer = options.loadConsumerHandler ?? (() => import('../lambdas/apply/handler'));
      const { handler } = await asService(METRIC_SERVICES.apply, loadConsumer);
      const pollerSqs = localSqs(endpoints);
      const poller = pollQueue(pollerSqs, EVENTS_QUEUE, {
        consumer: options.wrapConsumer ? options.wrapConsumer(handler) : handler,
        visibilityTimeoutSeconds: options.pollVisibilitySeconds ?? 2,
        // Lambda runs several batches at once; two loops keep that concurrency visible locally.
        concurrency: 2,
      });
      // Registered last, so it runs first on stop: nothing is consumed once the rest starts to go away.
      cleanup.push(async () => {
        await poller.close();
        pollerSqs.destroy();
      });
      consumerSwitch.resolve(poller);

      // The replay worker, behind the same stand-in for its SQS event source: jobs run a page per message.
      const replayModule = await asService(METRIC_SERVICES.replay, () => import('../lambdas/replay/handler'));
      const replayPoller = pollQueue(pollerSqs, REPLAY_QUEUE, {
        consumer: replayModule.handler,
        visibilityTimeoutSeconds: options.pollVisibilitySeconds ?? 2,
        concurrency: 1,
      });
      cleanup.push(() => replayPoller.close());

      // Parity on change, behind a stand-in for its DynamoDB stream event source.
      const parityModule = await asService(METRIC_SERVICES.parity, () => import('../lambdas/parity/handler'));
      const streamDynamodb = new DynamoDBClient({
        ...awsClientConfig('parity'),
        endpoint: endpoints.dynamodbEndpoint,
        region: REGION,
        credentials: LOCAL_CREDENTIALS,
      });
      const parityStream = await startParityStream({
        dynamodb: streamDynamodb,
        sqs: pollerSqs,
        dynamodbEndpoint: endpoints.dynamodbEndpoint,
        region: REGION,
        credentials: LOCAL_CREDENTIALS,
        ariTableName: topology.tables[ARI_STATE.id] ?? '',
        deadLetterQueueUrl: topology.queues[PARITY_DLQ.id]?.url ?? '',
        consumer: parityModule.handler,
        // From the stream's beginning, not its latest record: a change written while the poller was still finding
        // its shard is checked all the same, and re-checking a kept directory's older changes only rewrites findings.
        startingPosition: 'TRIM_HORIZON',
        ...(emulators ? { ready: () => emulators.available() } : {}),
        ...(options.logError ? { logError: options.logError } : {}),
      });
      cleanup.push(async () => {
        await parityStream.stop();
        streamDynamodb.destroy();
      });
    } else {
      consumerSwitch.resolve(undefined);
    }

    return {
      url: api.url,
      config: options.config,
      endpoints,
      topology,
      consumer: runConsumer,
      reconciler: localReconciler,
      dataDirectory: options.dataDirectory,
      dynamodbPid: () => emulators?.dynamodbPid,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function consumerControlRoutes(consumer: Promise<SwitchableSqsPoller | undefined>): ControlRoute[] {
  const route = (path: string, change: (poller: SwitchableSqsPoller) => Promise<void>): ControlRoute => ({
    method: 'POST',
    path,
    handle: async (request, response) => {
      request.resume();
      const poller = await consumer;
      const [status, body] = poller
        ? await change(poller).then(
            () => [200, { consumer: poller.enabled ? 'running' : 'stopped' }] as const,
          )
        : ([
            409,
            {
              error: 'no_consumer',
              message:
                'This runtime was started without the consumer (consumer: false), so it cannot be switched.',
            },
          ] as const);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    },
  });
  return [
    route(CONSUMER_STOP_PATH, (poller) => poller.disable()),
    route(CONSUMER_START_PATH, async (poller) => poller.enable()),
  ];
}

/** The operations console's page and assets, next to the API it calls on the same origin. */
function consoleRoutes(): ControlRoute[] {
  return CONSOLE_PATHS.map((path) => ({
    method: 'GET',
    path,
    handle: async (request, response) => {
      request.resume();
      const asset = await consoleAsset(path);
      if (!asset) {
        response.writeHead(404).end();
        return;
      }
      sendConsoleAsset(response, asset);
    },
  }));
}

/** Creates the topology's tables and queues, or brings existing ones up to date. */
async function provisionTopology(endpoints: EmulatorEndpoints, prefix: string): Promise<ProvisionedTopology> {
  const dynamodb = new DynamoDBClient({
    endpoint: endpoints.dynamodbEndpoint,
    region: REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const sqs = localSqs(endpoints);
  try {
    return await provision({ dynamodb, sqs, prefix });
  } finally {
    dynamodb.destroy();
    sqs.destroy();
  }
}

/** An SQS client for the emulator, with the local credentials. */
function localSqs(endpoints: EmulatorEndpoints): SQSClient {
  return new SQSClient({ endpoint: endpoints.sqsEndpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
}

/** The queue provisioning created for a definition of the topology. */
function provisionedQueue(
  topology: ProvisionedTopology,
  definition: { readonly id: string },
): ProvisionedQueue {
  const queue = topology.queues[definition.id];
  if (queue === undefined) throw new Error(`Provisioning did not create the ${definition.id} queue`);
  return queue;
}

function deferred<T>(): { value: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const value = new Promise<T>((done) => {
    resolve = done;
  });
  return { value, resolve };
}

/** A handler the server can route to before the function module has loaded; calls wait for it. */
function deferredHandler(): { handler: ProxyHandler; resolve: (handler: ProxyHandler) => void } {
  const loaded = deferred<ProxyHandler>();
  return {
    handler: (event, context) => loaded.value.then((handler) => handler(event, context)),
    resolve: loaded.resolve,
  };
}

/**
 * Loads a function module with its own POWERTOOLS_SERVICE_NAME, which Powertools reads when the module builds
 * its logger, so that each function's log lines name it although all of them share this process's environment.
 */
async function asService<T>(serviceName: string, load: () => Promise<T>): Promise<T> {
  const previous = process.env.POWERTOOLS_SERVICE_NAME;
  process.env.POWERTOOLS_SERVICE_NAME = serviceName;
  try {
    return await load();
  } finally {
    if (previous === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
    else process.env.POWERTOOLS_SERVICE_NAME = previous;
  }
}

async function listenOrExplain(
  options: LocalStackOptions,
  routes: readonly LocalRoute[],
  controlRoutes: readonly ControlRoute[],
): Promise<LocalApi> {
  const port = options.port ?? 0;
  try {
    return await startLocalApi({
      port,
      host: '127.0.0.1',
      routes,
      controlRoutes,
      ...(options.logError ? { logError: options.logError } : {}),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new LocalEnvironmentError(
        `Port ${port} on 127.0.0.1 is already in use. Stop what is using it, or pick another port: PORT=${port + 1} npm start`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** No Secrets Manager runs locally, and nothing here may reach real AWS: such references cannot be resolved. */
function assertRunsLocally(config: ParitySyncConfig): void {
  const problems = secretReferences(config).flatMap(({ path, ref, sourceId, purpose }) =>
    'secretsManager' in ref
      ? [
          {
            path,
            message: `source ${sourceId} reads its ${purpose === 'polling-token' ? 'polling token' : 'signing secret'} from Secrets Manager, which the local runtime does not have; use { "value": "…" } or { "env": "VARIABLE" } locally`,
          },
        ]
      : [],
  );
  if (problems.length > 0) {
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
    throw new ConfigurationError(`This configuration cannot run locally:\n${lines}`, problems);
  }
}

/** The environment of every function: the stack sets the same variables on each of them in AWS. */
function functionEnvironment(
  config: ParitySyncConfig,
  endpoints: EmulatorEndpoints,
  topology: ProvisionedTopology,
): Record<string, string> {
  const table = (definition: { readonly id: string }) => {
    const name = topology.tables[definition.id];
    if (name === undefined) throw new Error(`Provisioning did not create the ${definition.id} table`);
    return name;
  };
  return {
    PARITYSYNC_CONFIG_JSON: JSON.stringify(config),
    ...Object.fromEntries(TABLES.map((definition) => [definition.environmentName, table(definition)])),
    ...Object.fromEntries(
      QUEUES.flatMap((definition) =>
        definition.environmentName === undefined
          ? []
          : [[definition.environmentName, provisionedQueue(topology, definition).url]],
      ),
    ),
    // No CloudWatch reads the metrics locally, and their JSON lines would bury the log; set it to false to see them.
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: endpoints.sqsEndpoint,
    POWERTOOLS_SERVICE_NAME: METRIC_SERVICES.ingest,
  };
}

function setEnvironment(values: Record<string, string>): () => void {
  const previous = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  Object.assign(process.env, values);
  return () => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

// ---------------------------------------------------------------------------------------------------------
// `npm start`

const PortSchema = z
  .string()
  .regex(/^\d{1,5}$/, 'must be a port number between 1 and 65535')
  .transform(Number)
  .pipe(
    z.number().int().min(1, 'must be a port number between 1 and 65535').max(65_535, 'must be at most 65535'),
  );

const StartEnvironmentSchema = z.object({
  PARITYSYNC_CONFIG: z.string().min(1, 'must be a path to a configuration file').default(DEFAULT_CONFIG_PATH),
  PORT: PortSchema.default(DEFAULT_PORT),
  /** Where the provider simulator listens; sources polling http://127.0.0.1:<this port> are simulated. */
  SIMULATOR_PORT: PortSchema.default(DEFAULT_SIMULATOR_PORT),
  /** `off` runs neither the simulator nor the demo webhooks. */
  PARITYSYNC_DEMO: z.enum(['on', 'off'], { message: 'must be "on" or "off"' }).default('on'),
  /** Seconds between scheduled reconciliation runs, overriding reconciliation.scheduleMinutes; 0 turns them off. */
  PARITYSYNC_RECONCILE_SECONDS: z
    .string()
    .regex(/^\d{1,6}$/, 'must be a whole number of seconds (0 turns the schedule off)')
    .transform(Number)
    .optional(),
  /** Keeps tables, queues and messages across restarts of `npm start`; `--data-dir` takes precedence. */
  PARITYSYNC_DATA_DIR: z.string().optional(),
  /** The wait before an emulator's second restart attempt, doubling for each one after. */
  PARITYSYNC_RESTART_BACKOFF_MS: z
    .string()
    .regex(/^\d{1,7}$/, 'must be a whole number of milliseconds')
    .transform(Number)
    .optional(),
});

export interface StartEnvironment {
  readonly configPath: string;
  readonly port: number;
  readonly simulatorPort: number;
  readonly demo: boolean;
  readonly reconcileSeconds?: number;
  /** Absolute, existing and writable (see prepareDataDirectory). */
  readonly dataDirectory?: string;
  /** See EmulatorSupervision.restartBackoffMs. */
  readonly restartBackoffMs?: number;
}

/**
 * The environment and command line of `npm start`, validated at once. A data directory that does not exist yet
 * is created here, so that a path that cannot be one fails now rather than after the emulators start.
 */
export function readStartEnvironment(env: NodeJS.ProcessEnv, argv: readonly string[] = []): StartEnvironment {
  const result = StartEnvironmentSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => ({
      path: String(issue.path[0] ?? '(environment)'),
      message: issue.message,
    }));
    const lines = problems
      .map((p) => `  - ${p.path}=${JSON.stringify(env[p.path] ?? '')}: ${p.message}`)
      .join('\n');
    throw new ConfigurationError(`Invalid environment for the local runtime:\n${lines}`, problems);
  }
  const data = result.data;
  const dataDirectory = readDataDirectory(data.PARITYSYNC_DATA_DIR, argv);
  return {
    configPath: data.PARITYSYNC_CONFIG,
    port: data.PORT,
    simulatorPort: data.SIMULATOR_PORT,
    demo: data.PARITYSYNC_DEMO === 'on',
    ...(data.PARITYSYNC_RECONCILE_SECONDS === undefined
      ? {}
      : { reconcileSeconds: data.PARITYSYNC_RECONCILE_SECONDS }),
    ...(dataDirectory === undefined ? {} : { dataDirectory }),
    ...(data.PARITYSYNC_RESTART_BACKOFF_MS === undefined
      ? {}
      : { restartBackoffMs: data.PARITYSYNC_RESTART_BACKOFF_MS }),
  };
}

function readDataDirectory(variable: string | undefined, argv: readonly string[]): string | undefined {
  let flag: string | undefined;
  try {
    flag = parseArgs({ args: [...argv], options: { 'data-dir': { type: 'string' } }, strict: true }).values[
      'data-dir'
    ];
  } catch (error) {
    const message = `${(error as Error).message}. npm start takes one option: npm start -- --data-dir DIR`;
    throw new ConfigurationError(`Invalid arguments for the local runtime:\n  - ${message}`, [
      { path: 'arguments', message },
    ]);
  }
  if (flag !== undefined) return prepareDataDirectory(flag, '--data-dir');
  return variable === undefined ? undefined : prepareDataDirectory(variable, 'PARITYSYNC_DATA_DIR');
}

export function describeStack(stack: LocalStack, configPath: string): string {
  const rows = stack.config.sources.map((source) => [
    source.id,
    source.kind,
    `${stack.url}/webhooks/${source.id}`,
  ]);
  const header = ['SOURCE', 'KIND', 'WEBHOOK URL'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  const first = stack.config.sources[0];
  return [
    `ParitySync edge listening on ${stack.url} (configuration: ${configPath})`,
    '',
    line(header),
    ...rows.map(line),
    '',
    `Operations console: ${stack.url}${CONSOLE_PATH}`,
    '',
    'Read / admin API (open to anyone on this machine: locally there is no IAM in front of it):',
    ...READ_API_ROUTES.map((route) => `  ${route.method.padEnd(4)} ${stack.url}${route.resource}`),
    '',
    `Delivery ledger: table ${stack.topology.tables[DELIVERY_LEDGER.id]} in DynamoDB Local at ${stack.endpoints.dynamodbEndpoint}`,
    `Events queue:    ${stack.topology.queues[EVENTS_QUEUE.id]?.url}`,
    `Dead letters:    ${stack.topology.queues[EVENTS_DLQ.id]?.url}`,
    stack.consumer
      ? 'Apply pipeline:  consuming the events queue (locally a failed record is retried within seconds);\n' +
        `                 pause it: curl -X POST ${stack.url}${CONSUMER_STOP_PATH} (…/start resumes)`
      : 'Apply pipeline:  not running',
    `Reconciliation:  ${describeSchedule(stack)}`,
    stack.dataDirectory === undefined
      ? 'State:           in memory, gone when this stops (keep it: npm start -- --data-dir .paritysync/data)'
      : `State:           kept in ${stack.dataDirectory} across restarts`,
    '',
    ...(first ? [`Send a signed sample event:  npm run send -- ${first.id}`] : []),
    ...(first ? [`Then follow it:              curl ${stack.url}/deliveries/<the eventId it answered>`] : []),
    'Stop with Ctrl+C.',
  ].join('\n');
}

async function main(): Promise<void> {
  let stack: LocalStack | undefined;
  let demo: Demo | undefined;
  let shuttingDown = false;
  const shutdown = (exitCode: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    // Before the stack is up there is nothing graceful to do: exiting kills DynamoDB Local through its exit hook.
    void (demo?.stop() ?? Promise.resolve()).then(() => stack?.stop()).finally(() => process.exit(exitCode));
  };
  process.once('SIGINT', () => shutdown(0));
  process.once('SIGTERM', () => shutdown(0));

  const environment = readStartEnvironment(process.env, process.argv.slice(2));
  const config = await loadConfigFile(environment.configPath);
  console.log('Starting DynamoDB Local and the SQS emulator…');
  stack = await startLocalStack({
    config,
    port: environment.port,
    ...(environment.reconcileSeconds === undefined
      ? {}
      : { reconcileIntervalMs: environment.reconcileSeconds * 1000 }),
    ...(environment.dataDirectory === undefined ? {} : { dataDirectory: environment.dataDirectory }),
    supervision: {
      ...(environment.restartBackoffMs === undefined
        ? {}
        : { restartBackoffMs: environment.restartBackoffMs }),
      report: (line) => console.error(line),
      onGaveUp: (error) => {
        console.error(error.message);
        shutdown(1);
      },
    },
  });
  console.log(describeStack(stack, environment.configPath));
  if (!environment.demo) return;
  demo = await startDemo({
    config,
    edgeUrl: stack.url,
    port: environment.simulatorPort,
    secrets: createSecretResolver({}),
    now: new Date(),
  });
  if (!demo) {
    console.log(
      `\nNo source polls http://127.0.0.1:${environment.simulatorPort}, so the provider simulator is not running.`,
    );
    return;
  }
  const report = await demo.seeded;
  console.log(describeDemo(report, stack.url));
}

function describeSchedule(stack: LocalStack): string {
  const polled = stack.config.sources.filter((source) => source.polling).map((source) => source.id);
  const parity = stack.config.parity.properties.map((property) => property.propertyId);
  const what =
    `${polled.length > 0 ? `polls ${polled.join(', ')}` : 'no polled sources'}; ` +
    `${parity.length > 0 ? `parity for ${parity.join(', ')}` : 'no parity properties'}`;
  const every = stack.reconciler.intervalMs;
  const when = every > 0 ? `every ${Math.round(every / 1000)} s` : 'schedule off';
  return `${what} (${when}; run it now: npm run cli -- reconcile)`;
}

if (typeof module !== 'undefined' && require.main === module) {
  main().catch((error: unknown) => {
    // Set-up problems get their message alone: it says what is wrong and how to fix it; a stack trace would not help.
    if (error instanceof ConfigurationError || error instanceof LocalEnvironmentError)
      console.error(error.message);
    else console.error(error);
    process.exit(1);
  });
}
