import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigurationError } from '../shared/errors';
import { formatPath, zodProblems } from '../shared/problems';
import { type ParitySyncConfig, ParitySyncConfigSchema } from './schema';

// Re-exported: most callers reach them through the configuration loader.
export { formatPath, zodProblems };

/** Validates an already-read configuration object; the error names every offending field. */
export function parseConfig(input: unknown, origin = 'configuration'): ParitySyncConfig {
  const result = ParitySyncConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = zodProblems(result.error);
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
  throw new ConfigurationError(`Invalid ParitySync ${origin}:\n${lines}`, problems, { cause: result.error });
}

/**
 * Reads the configuration file named by the caller (JSON, or a TypeScript/JavaScript module whose default
 * export is the configuration) and validates it. Used by the CDK app and the local runtime alike.
 */
export async function loadConfigFile(path: string): Promise<ParitySyncConfig> {
  const absolute = resolve(path);
  let raw: unknown;
  try {
    if (extname(absolute) === '.json') {
      raw = JSON.parse(readFileSync(absolute, 'utf8'));
    } else {
      const module = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
      raw = module.default;
    }
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigurationError(`Cannot read ParitySync configuration ${absolute}: ${detail}`, [], {
      cause,
    });
  }
  return parseConfig(raw, `configuration in ${absolute}`);
}
