import type * as z from 'zod/mini';
import { type FieldProblem, formatPath } from '../domain/problems';

export { formatPath };

export function zodProblems(error: z.core.$ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}
