import * as z from 'zod/mini';
import {
  type AriUpdate,
  CANONICAL_SCHEMA_VERSION,
  type CanonicalEvent,
  type CanonicalEventType,
  type CanonicalPayload,
  RESERVATION_STATUSES,
  SOURCE_KINDS,
} from './canonical';
import { addDays, isCalendarDate, isIsoDateTime, nightsInclusive } from './dates';
import { type FieldProblem, formatPath } from './problems';

/**
 * The applicability contract: what a canonical event must satisfy for apply to store it. It is defined here
 * once, and both sides use it: the edge refuses (422 `not_applicable`) an event that breaks it before anything is
 * written, and apply checks it again before touching state. An event that passes can be applied, parked or
 * rejected for a domain reason (an unmapped id, an inventory conflict), but never fails on its own values: key
 * sizes, dates, timestamps, encodings and amounts are all settled here.
 *
 * Each rule is what a later stage needs:
 * - Ids become parts of DynamoDB keys (percent-encoded in the room-night sort key, where each UTF-8 byte can
 *   become three characters; the sort key may hold at most 1,024 bytes) and of log lines: well-formed Unicode
 *   (a lone surrogate cannot be encoded as UTF-8 at all), no control characters, at most ID_MAX_BYTES bytes.
 * - Every other string is well-formed Unicode and bounded.
 * - No string holds U+FFFE or U+FFFF: the event travels as an SQS message, which may hold only the characters
 *   XML allows. JSON escapes the other ones SQS refuses (controls below U+0020); these two it writes as they are,
 *   and SQS would refuse every send of the event.
 * - Stay dates are calendar dates within a window around the day the event was received, so that a year 9999 or
 *   0000 never reaches date arithmetic, and a rate for ten years ago is refused rather than stored.
 * - `occurredAt` orders last-writer-wins: one in the future would freeze every later genuine update of the same
 *   night, so it may be at most the source's clock tolerance after receipt, and no older than the dedupe window.
 * - Money is integer minor units (a safe integer) in an ISO 4217 code.
 */

/** Bytes of UTF-8 an id may have: three of them, percent-encoded, fit one sort key with room to spare. */
export const ID_MAX_BYTES = 100;
/** UTF-16 units of free text (a reason, a notice's detail). */
export const TEXT_MAX_LENGTH = 1_000;
/** Stay dates may lie at most this many days before the day of receipt. */
export const STAY_DAYS_BEFORE_RECEIPT = 366;
/** Stay dates may lie at most this many days after the day of receipt (three years of rate calendar). */
export const STAY_DAYS_AFTER_RECEIPT = 1_096;
/** Stay dates one update may cover. */
export const MAX_RANGE_NIGHTS = 731;
/** Merged property ids one event may name. */
export const MAX_MERGED_IDS = 100;

/** The time bounds of `occurredAt`, relative to receipt: per source at the edge. */
export interface ApplicabilityLimits {
  /** How far after receipt `occurredAt` may lie (the source's clock tolerance). */
  readonly toleranceSeconds: number;
  /** How far before receipt `occurredAt` may lie (the dedupe window). */
  readonly dedupeWindowSeconds: number;
  /** Extra days either side of the stay-date window. 0 at the edge. */
  readonly staySlackDays?: number;
}

/**
 * The widest limits any valid configuration allows (tolerance up to a day, dedupe window up to 365 days), plus
 * a day of slack on stay dates: apply checks against these, so that an event the edge accepted still passes when
 * a retry's receipt time differs from the first delivery's, or the configuration was narrowed meanwhile.
 */
export const WIDEST_LIMITS: ApplicabilityLimits = {
  toleranceSeconds: 86_400,
  dedupeWindowSeconds: 365 * 86_400,
  staySlackDays: 1,
};

// In a `u` regular expression a surrogate pair is one code point, so only a lone surrogate is in category Cs.
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

/** True when `text` can be encoded as UTF-8: it holds no lone UTF-16 surrogate. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

const NOT_QUEUEABLE = /[\ufffe\uffff]/;

/** Why `text` cannot travel in a queued event at all, or undefined when it can. */
function encodingProblem(text: string): string | undefined {
  if (!isWellFormed(text)) return 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)';
  if (NOT_QUEUEABLE.test(text)) return 'must not contain the noncharacters U+FFFE or U+FFFF';
  return undefined;
}

