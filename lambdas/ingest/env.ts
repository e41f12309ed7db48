import * as z from 'zod/mini';
import { type FunctionEnvironment, functionEnvFields, functionEnvironment } from '../config/bootstrap';
import { validateEnvironment } from '../config/environment';
import { METRIC_SERVICES } from '../shared/metric-names';

/**
 * The ingest function's environment, validated once at cold start. In AWS the stack sets these; locally the
 * runtime does. SDK endpoints for the emulators come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables.
 * The configuration holds source definitions and secret references, never secret values.
 */
const IngestEnvSchema = z.object({
  ...functionEnvFields(METRIC_SERVICES.ingest),
  LEDGER_TABLE_NAME: z.string().check(z.minLength(1)),
  EVENT_QUEUE_URL: z.string().check(z.url()),
});

export interface IngestEnvironment extends FunctionEnvironment {
  readonly ledgerTableName: string;
  readonly eventQueueUrl: string;
}

export function readIngestEnvironment(env: NodeJS.ProcessEnv = process.env): IngestEnvironment {
  const data = validateEnvironment(IngestEnvSchema, env, 'ingest');
  return {
    ...functionEnvironment(data),
    ledgerTableName: data.LEDGER_TABLE_NAME,
    eventQueueUrl: data.EVENT_QUEUE_URL,
  };
}
