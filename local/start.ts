import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { formatPath, loadConfigFile } from '../lambdas/config/load';
import type { ParitySyncConfig } from '../lambdas/config/schema';
import { READ_API_ROUTES } from '../lambdas/read/routes';
import { ConfigurationError } from '../lambdas/shared/errors';
import {
  ARI_STATE,
  DELIVERY_LEDGER,
  EVENTS_DLQ,
  EVENTS_QUEUE,
  GUESTS,
  MAPPINGS,
  RESERVATIONS,
  REVIEW,
} from '../lambdas/topology';
import { type Emulators, LocalEnvironmentError, startEmulators } from './emulators';
import { type SqsConsumer, startSqsPoller } from './poller';
import { type ProvisionedTopology, provision } from './provision';
import { type LocalApi, type LocalRoute, type ProxyHandler, startLocalApi } from './server';

const DEFAULT_CONFIG_PATH = 'config/local.example.json';
const DEFAULT_PORT = 3000;
const REGION = 'us-east-1';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

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
  readonly logError?: (message: string, error: unknown) => void;
}

export interface LocalStack {
  /** Base URL of the local API, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly config: ParitySyncConfig;
  readonly endpoints: EmulatorEndpoints;
  readonly topology: ProvisionedTopology;
  /** Whether the consumer is polling the events queue. */
  readonly consumer: boolean;
  /** Stops the consumer, the API and, if the stack started them, the emulators; restores the environment. */
  stop(): Promise<void>;
}

const SERVICE_NAMES = {
  ingest: 'paritysync-ingest',
  read: 'paritysync-read',
  apply: 'paritysync-apply',
} as const;

/**
 * The whole pipeline on this machine: emulators, the topology of lambdas/topology.ts, the ingest and read API
 * functions behind a local stand-in for API Gateway, and the consumer behind a local stand-in for the Lambda SQS
 * event source. The functions read their settings from process.env at load time, exactly as in Lambda, so this
 * sets them process-wide; a process should run one stack at a time.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  assertRunsLocally(options.config);
  const cleanup: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  };
  try {
    // The port is bound first, so that a port clash fails in milliseconds rather than after the emulators boot.
    const ingest = deferredHandler();
    const read = deferredHandler();
    const api = await listenOrExplain(options, [
      { method: 'POST', resource: '/webhooks/{sourceId}', handler: ingest.handler },
      ...READ_API_ROUTES.map((route) => ({ ...route, handler: read.handler })),
    ]);
    cleanup.push(() => api.close());

    let endpoints: EmulatorEndpoints;
    if (options.emulators) {
      endpoints = options.emulators;
    } else {
      const emulators: Emulators = await startEmulators();
      cleanup.push(() => emulators.stop());
      endpoints = emulators;
    }

    const dynamodb = new DynamoDBClient({
      endpoint: endpoints.dynamodbEndpoint,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const sqs = new SQSClient({
      endpoint: endpoints.sqsEndpoint,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const topology = await provision({ dynamodb, sqs, prefix: options.prefix ?? 'paritysync' }).finally(
      () => {
        dynamodb.destroy();
        sqs.destroy();
      },
    );

    const restoreEnvironment = setEnvironment(functionEnvironment(options.config, endpoints, topology));
    cleanup.push(async () => restoreEnvironment());

    const loadIngest = options.loadIngestHandler ?? (() => import('../lambdas/ingest/handler'));
    ingest.resolve((await asService(SERVICE_NAMES.ingest, loadIngest)).handler);
    const loadRead = options.loadReadHandler ?? (() => import('../lambdas/read/handler'));
    read.resolve((await asService(SERVICE_NAMES.read, loadRead)).handler);

    const runConsumer = options.consumer ?? true;
    if (runConsumer) {
      const loadConsumer = options.loadConsumerHandler ?? (() => import('../lambdas/apply/handler'));
      const { handler } = await asService(SERVICE_NAMES.apply, loadConsumer);
      const eventsQueue = topology.queues[EVENTS_QUEUE.id];
      if (eventsQueue === undefined) throw new Error('Provisioning did not create the events queue');
      const pollerSqs = new SQSClient({
        endpoint: endpoints.sqsEndpoint,
        region: REGION,
        credentials: LOCAL_CREDENTIALS,
      });
      const poller = startSqsPoller({
        sqs: pollerSqs,
        queueUrl: eventsQueue.url,
        queueArn: eventsQueue.arn,
        region: REGION,
        consumer: options.wrapConsumer ? options.wrapConsumer(handler) : handler,
        visibilityTimeoutSeconds: options.pollVisibilitySeconds ?? 2,
        // Lambda runs several batches at once; two loops keep that concurrency visible locally.
        concurrency: 2,
        ...(options.logError ? { logError: options.logError } : {}),
      });
      // Registered last, so it runs first on stop: nothing is consumed once the rest starts to go away.
      cleanup.push(async () => {
        await poller.stop();
        pollerSqs.destroy();
      });
    }

    return { url: api.url, config: options.config, endpoints, topology, consumer: runConsumer, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A handler the server can route to before the function module has loaded; calls wait for it. */
