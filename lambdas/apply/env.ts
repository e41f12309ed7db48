import * as z from 'zod/mini';
import {
  ConfigJsonSchema,
  MetricsNamespaceSchema,
  parseConfigJson,
  TableNameSchema,
  validateEnvironment,
} from '../config/environment';
import type { ParitySyncConfig } from '../config/schema';

const SharedEnvFields = {
  /** The validated ParitySync configuration as JSON: mapping seeds and property settings are read from it. */
  PARITYSYNC_CONFIG_JSON: ConfigJsonSchema,
  LEDGER_TABLE_NAME: TableNameSchema,
  ARI_TABLE_NAME: TableNameSchema,
  MAPPINGS_TABLE_NAME: TableNameSchema,
  REVIEW_TABLE_NAME: TableNameSchema,
  RESERVATIONS_TABLE_NAME: TableNameSchema,
  /** Where parked events go back once their mapping exists. */
  EVENT_QUEUE_URL: z.string().check(z.url()),
  POWERTOOLS_METRICS_NAMESPACE: MetricsNamespaceSchema,
};

/**
 * The apply (SQS consumer) function's environment, validated once at cold start. In AWS the stack sets these;
 * locally the runtime does. SDK endpoints for the emulators come from the SDK's AWS_ENDPOINT_URL_<SERVICE>.
 */
const ApplyEnvSchema = z.object({
  ...SharedEnvFields,
  GUESTS_TABLE_NAME: TableNameSchema,
  POWERTOOLS_SERVICE_NAME: z._default(z.string(), 'paritysync-apply'),
});

/**
 * The read / admin API function's environment: the same tables, less the guest links it never reads, plus the
 * parity findings it serves.
 */
const ReadApiEnvSchema = z.object({
  ...SharedEnvFields,
  PARITY_TABLE_NAME: TableNameSchema,
  POWERTOOLS_SERVICE_NAME: z._default(z.string(), 'paritysync-read'),
});

interface CommonEnvironment {
  readonly config: ParitySyncConfig;
  readonly eventQueueUrl: string;
  readonly metricsNamespace: string;
  readonly serviceName: string;
}

export interface ApplyEnvironment extends CommonEnvironment {
  readonly tables: {
    readonly ledger: string;
    readonly ari: string;
    readonly mappings: string;
    readonly review: string;
    readonly reservations: string;
    readonly guests: string;
  };
}

type SharedTables = Omit<ApplyEnvironment['tables'], 'guests'>;

export interface ReadApiEnvironment extends CommonEnvironment {
  readonly tables: SharedTables & { readonly parity: string };
}

export function readApplyEnvironment(env: NodeJS.ProcessEnv = process.env): ApplyEnvironment {
  const data = validateEnvironment(ApplyEnvSchema, env, 'apply');
  return {
    ...common(data),
    tables: { ...sharedTables(data), guests: data.GUESTS_TABLE_NAME },
  };
}

export function readReadApiEnvironment(env: NodeJS.ProcessEnv = process.env): ReadApiEnvironment {
  const data = validateEnvironment(ReadApiEnvSchema, env, 'read API');
  return { ...common(data), tables: { ...sharedTables(data), parity: data.PARITY_TABLE_NAME } };
}

type SharedEnv = z.infer<z.ZodMiniObject<typeof SharedEnvFields>> & { POWERTOOLS_SERVICE_NAME: string };

function sharedTables(data: SharedEnv): SharedTables {
  return {
    ledger: data.LEDGER_TABLE_NAME,
    ari: data.ARI_TABLE_NAME,
    mappings: data.MAPPINGS_TABLE_NAME,
    review: data.REVIEW_TABLE_NAME,
    reservations: data.RESERVATIONS_TABLE_NAME,
  };
}

function common(data: SharedEnv): CommonEnvironment {
  return {
    config: parseConfigJson(data.PARITYSYNC_CONFIG_JSON),
    eventQueueUrl: data.EVENT_QUEUE_URL,
    metricsNamespace: data.POWERTOOLS_METRICS_NAMESPACE,
    serviceName: data.POWERTOOLS_SERVICE_NAME,
  };
}
