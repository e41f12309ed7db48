import * as z from 'zod/mini';
import { ConfigJsonSchema, parseConfigJson, validateEnvironment } from '../config/environment';
import type { ParitySyncConfig } from '../config/schema';

/**
 * The ingest function's environment, validated once at cold start. In AWS the stack sets these; locally the
 * runtime does. SDK endpoints for the emulators come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables.
 */
const IngestEnvSchema = z.object({
  /** The validated ParitySync configuration as JSON (source definitions and secret references, no secret values). */
  PARITYSYNC_CONFIG_JSON: ConfigJsonSchema,
  LEDGER_TABLE_NAME: z.string().check(z.minLength(1)),
  EVENT_QUEUE_URL: z.string().check(z.url()),
  POWERTOOLS_SERVICE_NAME: z._default(z.string(), 'paritysync-ingest'),
});

export interface IngestEnvironment {
  readonly config: ParitySyncConfig;
  readonly ledgerTableName: string;
  readonly eventQueueUrl: string;
}

export function readIngestEnvironment(env: NodeJS.ProcessEnv = process.env): IngestEnvironment {
  const data = validateEnvironment(IngestEnvSchema, env, 'ingest');
  return {
    config: parseConfigJson(data.PARITYSYNC_CONFIG_JSON),
    ledgerTableName: data.LEDGER_TABLE_NAME,
    eventQueueUrl: data.EVENT_QUEUE_URL,
  };
}
