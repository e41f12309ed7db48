import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { type FieldProblem, formatPath } from '../domain/problems';

// The one place zod is set up. zod/mini ships without messages (every issue would read "Invalid input"); English
// is what the full build installs by default. Every module that reports zod issues imports this one, and
// messages are resolved when a parse fails, so the order in which schema modules load does not matter.
z.config(en());

export { formatPath };

export function zodProblems(error: z.core.$ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}
