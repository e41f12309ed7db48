import * as z from 'zod/mini';
import { ConfigurationError } from '../shared/errors';
import { DEFAULT_METRICS_NAMESPACE } from '../shared/metric-names';
import { formatPath, parseConfig } from './load';
import { type ParitySyncConfig, ParitySyncConfigSchema } from './schema';

/** Fields several functions' environments share. */
export const TableNameSchema = z.string().check(z.minLength(3), z.maxLength(255));
/**
 * The validated ParitySync configuration as JSON (compiled into the bundle in AWS, set locally). Its problems
 * are reported with the other variables', as `PARITYSYNC_CONFIG_JSON.sources[0].id`, so that one failed cold
 * start names everything that is wrong.
 */
export const ConfigJsonSchema = z.string().check(
  z.superRefine((text, ctx) => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      // Not the parser's message: it quotes the text, which may hold inline secret values.
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON', input: undefined });
      return;
    }
    const result = ParitySyncConfigSchema.safeParse(raw);
    if (result.success) return;
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message, input: undefined });
    }
  }),
);
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
    path: issue.path.length === 0 ? '(environment)' : formatPath(issue.path),
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