function deferredHandler(): { handler: ProxyHandler; resolve: (handler: ProxyHandler) => void } {
  let resolve: (handler: ProxyHandler) => void = () => undefined;
  const loaded = new Promise<ProxyHandler>((done) => {
    resolve = done;
  });
  return { handler: (event, context) => loaded.then((handler) => handler(event, context)), resolve };
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

async function listenOrExplain(options: LocalStackOptions, routes: readonly LocalRoute[]): Promise<LocalApi> {
  const port = options.port ?? 0;
  try {
    return await startLocalApi({
      port,
      host: '127.0.0.1',
      routes,
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
  const problems = config.sources.flatMap((source, sourceIndex) =>
    source.secrets.flatMap((ref, secretIndex) =>
      'secretsManager' in ref
        ? [
            {
              path: formatPath(['sources', sourceIndex, 'secrets', secretIndex]),
              message: `source ${source.id} reads its secret from Secrets Manager, which the local runtime does not have; use { "value": "…" } or { "env": "VARIABLE" } locally`,
            },
          ]
        : [],
    ),
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
  const eventQueue = topology.queues[EVENTS_QUEUE.id];
  if (eventQueue === undefined) throw new Error('Provisioning did not create the events queue');
  return {
    PARITYSYNC_CONFIG_JSON: JSON.stringify(config),
    LEDGER_TABLE_NAME: table(DELIVERY_LEDGER),
    ARI_TABLE_NAME: table(ARI_STATE),
    MAPPINGS_TABLE_NAME: table(MAPPINGS),
    REVIEW_TABLE_NAME: table(REVIEW),
    RESERVATIONS_TABLE_NAME: table(RESERVATIONS),
    GUESTS_TABLE_NAME: table(GUESTS),
    EVENT_QUEUE_URL: eventQueue.url,
    // No CloudWatch reads the metrics locally, and their JSON lines would bury the log; set it to false to see them.
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: endpoints.sqsEndpoint,
    POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.ingest,
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

const StartEnvironmentSchema = z.object({
  PARITYSYNC_CONFIG: z.string().min(1, 'must be a path to a configuration file').default(DEFAULT_CONFIG_PATH),
  PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number between 1 and 65535')
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, 'must be a port number between 1 and 65535')
        .max(65_535, 'must be at most 65535'),
    )
    .default(DEFAULT_PORT),
});

export function readStartEnvironment(env: NodeJS.ProcessEnv): { configPath: string; port: number } {
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
  return { configPath: result.data.PARITYSYNC_CONFIG, port: result.data.PORT };
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
    'Read / admin API (open to anyone on this machine: locally there is no IAM in front of it):',
    ...READ_API_ROUTES.map((route) => `  ${route.method.padEnd(4)} ${stack.url}${route.resource}`),
    '',
    `Delivery ledger: table ${stack.topology.tables[DELIVERY_LEDGER.id]} in DynamoDB Local at ${stack.endpoints.dynamodbEndpoint}`,
    `Events queue:    ${stack.topology.queues[EVENTS_QUEUE.id]?.url}`,
    `Dead letters:    ${stack.topology.queues[EVENTS_DLQ.id]?.url}`,
    stack.consumer
      ? 'Apply pipeline:  consuming the events queue (locally a failed record is retried within seconds)'
      : 'Apply pipeline:  not running',
    '',
    ...(first ? [`Send a signed sample event:  npm run send -- ${first.id}`] : []),
    ...(first ? [`Then follow it:              curl ${stack.url}/deliveries/<the eventId it answered>`] : []),
    'Stop with Ctrl+C.',
  ].join('\n');
}

async function main(): Promise<void> {
  let stack: LocalStack | undefined;
  const shutdown = () => {
    // Before the stack is up there is nothing graceful to do: exiting kills DynamoDB Local through its exit hook.
    void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);

  const { configPath, port } = readStartEnvironment(process.env);
  const config = await loadConfigFile(configPath);
  console.log('Starting DynamoDB Local and the SQS emulator…');
  stack = await startLocalStack({ config, port });
  console.log(describeStack(stack, configPath));
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
