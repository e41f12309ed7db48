import * as z from 'zod/mini';
import { type FunctionEnvironment, functionEnvFields, functionEnvironment } from '../config/bootstrap';
import {
  queueUrlEnvField,
  type TableNames,
  tableEnvFields,
  tableNames,
  validateEnvironment,
} from '../config/environment';
import {
  ARI_STATE,
  CONTROLS,
  DELIVERY_LEDGER,
  EVENTS_QUEUE,
  GUESTS,
  MAPPINGS,
  RESERVATIONS,
  REVIEW,
} from '../shared/topology';

const APPLY_TABLES = {
  ledger: DELIVERY_LEDGER,
  ari: ARI_STATE,
  mappings: MAPPINGS,
  review: REVIEW,
  reservations: RESERVATIONS,
  guests: GUESTS,
  controls: CONTROLS,
};

/**
 * The apply (SQS consumer) function's environment, validated once at cold start. In AWS the stack sets these;
 * locally the runtime does. SDK endpoints for the emulators come from the SDK's AWS_ENDPOINT_URL_<SERVICE>.
 * Mapping seeds and property settings are read from the configuration. The events queue is where parked events
 * go back once their mapping exists; the controls table says which sources are on hold.
 */
const ApplyEnvSchema = z.object({
  ...functionEnvFields('apply'),
  ...tableEnvFields(APPLY_TABLES),
  ...queueUrlEnvField(EVENTS_QUEUE),
});

export interface ApplyEnvironment extends FunctionEnvironment {
  readonly tables: TableNames<typeof APPLY_TABLES>;
  readonly eventQueueUrl: string;
}

export function readApplyEnvironment(env: NodeJS.ProcessEnv = process.env): ApplyEnvironment {
  const data = validateEnvironment(ApplyEnvSchema, env, 'apply');
  return {
    ...functionEnvironment(data),
    tables: tableNames(APPLY_TABLES, data),
    eventQueueUrl: data[EVENTS_QUEUE.environmentName],
  };
}
