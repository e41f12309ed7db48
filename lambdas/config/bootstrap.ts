import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import * as z from 'zod/mini';
import { type AwsClientConfig, type AwsClientRole, awsClientConfig } from '../shared/aws-clients';
import { METRIC_SERVICES } from '../shared/metric-names';
import {
  ConfigJsonSchema,
  MetricsNamespaceSchema,
  parseConfigJson,
  QueueUrlSchema,
  type SentQueueDefinition,
  type TableBindings,
  type TableNames,
  tableEnvFields,
  tableNames,
  validateEnvironment,
} from './environment';
import type { ParitySyncConfig } from './schema';

/** What every function's environment reader returns besides its own tables and queues. */
export interface FunctionEnvironment {
  readonly config: ParitySyncConfig;
  readonly serviceName: string;
  readonly metricsNamespace: string;
}

/**
 * The variables every function's environment schema starts with. Where no POWERTOOLS_SERVICE_NAME is set, the
 * function's entry in METRIC_SERVICES stands in: the dashboard and alarms read its metrics by that name.
 */
export function functionEnvFields(service: keyof typeof METRIC_SERVICES) {
  return {
    PARITYSYNC_CONFIG_JSON: ConfigJsonSchema,
    POWERTOOLS_METRICS_NAMESPACE: MetricsNamespaceSchema,
    POWERTOOLS_SERVICE_NAME: z._default(z.string(), METRIC_SERVICES[service]),
  };
}

export type FunctionEnvVariables = z.output<z.ZodMiniObject<ReturnType<typeof functionEnvFields>>>;

/** The validated `functionEnvFields` as a `FunctionEnvironment`. */
export function functionEnvironment(data: FunctionEnvVariables): FunctionEnvironment {
  return {
    config: parseConfigJson(data.PARITYSYNC_CONFIG_JSON),
    metricsNamespace: data.POWERTOOLS_METRICS_NAMESPACE,
    serviceName: data.POWERTOOLS_SERVICE_NAME,
  };
}

/** The queues a function sends to, under the names its code knows them by: `{ events: EVENTS_QUEUE }`. */
export type QueueBindings = Readonly<Record<string, SentQueueDefinition>>;

/** What a function's environment reader returns: the common part, its tables' names and its queues' URLs. */
export interface BoundEnvironment<T extends TableBindings, Q extends QueueBindings>
  extends FunctionEnvironment {
  readonly tables: TableNames<T>;
  readonly queues: { readonly [K in keyof Q]: string };
}

/**
 * A function's environment reader, from the tables and queues it uses: the variables come from their topology
 * definitions, so the stack and the local runtime set exactly what the reader asks for. `settings` reads any
 * other variables, checked with the rest; its output joins the environment. `what` names the function in the
 * error a bad environment raises at cold start.
 */
export function environmentReader<
  T extends TableBindings,
  Q extends QueueBindings = Record<never, never>,
  S extends object = Record<never, never>,
>(
  service: keyof typeof METRIC_SERVICES,
  what: string,
  bindings: { readonly tables: T; readonly queues?: Q; readonly settings?: z.ZodMiniType<S> },
): (env?: NodeJS.ProcessEnv) => BoundEnvironment<T, Q> & S {
  const queues = (bindings.queues ?? {}) as Q;
  const { settings } = bindings;
  const variables = z.object({
    ...functionEnvFields(service),
    ...tableEnvFields(bindings.tables),
    ...Object.fromEntries(Object.values(queues).map((queue) => [queue.environmentName, QueueUrlSchema])),
  });
  // One schema for both, so that one error names every offending variable.
  const schema = settings === undefined ? variables : z.intersection(variables, settings);
  return (env = process.env) => {
    // Every field of the variables is a string: the common variables, table names and queue URLs.
    const data = validateEnvironment(schema, env, what) as unknown as FunctionEnvVariables &
      Record<string, string>;
    return {
      ...functionEnvironment(data),
      tables: tableNames(bindings.tables, data as Readonly<Record<T[keyof T]['environmentName'], string>>),
      queues: Object.fromEntries(
        Object.entries(queues).map(([name, queue]) => [name, data[queue.environmentName]]),
      ) as { readonly [K in keyof Q]: string },
      // Already validated above: parsed again for its output alone.
      ...((settings === undefined ? {} : z.parse(settings, env)) as S),
    };
  };
}

/** What a handler module builds once per cold start, before it wires its own stores and domain service. */
export interface FunctionBootstrap<E extends FunctionEnvironment> {
  readonly environment: E;
  readonly config: ParitySyncConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** An AWS SDK client with this function's timeouts and attempts: `fn.client(DynamoDBClient)`. */
  client<C>(Client: new (config: AwsClientConfig) => C): C;
}

/**
 * Validates the function's environment and builds its logger, metrics and SDK client settings. A missing or
 * invalid variable fails the cold start with a ConfigurationError naming every one of them.
 */
export function bootstrapFunction<E extends FunctionEnvironment>(
  role: AwsClientRole,
  readEnvironment: (env: NodeJS.ProcessEnv) => E,
): FunctionBootstrap<E> {
  // Spelled out rather than left in `process.env`: in AWS the configuration is compiled into the bundle by
  // esbuild replacing this very expression at build time; the local runtime sets the variable instead.
  const environment = readEnvironment({
    ...process.env,
    PARITYSYNC_CONFIG_JSON: process.env.PARITYSYNC_CONFIG_JSON,
  });
  const { serviceName, metricsNamespace } = environment;
  const client = <C>(Client: new (config: AwsClientConfig) => C): C => new Client(awsClientConfig(role));
  return {
    environment,
    config: environment.config,
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: metricsNamespace, serviceName }),
    client,
  };
}