const LONE = 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)';
const CONTROL = 'must not contain control characters';
const NONCHARACTER = 'must not contain the noncharacters U+FFFE or U+FFFF';

/**
 * Why `text` cannot serve as an id, or undefined when it can. One pass over the UTF-16 units, counting UTF-8
 * bytes as it goes: ids are checked on every delivery, several per event.
 */
export function idProblem(text: string): string | undefined {
  const length = text.length;
  if (length === 0) return 'must not be empty';
  let bytes = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      if (code < 0x20 || code === 0x7f) return CONTROL;
      bytes += 1;
    } else if (code < 0x800) {
      if (code <= 0x9f) return CONTROL;
      bytes += 2;
    } else if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return LONE;
      bytes += 4;
      i++;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return LONE;
    } else {
      if (code >= 0xfffe) return NONCHARACTER;
      bytes += 3;
    }
  }
  if (bytes > ID_MAX_BYTES) return `must be at most ${ID_MAX_BYTES} bytes of UTF-8; received ${bytes}`;
  return undefined;
}

// A predicate (refine) rather than a check function: zod's generated parser inlines predicates, while a check
// function costs an issue list per value. The message is worked out only for a refused value.
/** An id as every key it becomes part of can hold it (see idProblem). */
export const ApplicableIdSchema = z.string().check(
  z.refine((text: string) => idProblem(text) === undefined, {
    error: (issue) => idProblem(String(issue.input)) ?? 'must be a valid id',
  }),
);

/** Free text: well-formed Unicode that a queued event can carry, 1 to `max` UTF-16 units. */
export function applicableText(max: number = TEXT_MAX_LENGTH) {
  return z.string().check(
    z.minLength(1),
    z.maxLength(max),
    z.refine((text: string) => encodingProblem(text) === undefined, {
      error: (issue) => encodingProblem(String(issue.input)) ?? 'must be well-formed text',
    }),
  );
}

const CalendarDateSchema = z
  .string()
  .check(z.refine(isCalendarDate, { message: 'must be a calendar date YYYY-MM-DD' }));

/** Exactly what Date.prototype.toISOString writes: versions compare `occurredAt` as text. */
const FIXED_WIDTH_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const InstantSchema = z.string().check(
  z.refine((text) => FIXED_WIDTH_INSTANT.test(text) && isIsoDateTime(text), {
    message: 'must be a UTC instant in the form 2026-06-01T12:00:00.000Z',
  }),
);

export const CURRENCY_CODE = /^[A-Z]{3}$/;

function moneySchema(minimum: 0 | 1) {
  return z.object({
    amountMinor: z.number().check(z.int(), z.minimum(minimum), z.maximum(Number.MAX_SAFE_INTEGER)),
    currency: z.string().check(z.regex(CURRENCY_CODE, 'must be an ISO 4217 currency code such as EUR')),
  });
}

const Id = ApplicableIdSchema;
const Text = applicableText();

const RestrictionsSchema = z.object({
  minLengthOfStay: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(3_660))),
  maxLengthOfStay: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(3_660))),
  closedToArrival: z.optional(z.boolean()),
  closedToDeparture: z.optional(z.boolean()),
  stopSell: z.optional(z.boolean()),
});

const AriUpdateSchema = z.object({
  channelId: z.optional(Id),
  propertyExternalId: z.optional(Id),
  // Required: room nights are stored per room type.
  roomTypeExternalId: Id,
  ratePlanExternalId: Id,
  dateFrom: CalendarDateSchema,
  dateTo: CalendarDateSchema,
  rate: z.optional(moneySchema(1)),
  availability: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER))),
  restrictions: z.optional(RestrictionsSchema),
});

const ReservationChangeSchema = z.object({
  reservationExternalId: Id,
  propertyExternalId: z.optional(Id),
  status: z.enum(RESERVATION_STATUSES),
  arrivalDate: z.optional(CalendarDateSchema),
  departureDate: z.optional(CalendarDateSchema),
  roomTypeExternalId: z.optional(Id),
  roomNumber: z.optional(Text),
  channel: z.optional(Text),
  guestExternalId: z.optional(Id),
  total: z.optional(moneySchema(0)),
});

const GuestChangeSchema = z.object({
  guestExternalId: Id,
  change: z.enum(['created', 'updated', 'deleted']),
  propertyExternalId: z.optional(Id),
  reservationExternalId: z.optional(Id),
});

