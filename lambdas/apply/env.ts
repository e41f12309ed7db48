import * as z from 'zod/mini';
import { parseConfig } from '../config/load';
import type { ParitySyncConfig } from '../config/schema';
import { ConfigurationError } from '../shared/errors';

const TableNameSchema = z.string().check(z.minLength(3), z.maxLength(255));

const SharedEnvFields = {
  /** The validated ParitySync configuration as JSON: mapping seeds and property settings are read from it. */
  PARITYSYNC_CONFIG_JSON: z.string().check(z.minLength(2)),
  LEDGER_TABLE_NAME: TableNameSchema,
  ARI_TABLE_NAME: TableNameSchema,
  MAPPINGS_TABLE_NAME: TableNameSchema,
  REVIEW_TABLE_NAME: TableNameSchema,
  RESERVATIONS_TABLE_NAME: TableNameSchema,
  /** Where parked events go back once their mapping exists. */
  EVENT_QUEUE_URL: z.string().check(z.url()),
  POWERTOOLS_METRICS_NAMESPACE: z._default(z.string().check(z.minLength(1)), 'ParitySync'),
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

/** The read / admin API function's environment: the same tables, less the guest links it never reads. */
const ReadApiEnvSchema = z.object({
  ...SharedEnvFields,
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

export interface ReadApiEnvironment extends CommonEnvironment {
  readonly tables: Omit<ApplyEnvironment['tables'], 'guests'>;
}

export function readApplyEnvironment(env: NodeJS.ProcessEnv = process.env): ApplyEnvironment {
  const data = validate(ApplyEnvSchema, env, 'apply');
  return {
    ...common(data),
    tables: { ...sharedTables(data), guests: data.GUESTS_TABLE_NAME },
  };
}

export function readReadApiEnvironment(env: NodeJS.ProcessEnv = process.env): ReadApiEnvironment {
  const data = validate(ReadApiEnvSchema, env, 'read API');
  return { ...common(data), tables: sharedTables(data) };
}

type SharedEnv = z.infer<z.ZodMiniObject<typeof SharedEnvFields>> & { POWERTOOLS_SERVICE_NAME: string };

function sharedTables(data: SharedEnv): ReadApiEnvironment['tables'] {
  return {
    ledger: data.LEDGER_TABLE_NAME,
    ari: data.ARI_TABLE_NAME,
    mappings: data.MAPPINGS_TABLE_NAME,
    review: data.REVIEW_TABLE_NAME,
    reservations: data.RESERVATIONS_TABLE_NAME,
  };
}

function common(data: SharedEnv): CommonEnvironment {
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(data.PARITYSYNC_CONFIG_JSON);
  } catch (cause) {
    throw new ConfigurationError('PARITYSYNC_CONFIG_JSON is not valid JSON', [], { cause });
  }
  return {
    config: parseConfig(rawConfig, 'configuration in PARITYSYNC_CONFIG_JSON'),
    eventQueueUrl: data.EVENT_QUEUE_URL,
    metricsNamespace: data.POWERTOOLS_METRICS_NAMESPACE,
    serviceName: data.POWERTOOLS_SERVICE_NAME,
  };
}

function validate<S extends z.ZodMiniType>(schema: S, env: NodeJS.ProcessEnv, what: string): z.output<S> {
  const result = z.safeParse(schema, env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: String(issue.path[0] ?? '(environment)'),
    message: issue.message,
  }));
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
  throw new ConfigurationError(`Invalid ${what} environment:\n${lines}`, problems);
}
