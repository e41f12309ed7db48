import * as z from 'zod/mini';
import {
  type FunctionEnvironment,
  type FunctionEnvVariables,
  functionEnvFields,
  functionEnvironment,
} from '../config/bootstrap';
import { TableNameSchema, validateEnvironment } from '../config/environment';
import { METRIC_SERVICES } from '../shared/metric-names';

const SharedEnvFields = {
  LEDGER_TABLE_NAME: TableNameSchema,
  ARI_TABLE_NAME: TableNameSchema,
  MAPPINGS_TABLE_NAME: TableNameSchema,
  REVIEW_TABLE_NAME: TableNameSchema,
  RESERVATIONS_TABLE_NAME: TableNameSchema,
  /** Where parked events go back once their mapping exists. */
  EVENT_QUEUE_URL: z.string().check(z.url()),
};

/**
 * The apply (SQS consumer) function's environment, validated once at cold start. In AWS the stack sets these;
 * locally the runtime does. SDK endpoints for the emulators come from the SDK's AWS_ENDPOINT_URL_<SERVICE>.
 * Mapping seeds and property settings are read from the configuration.
 */
const ApplyEnvSchema = z.object({
  ...functionEnvFields(METRIC_SERVICES.apply),
  ...SharedEnvFields,
  GUESTS_TABLE_NAME: TableNameSchema,
});

/**
 * The read / admin API function's environment: the same tables, less the guest links it never reads, plus the
 * parity findings it serves.
 */
const ReadApiEnvSchema = z.object({
  ...functionEnvFields(METRIC_SERVICES.read),
  ...SharedEnvFields,
  PARITY_TABLE_NAME: TableNameSchema,
});

interface CommonEnvironment extends FunctionEnvironment {
  readonly eventQueueUrl: string;
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

type SharedEnv = z.infer<z.ZodMiniObject<typeof SharedEnvFields>> & FunctionEnvVariables;

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
  return { ...functionEnvironment(data), eventQueueUrl: data.EVENT_QUEUE_URL };
}
