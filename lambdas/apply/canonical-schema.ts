import { en } from 'zod/locales';
import * as z from 'zod/mini';
import {
  CANONICAL_SCHEMA_VERSION,
  type CanonicalEvent,
  type CanonicalEventType,
  SOURCE_KINDS,
} from '../domain/canonical';
import { isIsoDateTime } from '../domain/dates';

// Messages that say what was expected; the configuration loader sets the same locale, this makes it independent.
z.config(en());

// A record rather than an array, so that adding a canonical type without listing it here fails to compile.
const CANONICAL_TYPE_SET: Readonly<Record<CanonicalEventType, true>> = {
  'ari.update': true,
  'reservation.change': true,
  'guest.change': true,
  'mapping.change': true,
  'property.change': true,
  'service.notice': true,
};
export const CANONICAL_TYPES = Object.keys(CANONICAL_TYPE_SET) as [
  CanonicalEventType,
  ...CanonicalEventType[],
];

/**
 * Exactly what Date.prototype.toISOString writes. Last-writer-wins versions compare `occurredAt` as text, which
 * orders instants correctly only when every event spells them in this one fixed-width form.
 */
const FIXED_WIDTH_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const InstantSchema = z.string().check(
  z.refine((text) => FIXED_WIDTH_INSTANT.test(text) && isIsoDateTime(text), {
    message: 'must be a UTC instant in the form 2026-06-01T12:00:00.000Z',
  }),
);
const IdSchema = z.string().check(z.minLength(1), z.maxLength(512));

/**
 * The SQS message body the edge writes. The payload's inner shape was validated at the edge, against the
 * provider's schema, before the event was queued; here it only has to be an object.
 */
export const CanonicalMessageSchema = z.object({
  schemaVersion: z.literal(CANONICAL_SCHEMA_VERSION),
  eventId: IdSchema,
  sourceId: IdSchema,
  kind: z.enum(SOURCE_KINDS),
  providerEventType: IdSchema,
  idempotencyKey: IdSchema,
  deliveryId: z.optional(z.string()),
  occurredAt: InstantSchema,
  receivedAt: InstantSchema,
  type: z.enum(CANONICAL_TYPES),
  data: z.record(z.string(), z.unknown()),
});

export type ParsedMessage =
  | { readonly ok: true; readonly event: CanonicalEvent }
  | {
      readonly ok: false;
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
    return { ok: false, problems: [`the body is not JSON (${body.length} characters)`] };
  }
  const result = CanonicalMessageSchema.safeParse(json);
  // The edge validated `data` against the type it was built for; the pairing of type and data is trusted.
  if (result.success) return { ok: true, event: result.data as unknown as CanonicalEvent };
  const problems = result.error.issues.map(
    (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`,
  );
  const eventId = IdSchema.safeParse((json as { eventId?: unknown } | null)?.eventId);
  return eventId.success ? { ok: false, eventId: eventId.data, problems } : { ok: false, problems };
}
