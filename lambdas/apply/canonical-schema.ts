import { CanonicalEnvelopeSchema, checkApplicable, WIDEST_LIMITS } from '../domain/applicable';
import type { CanonicalEvent } from '../domain/canonical';
import { formatPath } from '../domain/problems';

export type ParsedMessage =
  | { readonly ok: true; readonly event: CanonicalEvent }
  | {
      readonly ok: false;
      /**
       * `malformed_message`: not a canonical event at all (not JSON, an unknown version or type).
       * `not_applicable`: a canonical event that breaks the applicability contract the edge enforces, which only
       * a bug lets through.
       */
      readonly code: 'malformed_message' | 'not_applicable';
      /** The body's own eventId, when it has a usable one, so that the ledger can record the rejection. */
      readonly eventId?: string;
      /** Field paths and what is wrong with them; never the values, which may hold payload data. */
      readonly problems: readonly string[];
    };

/** A body that fails here can never become valid, so it is rejected rather than retried. */
export function parseCanonicalMessage(body: string): ParsedMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return {
      ok: false,
      code: 'malformed_message',
      problems: [`the body is not JSON (${body.length} characters)`],
    };
  }
  const envelope = CanonicalEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    const problems = envelope.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
    const eventId = CanonicalEnvelopeSchema.shape.eventId.safeParse(
      (json as { eventId?: unknown } | null)?.eventId,
    );
    return eventId.success
      ? { ok: false, code: 'malformed_message', eventId: eventId.data, problems }
      : { ok: false, code: 'malformed_message', problems };
  }
  // The widest limits: an event the edge accepted under its source's limits passes here too.
  const applicable = checkApplicable(json, WIDEST_LIMITS);
  if (applicable.ok) return { ok: true, event: applicable.event };
  return {
    ok: false,
    code: 'not_applicable',
    eventId: envelope.data.eventId,
    problems: applicable.problems.map((problem) => `${problem.path}: ${problem.message}`),
  };
}
