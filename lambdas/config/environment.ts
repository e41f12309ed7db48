import * as z from 'zod/mini';
import { ConfigurationError } from '../shared/errors';
import { DEFAULT_METRICS_NAMESPACE } from '../shared/metric-names';
import { parseConfig } from './load';
import type { ParitySyncConfig } from './schema';

/** Fields several functions' environments share. */
export const TableNameSchema = z.string().check(z.minLength(3), z.maxLength(255));
/** The validated ParitySync configuration as JSON (compiled into the bundle in AWS, set locally). */
export const ConfigJsonSchema = z.string().check(z.minLength(2));
export const MetricsNamespaceSchema = z._default(z.string().check(z.minLength(1)), DEFAULT_METRICS_NAMESPACE);

/** Validates a function's environment once at cold start; the error names every offending variable. */
export function validateEnvironment<S extends z.ZodMiniType>(
  schema: S,
  env: NodeJS.ProcessEnv,
  what: string,
): z.output<S> {
  const result = z.safeParse(schema, env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: String(issue.path[0] ?? '(environment)'),
    message: issue.message,
  }));
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
  throw new ConfigurationError(`Invalid ${what} environment:\n${lines}`, problems);
}

/** The configuration compiled into a bundle (or set by the local runtime) as PARITYSYNC_CONFIG_JSON. */
export function parseConfigJson(text: string): ParitySyncConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigurationError('PARITYSYNC_CONFIG_JSON is not valid JSON', [], { cause });
  }
  return parseConfig(raw, 'configuration in PARITYSYNC_CONFIG_JSON');
}
