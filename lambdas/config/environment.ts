import * as z from 'zod/mini';
import { ConfigurationError } from '../shared/errors';
import { parseConfig } from './load';
import type { ParitySyncConfig } from './schema';

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