const MappingChangeSchema = z.object({
  change: z.enum(['error_resolved', 'duplicate_resolved', 'completed']),
  partnerHotelId: z.optional(Id),
  partnerInventoryId: z.optional(Id),
  // Becomes an internal property id, part of every room-night key of that property.
  referenceHotelId: z.optional(Id),
  reportId: z.optional(Id),
  resolution: z.optional(Text),
});

const PropertyChangeSchema = z.object({
  change: z.enum(['updated', 'merged']),
  propertyExternalId: Id,
  mergedExternalIds: z.optional(z.array(Id).check(z.maxLength(MAX_MERGED_IDS))),
});

const ServiceNoticeSchema = z.object({
  notice: z.enum(['token_expired', 'access_revoked']),
  detail: z.optional(Text),
});

const envelope = {
  schemaVersion: z.literal(CANONICAL_SCHEMA_VERSION),
  eventId: Id,
  sourceId: Id,
  kind: z.enum(SOURCE_KINDS),
  providerEventType: applicableText(512),
  idempotencyKey: applicableText(512),
  deliveryId: z.optional(applicableText(512)),
  occurredAt: InstantSchema,
  receivedAt: InstantSchema,
};

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
 * The envelope alone, with any object as `data`: what tells a message the edge wrote (which may still break the
 * contract) from one that is not a canonical event at all.
 */
export const CanonicalEnvelopeSchema = z.object({
  ...envelope,
  type: z.enum(CANONICAL_TYPES),
  data: z.record(z.string(), z.unknown()),
});

/** A canonical event's shape and absolute rules; the rules relative to receipt are in applicabilityProblems. */
export const ApplicableEventSchema = z.discriminatedUnion('type', [
  z.object({ ...envelope, type: z.literal('ari.update'), data: AriUpdateSchema }),
  z.object({ ...envelope, type: z.literal('reservation.change'), data: ReservationChangeSchema }),
  z.object({ ...envelope, type: z.literal('guest.change'), data: GuestChangeSchema }),
  z.object({ ...envelope, type: z.literal('mapping.change'), data: MappingChangeSchema }),
  z.object({ ...envelope, type: z.literal('property.change'), data: PropertyChangeSchema }),
  z.object({ ...envelope, type: z.literal('service.notice'), data: ServiceNoticeSchema }),
]);

// The edge checks every event: a generated parser (z.compile, falling back to the interpreted one for invalid
// input, so issues are unchanged) keeps that cheap. Generated on first use rather than at cold start.
let compiledEventSchema: typeof ApplicableEventSchema | undefined;

export type ApplicabilityResult =
  | { readonly ok: true; readonly event: CanonicalEvent }
  | { readonly ok: false; readonly problems: readonly FieldProblem[] };

/**
 * Checks an event against the whole contract. `receivedAt` anchors the relative rules: the edge passes the
 * event as it will be queued, apply the event it received, with WIDEST_LIMITS.
 */
export function checkApplicable(candidate: unknown, limits: ApplicabilityLimits): ApplicabilityResult {
  compiledEventSchema ??= z.compile(ApplicableEventSchema);
  const result = z.safeParse(compiledEventSchema, candidate);
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map((issue) => ({
        path: formatPath(issue.path),
        message: issue.message,
      })),
    };
  }
  const event = result.data as unknown as CanonicalEvent;
  const problems = receiptProblems(event, limits);
  return problems.length === 0 ? { ok: true, event } : { ok: false, problems };
}

/**
 * The rules that depend on when the event was received, and the rules across fields, for an event whose shape
 * is already known to be right. The edge checks these alone: each kind's schema is built from this module's id,
 * text, date and money pieces, so a normalised event has the contract's shape already (the fuzz suite holds
 * every kind to that), and parsing it a second time would double the edge's validation work.
 */
