import * as z from 'zod/mini';
import { type FunctionEnvironment, functionEnvFields, functionEnvironment } from '../config/bootstrap';
import { queueUrlEnvField, tableEnvFields, validateEnvironment } from '../config/environment';
import { DELIVERY_LEDGER, EVENTS_QUEUE, REJECTIONS } from '../shared/topology';

/**
 * The ingest function's environment, validated once at cold start. In AWS the stack sets these; locally the
 * runtime does. SDK endpoints for the emulators come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables.
 * The configuration holds source definitions and secret references, never secret values.
 */
const IngestEnvSchema = z.object({
  ...functionEnvFields('ingest'),
  ...tableEnvFields({ ledger: DELIVERY_LEDGER, rejections: REJECTIONS }),
  ...queueUrlEnvField(EVENTS_QUEUE),
});

export interface IngestEnvironment extends FunctionEnvironment {
  readonly ledgerTableName: string;
  readonly rejectionsTableName: string;
  readonly eventQueueUrl: string;
}

export function readIngestEnvironment(env: NodeJS.ProcessEnv = process.env): IngestEnvironment {
  const data = validateEnvironment(IngestEnvSchema, env, 'ingest');
  return {
    ...functionEnvironment(data),
    ledgerTableName: data[DELIVERY_LEDGER.environmentName],
    rejectionsTableName: data[REJECTIONS.environmentName],
    eventQueueUrl: data[EVENTS_QUEUE.environmentName],
  };
}
