import type * as z from 'zod/mini';
import type { FieldProblem } from './errors';

/** `sources[2].secrets[0]`: the path of a zod issue as a user would write it in the configuration. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text || '(root)';
}

export function zodProblems(error: z.core.$ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}
