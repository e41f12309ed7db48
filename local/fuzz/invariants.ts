/**
 * What the edge promises a hostile sender, checked the same way in the in-process suite and over HTTP:
 *
 * (a) no 5xx but 503 `ledger_unavailable`, `enqueue_failed` or `secrets_unavailable`, with Retry-After; never 500;
 * (b) every accepted event ends applied, recorded, parked or rejected for a domain reason: apply never throws
 *     on it, and never finds it `not_applicable` (or not a canonical event at all), which only a contract bug allows;
 * (c) every other answer is a 4xx whose JSON body names the problem (`error` and `message`).
 */

export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ledger_unavailable',
  'enqueue_failed',
  'secrets_unavailable',
]);

/** Rejections apply records for events that break the contract: an edge that let them through has a bug. */
const CONTRACT_REJECTIONS = ['not_applicable', 'malformed_message'] as const;

export interface EdgeAnswer {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export interface AnswerVerdict {
  /** What the answer was, for tallies: `200 accepted/enqueued`, `422 not_applicable`, … */
  readonly outcome: string;
  readonly breaches: readonly string[];
  /** Set when the edge accepted a new event. */
  readonly accepted?: { readonly eventId: string; readonly action: 'enqueued' | 'recorded' };
}

function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/** Judges one answer of the edge against (a) and (c), and tells an accepted event apart for (b). */
export function judgeAnswer(answer: EdgeAnswer): AnswerVerdict {
  const json = parseObject(answer.body);
  const { status } = answer;
  if (status === 200) {
    const kind = json?.status;
    if (kind === 'accepted') {
      const { eventId, action } = json ?? {};
      if (typeof eventId !== 'string' || !/^evt_[0-9a-f]{32}$/.test(eventId)) {
        return { outcome: '200 accepted', breaches: ['200 accepted without an evt_… eventId'] };
      }
      if (action !== 'enqueued' && action !== 'recorded') {
        return { outcome: '200 accepted', breaches: [`200 accepted with action ${JSON.stringify(action)}`] };
      }
      return { outcome: `200 accepted/${action}`, breaches: [], accepted: { eventId, action } };
    }
    if (kind === 'duplicate' || kind === 'verified') return { outcome: `200 ${kind}`, breaches: [] };
    return { outcome: '200 ?', breaches: [`(c) 200 with an unexpected body ${answer.body.slice(0, 200)}`] };
  }
  const code = nonEmptyString(json?.error) ? json.error : undefined;
  const outcome = `${status} ${code ?? '(no error code)'}`;
  const breaches: string[] = [];
  if (status >= 500) {
    if (status !== 503 || code === undefined || !RETRYABLE_CODES.has(code)) {
      breaches.push(
        `(a) ${outcome}: the only 5xx allowed is 503 ${[...RETRYABLE_CODES].join(', ')}, ` +
          `message ${JSON.stringify(json?.message ?? answer.body.slice(0, 200))}`,
      );
    } else if (!answer.headers['retry-after']) {
      breaches.push(`(a) ${outcome} without Retry-After`);
    }
  } else if (status < 400) {
    breaches.push(`(c) ${outcome}: a refusal must be a 4xx`);
  }
  if (code === undefined || !nonEmptyString(json?.message)) {
    breaches.push(
      `(c) ${outcome}: the body must be JSON naming the problem (error, message); got ${JSON.stringify(answer.body.slice(0, 200))}`,
    );
  }
  return { outcome, breaches };
}

/** A delivery ledger entry as apply left it (GET /deliveries/{eventId}, or the in-memory apply ledger). */
export interface Settlement {
  readonly status: string;
  readonly reason?: string;
  /** Why the latest apply attempt failed, when one did. */
  readonly lastError?: string;
}

export const FINAL_STATUSES: ReadonlySet<string> = new Set(['applied', 'recorded', 'parked', 'rejected']);

/** Judges where an accepted event ended against (b); `final` is false while apply has not settled it. */
export function judgeSettlement(settlement: Settlement): { final: boolean; breaches: string[] } {
  const breaches: string[] = [];
  if (settlement.lastError) breaches.push(`(b) apply threw on the event: ${settlement.lastError}`);
  if (settlement.status === 'rejected') {
    const reason = settlement.reason ?? '';
    const contract = CONTRACT_REJECTIONS.find((code) => reason.startsWith(code));
    if (contract) breaches.push(`(b) apply rejected an event the edge accepted as ${reason}`);
  }
  return { final: FINAL_STATUSES.has(settlement.status), breaches };
}

// SQS carries only the characters XML 1.0 allows (#x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF);
// a message holding any other is refused on every send, so the edge would answer 503 to every retry.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters SQS accepts are exactly the point.
const QUEUE_REFUSED = /[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/** Why SQS would refuse a message with this body, or undefined when it carries it. */
export function queueRefusal(body: string): string | undefined {
  const match = QUEUE_REFUSED.exec(body);
  if (!match) return undefined;
  const code = (match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return `it holds U+${code} at character ${match.index}, which SQS refuses in a message`;
}
