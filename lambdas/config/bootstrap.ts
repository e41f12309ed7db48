import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import * as z from 'zod/mini';
import { type AwsClientConfig, type AwsClientRole, awsClientConfig } from '../shared/aws-clients';
import { METRIC_SERVICES } from '../shared/metric-names';
import { ConfigJsonSchema, MetricsNamespaceSchema, parseConfigJson } from './environment';
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
