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
  DELIVERY_LEDGER,
  EVENTS_QUEUE,
  MAPPINGS,
  PARITY_FINDINGS,
  REJECTIONS,
  RESERVATIONS,
  REVIEW,
} from '../shared/topology';

/**
 * The apply function's tables less the guest links, which this function never reads, plus parity findings and
 * the rejection log.
 */
const READ_TABLES = {
  ledger: DELIVERY_LEDGER,
  ari: ARI_STATE,
  mappings: MAPPINGS,
  review: REVIEW,
  reservations: RESERVATIONS,
  parity: PARITY_FINDINGS,
  rejections: REJECTIONS,
};

/**
 * The read / admin API function's environment, validated once at cold start. The events queue is where events
 * parked for a mapping go back once an operator adds it.
 */
const ReadApiEnvSchema = z.object({
  ...functionEnvFields('read'),
  ...tableEnvFields(READ_TABLES),
  ...queueUrlEnvField(EVENTS_QUEUE),
});

export interface ReadApiEnvironment extends FunctionEnvironment {
  readonly tables: TableNames<typeof READ_TABLES>;
  readonly eventQueueUrl: string;
}

export function readReadApiEnvironment(env: NodeJS.ProcessEnv = process.env): ReadApiEnvironment {
  const data = validateEnvironment(ReadApiEnvSchema, env, 'read API');
  return {
    ...functionEnvironment(data),
    tables: tableNames(READ_TABLES, data),
    eventQueueUrl: data[EVENTS_QUEUE.environmentName],
  };
}
