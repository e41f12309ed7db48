import * as z from 'zod/mini';
import { parseConfig } from '../config/load';
import type { ParitySyncConfig } from '../config/schema';
import { ConfigurationError } from '../shared/errors';

/**
 * The ingest function's environment, validated once at cold start. In AWS the stack sets these; locally the
 * runtime does. SDK endpoints for the emulators come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables.
 */
const IngestEnvSchema = z.object({
  /** The validated ParitySync configuration as JSON (source definitions and secret references, no secret values). */
  PARITYSYNC_CONFIG_JSON: z.string().check(z.minLength(2)),
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
  const result = IngestEnvSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => ({
      path: String(issue.path[0] ?? '(environment)'),
      message: issue.message,
    }));
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
    throw new ConfigurationError(`Invalid ingest environment:\n${lines}`, problems);
  }
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(result.data.PARITYSYNC_CONFIG_JSON);
  } catch (cause) {
    throw new ConfigurationError('PARITYSYNC_CONFIG_JSON is not valid JSON', [], { cause });
  }
  return {
    config: parseConfig(rawConfig, 'configuration in PARITYSYNC_CONFIG_JSON'),
    ledgerTableName: result.data.LEDGER_TABLE_NAME,
    eventQueueUrl: result.data.EVENT_QUEUE_URL,
  };
}