export function receiptProblems(event: CanonicalEvent, limits: ApplicabilityLimits): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const receivedMs = Date.parse(event.receivedAt);
  const occurredMs = Date.parse(event.occurredAt);
  const ahead = (occurredMs - receivedMs) / 1000;
  if (ahead > limits.toleranceSeconds) {
    problems.push({
      path: 'occurredAt',
      message:
        `is ${Math.round(ahead)} s after the event was received (${event.receivedAt}); at most ` +
        `${limits.toleranceSeconds} s is accepted, since a future time would outrank every later update. ` +
        'Check the sender clock.',
    });
  } else if (-ahead > limits.dedupeWindowSeconds) {
    problems.push({
      path: 'occurredAt',
      message:
        `is ${Math.round(-ahead / 86_400)} days before the event was received (${event.receivedAt}); at most ` +
        `${Math.round(limits.dedupeWindowSeconds / 86_400)} days (the dedupe window) is accepted.`,
    });
  }
  const window = stayWindow(event.receivedAt, limits.staySlackDays ?? 0);
  const payload = event as CanonicalPayload;
  switch (payload.type) {
    case 'ari.update':
      checkStayDate(problems, window, 'data.dateFrom', payload.data.dateFrom);
      checkStayDate(problems, window, 'data.dateTo', payload.data.dateTo);
      ariProblems(problems, payload.data);
      break;
    case 'reservation.change': {
      const { arrivalDate, departureDate } = payload.data;
      checkStayDate(problems, window, 'data.arrivalDate', arrivalDate);
      checkStayDate(problems, window, 'data.departureDate', departureDate);
      if (arrivalDate !== undefined && departureDate !== undefined && departureDate <= arrivalDate) {
        problems.push({
          path: 'data.departureDate',
          message: `must be after arrivalDate (${arrivalDate}); received ${departureDate}`,
        });
      }
      break;
    }
    default:
      break;
  }
  return problems;
}

function checkStayDate(
  problems: FieldProblem[],
  window: { first: string; last: string },
  path: string,
  date: string | undefined,
): void {
  if (date !== undefined && (date < window.first || date > window.last)) {
    problems.push({
      path,
      message: `must lie between ${window.first} and ${window.last} (one year before to three years after the day received); received ${date}`,
    });
  }
}

function ariProblems(problems: FieldProblem[], data: AriUpdate): void {
  if (data.rate === undefined && data.availability === undefined && data.restrictions === undefined) {
    problems.push({ path: 'data', message: 'must carry at least one of rate, availability or restrictions' });
  }
  const nights = nightsInclusive(data.dateFrom, data.dateTo);
  if (nights < 1) {
    problems.push({
      path: 'data.dateTo',
      message: `must not be before dateFrom (${data.dateFrom}); received ${data.dateTo}`,
    });
  } else if (nights > MAX_RANGE_NIGHTS) {
    problems.push({
      path: 'data.dateTo',
      message: `the range covers ${nights} dates; at most ${MAX_RANGE_NIGHTS} are accepted in one update`,
    });
  }
  const restrictions = data.restrictions;
  if (restrictions !== undefined) {
    if (Object.keys(restrictions).length === 0) {
      problems.push({
        path: 'data.restrictions',
        message: 'must set at least one restriction, or be left out',
      });
    }
    const { minLengthOfStay: min, maxLengthOfStay: max } = restrictions;
    if (min !== undefined && max !== undefined && min > max) {
      problems.push({
        path: 'data.restrictions.maxLengthOfStay',
        message: `must not be less than minLengthOfStay (${min}); received ${max}`,
      });
    }
  }
}

// Every event of a day shares its window: the last one computed is kept.
let lastWindow: { key: string; window: { first: string; last: string } } | undefined;

/** The first and last stay date accepted for an event received at `receivedAt`. */
export function stayWindow(receivedAt: string, slackDays = 0): { first: string; last: string } {
  const day = receivedAt.slice(0, 10);
  const key = `${day}/${slackDays}`;
  if (lastWindow?.key !== key) {
    lastWindow = {
      key,
      window: {
        first: addDays(day, -STAY_DAYS_BEFORE_RECEIPT - slackDays),
        last: addDays(day, STAY_DAYS_AFTER_RECEIPT + slackDays),
      },
    };
  }
  return lastWindow.window;
}

/**
 * Provider text that is informational only (a notice's detail) made to fit the contract rather than refused:
 * lone surrogates become U+FFFD and it is cut to `max` UTF-16 units without splitting a surrogate pair.
 */
export function toApplicableText(text: string, max: number = TEXT_MAX_LENGTH): string {
  let fitted = text.replace(LONE_SURROGATES, '\ufffd');
  if (fitted.length > max) {
    const end = /[\ud800-\udbff]/.test(fitted.charAt(max - 1)) ? max - 1 : max;
    fitted = fitted.slice(0, end);
  }
  return fitted;
}
