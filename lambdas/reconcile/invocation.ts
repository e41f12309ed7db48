import * as z from 'zod/mini';
import { type FieldProblem, InvalidRequestError } from '../shared/errors';
import { zodProblems } from '../shared/problems';
import type { PlanRequest } from './fanout';
import type { ReconcileRequest } from './service';

/**
 * What the reconciliation function accepts: the schedule's fixed input `{ "trigger": "schedule" }`, or a manual
 * invocation naming what to do. Strict, so a misspelt option fails loudly instead of reconciling everything.
 */
export const ReconcileInvocationSchema = z.strictObject({
  trigger: z._default(z.enum(['schedule', 'manual']), 'manual'),
  /** The EventBridge event that asked for a scheduled run: its run is started at most once. */
  eventId: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  /** Only these polled sources. @default every polled source */
  sourceIds: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  /** Measure only. @default the configuration's reconciliation.drift.dryRun */
  dryRun: z.optional(z.boolean()),
  /** Check rate parity after the sources. @default true */
  parity: z.optional(z.boolean()),
});

/** The invocation payload is not one the function understands. */
export class InvalidInvocationError extends InvalidRequestError {
  declare readonly fields: readonly FieldProblem[];

  constructor(message: string, fields: readonly FieldProblem[]) {
    super('invalid_invocation', message, { fields });
  }
}

export function parseInvocation(payload: unknown): ReconcileRequest {
  const { trigger: _trigger, eventId: _eventId, ...request } = parsePlanInvocation(payload);
  return request;
}

/** The invocation as the planner takes it: what to reconcile, and whether (and for which event) it is scheduled. */
export function parsePlanInvocation(payload: unknown): PlanRequest {
  const result = z.safeParse(ReconcileInvocationSchema, payload ?? {});
  if (!result.success) {
    const fields = zodProblems(result.error);
    throw new InvalidInvocationError(
      `The reconciliation payload is invalid (${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}). ` +
        'Send {} or { "sourceIds": ["<source id>"], "dryRun": true, "parity": false }.',
      fields,
    );
  }
  const { sourceIds, dryRun, parity, trigger, eventId } = result.data;
  return {
    trigger,
    ...(eventId === undefined ? {} : { eventId }),
    ...(sourceIds === undefined ? {} : { sourceIds }),
    ...(dryRun === undefined ? {} : { dryRun }),
    ...(parity === undefined ? {} : { parity }),
  };
}
