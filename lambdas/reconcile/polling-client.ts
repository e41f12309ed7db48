import * as z from 'zod/mini';
import { AmountSchema, CurrencySchema, ExternalIdSchema, positiveMinorUnits } from '../adapters/rate-fields';
import type { PollingOptions } from '../config/reconcile-options';
import type { IsoDate, Restrictions } from '../domain/canonical';
import { IsoDateSchema, IsoInstantSchema } from '../domain/dates';
import type { Money } from '../domain/money';
import type { Clock } from '../shared/clock';
import { type FieldProblem, InvalidRequestError, ProviderFailureError } from '../shared/errors';
import { formatPath } from '../shared/problems';
import { parseStrictJson } from '../shared/strict-json';
import { fullJitterDelayMs, retryAfterMs } from './backoff';
import { CircuitBreaker } from './circuit-breaker';
import { InProcessRateGate, type RateGate } from './rate-limit';

/**
 * Pulls a provider's authoritative inventory (`GET <baseUrl>/inventory?limit=&updated_after=&cursor=` with a
 * bearer token, answering `{ results, next_cursor }`) for reconciliation. Every effect is injected (fetch,
 * clock, sleep, random, token) so that the pacing, retries and time budget are exact and testable.
 *
 * A run has a time budget (`deadline`): the client stops before a request that could not finish in time and
 * reports the cursor to resume from, so the next scheduled run continues where this one stopped and no page
 * is skipped.
 */

// ---------------------------------------------------------------------------------------------- options

// ------------------------------------------------------------------------------------------------ ports

/** The part of a fetch Response the client reads; the global `fetch` satisfies it. */
export interface HttpResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface HttpRequestInit {
  readonly method: 'GET';
  readonly headers: Record<string, string>;
  readonly signal: AbortSignal;
}

export type FetchLike = (url: string, init: HttpRequestInit) => Promise<HttpResponseLike>;

export interface PollingDeps {
  /** Names the source in the rate gate, the breaker and error messages. */
  readonly sourceId: string;
  readonly fetch: FetchLike;
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  /** A value in [0, 1), like Math.random. */
  readonly random: () => number;
  /** The bearer token: read from Secrets Manager in AWS (cache it there), a plain value locally. */
  readonly token: () => Promise<string>;
  /**
   * Where requests are reserved; it applies its own limits, not `rateLimit` of the options. Pass a shared one
   * (DynamoDbRateGate) when several workers poll the same provider. @default an InProcessRateGate
   */
  readonly rateGate?: RateGate;
  /** Share one breaker between clients of the same source, e.g. across warm invocations. */
  readonly breaker?: CircuitBreaker;
}

// ---------------------------------------------------------------------------------------------- records

/**
 * One room night as the provider reports it, with external ids still to be mapped: resolving them through the
 * mapping table gives the keyed `PolledNight` of ./ports that drift detection compares.
 */
export interface ProviderNight {
  readonly propertyExternalId: string;
  readonly roomTypeExternalId: string;
  readonly ratePlanExternalId: string;
  readonly date: IsoDate;
  readonly rate?: Money;
  readonly availability?: number;
  readonly restrictions?: Restrictions;
  readonly updatedAt: Date;
}

const PositiveIntSchema = z.number().check(z.int(), z.minimum(1));

export const PolledInventoryRecordSchema = z.pipe(
  // Unknown fields are stripped: providers add fields without notice.
  z.object({
    property_id: ExternalIdSchema,
    room_type_code: ExternalIdSchema,
    rate_plan_code: ExternalIdSchema,
    date: IsoDateSchema,
    currency: z.optional(CurrencySchema),
    base_rate: z.optional(z.nullable(AmountSchema)),
    availability: z.optional(z.nullable(z.number().check(z.int(), z.minimum(0)))),
    restrictions: z.optional(
      z.nullable(
        z.object({
          min_length_of_stay: z.optional(PositiveIntSchema),
          max_length_of_stay: z.optional(PositiveIntSchema),
          closed_to_arrival: z.optional(z.boolean()),
          closed_to_departure: z.optional(z.boolean()),
          stop_sell: z.optional(z.boolean()),
        }),
      ),
    ),
    updated_at: IsoInstantSchema,
  }),
  z.transform((record, ctx): ProviderNight => {
    const night: { -readonly [K in keyof ProviderNight]: ProviderNight[K] } = {
      propertyExternalId: record.property_id,
      roomTypeExternalId: record.room_type_code,
      ratePlanExternalId: record.rate_plan_code,
      date: record.date,
      updatedAt: record.updated_at,
    };
    if (record.base_rate !== undefined && record.base_rate !== null) {
      if (record.currency === undefined) {
        ctx.issues.push({
          code: 'custom',
          path: ['currency'],
          message: 'is required with base_rate: the amount cannot be read without its currency',
          input: record.currency,
        });
      } else {
        const amountMinor = positiveMinorUnits(record.base_rate, record.currency);
        if (typeof amountMinor === 'string') {
          ctx.issues.push({
            code: 'custom',
            path: ['base_rate'],
            message: amountMinor,
            input: record.base_rate,
          });
        } else {
          night.rate = { amountMinor, currency: record.currency };
        }
      }
    }
    if (record.availability !== undefined && record.availability !== null)
      night.availability = record.availability;
    const restrictions = record.restrictions;
    if (restrictions !== undefined && restrictions !== null) {
      const min = restrictions.min_length_of_stay;
      const max = restrictions.max_length_of_stay;
      if (min !== undefined && max !== undefined && max < min) {
        ctx.issues.push({
          code: 'custom',
          path: ['restrictions', 'max_length_of_stay'],
          message: `must be at least min_length_of_stay (${min}), received ${max}`,
          input: max,
        });
      }
      const canonical: { -readonly [K in keyof Restrictions]: Restrictions[K] } = {};
      if (min !== undefined) canonical.minLengthOfStay = min;
      if (max !== undefined) canonical.maxLengthOfStay = max;
      if (restrictions.closed_to_arrival !== undefined)
        canonical.closedToArrival = restrictions.closed_to_arrival;
      if (restrictions.closed_to_departure !== undefined) {
        canonical.closedToDeparture = restrictions.closed_to_departure;
      }
      if (restrictions.stop_sell !== undefined) canonical.stopSell = restrictions.stop_sell;
      night.restrictions = canonical;
    }
    return ctx.issues.length > 0 ? z.NEVER : night;
  }),
);

// Only `results` must be an array; a missing or empty next_cursor means the last page, as providers differ.
const PageSchema = z.object({
  results: z.array(z.unknown()),
  next_cursor: z.optional(z.nullable(z.string())),
});

/** A record left out of a page, by its position, with the fields that were wrong (never their values). */
export interface SkippedRecord {
  readonly index: number;
  readonly problems: readonly FieldProblem[];
}

export interface PolledPage {
  readonly nights: readonly ProviderNight[];
  /** How many records of this page were malformed and left out. */
  readonly skipped: number;
  readonly skippedRecords: readonly SkippedRecord[];
  /** The cursor of the page after this one; null on the last page. */
  readonly nextCursor: string | null;
  /** HTTP requests made for this page, including throttled and retried ones. */
  readonly requests: number;
  /** 429 answers for this page. */
  readonly throttled: number;
  /** Retries after 5xx, timeouts, network errors and malformed pages. */
  readonly retries: number;
}

/** How `pages` ended: every page read, or stopped at the time budget with the cursor to resume from. */
export type PollingOutcome =
  | { readonly status: 'complete' }
  | {
      readonly status: 'deadline';
      /** Pass as `cursor` to the next run; undefined means start again from the first page. */
      readonly resumeCursor: string | undefined;
    };

export interface PagesParams {
  readonly updatedAfter: Date;
  readonly cursor?: string;
  /** Epoch milliseconds by which the last request must have finished. */
  readonly deadline: number;
  /**
   * Polls one property's inventory: sent as `property_id` and charged to that property's rate limit, for
   * providers that publish a per-property quota.
   */
  readonly propertyId?: string;
}

// ----------------------------------------------------------------------------------------------- errors

/**
 * The provider's polling API failed in a way retrying within this run will not fix (attempts exhausted, 404,
 * an unexpected status). `httpStatus` is the provider's last status when there was one.
 */
export class ProviderError extends ProviderFailureError {
  readonly httpStatus: number | undefined;

  constructor(code: string, message: string, httpStatus?: number) {
    super(code, message);
    this.httpStatus = httpStatus;
  }
}

/** The provider refused our credential (401/403). Retrying cannot help; the secret needs attention. */
export class ProviderAuthError extends ProviderFailureError {
  readonly httpStatus: number;

  constructor(message: string, httpStatus: number) {
    super('provider_auth_failed', message);
    this.httpStatus = httpStatus;
  }
}

// ----------------------------------------------------------------------------------------------- client

type Attempt =
  | { readonly kind: 'page'; readonly page: z.infer<typeof PageSchema> }
  | { readonly kind: 'throttled'; readonly retryAfterMs: number | undefined }
  | { readonly kind: 'retryable'; readonly reason: string; readonly retryAfterMs: number | undefined };

const BODY_EXCERPT_CHARS = 200;

export class PollingClient {
  readonly #options: PollingOptions;
  readonly #deps: PollingDeps;
  readonly #gate: RateGate;
  readonly breaker: CircuitBreaker;

  constructor(options: PollingOptions, deps: PollingDeps) {
    this.#options = options;
    this.#deps = deps;
    this.#gate = deps.rateGate ?? new InProcessRateGate(options.rateLimit, deps.clock);
    this.breaker = deps.breaker ?? new CircuitBreaker(deps.sourceId, options.breaker, deps.clock);
  }

  /**
   * Yields the inventory updated after `updatedAfter`, page by page, following cursors until the provider
   * reports no next page (`complete`) or the next request could not finish by the deadline (`deadline`, with
   * the cursor to resume from). Throws ProviderAuthError, CircuitOpenError or ProviderError.
   */
  async *pages(params: PagesParams): AsyncGenerator<PolledPage, PollingOutcome, undefined> {
    let cursor = params.cursor;
    for (;;) {
      const page = await this.#fetchPage(params, cursor);
      if (page === 'deadline') return { status: 'deadline', resumeCursor: cursor };
      yield page;
      if (page.nextCursor === null) return { status: 'complete' };
      cursor = page.nextCursor;
    }
  }

  async #fetchPage(params: PagesParams, cursor: string | undefined): Promise<PolledPage | 'deadline'> {
    const { clock, sleep, random } = this.#deps;
    const { backoff, maxAttempts, requestTimeoutMs } = this.#options;
    const url = this.#url(params, cursor);
    let requests = 0;
    let throttled = 0;
    let failures = 0;
    let delayMs = 0;
    let lastFailure = '';

    for (;;) {
      // Fail fast before sleeping: waiting out a backoff only to be refused would waste the budget.
      this.breaker.assertNotOpen();
      // The request must finish, not merely start, in time: the run's host (a Lambda) stops at its timeout.
      if (clock.now().getTime() + delayMs + requestTimeoutMs > params.deadline) return 'deadline';
      if (delayMs > 0) await sleep(delayMs);
      // Checked before reserving, so a run that stops here leaves its rate-limit tokens to the next caller.
      const { sourceId } = this.#deps;
      const rateWaitMs = await this.#gate.waitTime(sourceId, params.propertyId);
      if (clock.now().getTime() + rateWaitMs + requestTimeoutMs > params.deadline) return 'deadline';
      const reservedWaitMs = await this.#gate.reserve(sourceId, params.propertyId);
      // A shared gate may have admitted other workers in between: the run still stops rather than overrun. The
      // reservation is not given back, which only delays later callers a little; it never sends one early.
      if (clock.now().getTime() + reservedWaitMs + requestTimeoutMs > params.deadline) return 'deadline';
      if (reservedWaitMs > 0) await sleep(reservedWaitMs);

      this.breaker.admit();
      requests += 1;
      let attempt: Attempt;
      try {
        attempt = await this.#attempt(url, requestTimeoutMs);
      } catch (error) {
        // Terminal errors have recorded their own outcome; anything else (the token source failing) says
        // nothing about the provider, but the half-open probe this request claimed must be released.
        this.breaker.recordNeutral();
        throw error;
      }

      if (attempt.kind === 'page') {
        this.breaker.recordSuccess();
        return this.#toPage(attempt.page, { requests, throttled, retries: failures });
      }
      if (attempt.kind === 'throttled') {
        // A 429 says the provider is up and wants us slower: it neither trips the breaker nor uses an attempt,
        // so a long throttling spell is bounded by the deadline, and the page is fetched once it ends.
        this.breaker.recordNeutral();
        delayMs = attempt.retryAfterMs ?? fullJitterDelayMs(throttled, backoff, random);
        throttled += 1;
        continue;
      }
      this.breaker.recordFailure();
      lastFailure = attempt.reason;
      if (failures + 1 >= maxAttempts) {
        throw new ProviderError(
          'provider_unavailable',
          `The polling API of source ${JSON.stringify(this.#deps.sourceId)} failed ${failures + 1} times in a ` +
            `row for one page (last: ${lastFailure}). The run stopped; the next run resumes from the same ` +
            'cursor. Check the provider status, or raise maxAttempts if failures are brief.',
        );
      }
      // Honoured as a floor when a 503 carries Retry-After: the provider knows when it will be back.
      delayMs = Math.max(fullJitterDelayMs(failures, backoff, random), attempt.retryAfterMs ?? 0);
      failures += 1;
    }
  }

  #url(params: PagesParams, cursor: string | undefined): string {
    const query = new URLSearchParams({
      limit: String(this.#options.pageSize),
      updated_after: params.updatedAfter.toISOString(),
    });
    if (cursor !== undefined) query.set('cursor', cursor);
    if (params.propertyId !== undefined) query.set('property_id', params.propertyId);
    return `${this.#options.baseUrl.replace(/\/+$/, '')}/inventory?${query.toString()}`;
  }

  /** One request: a parsed page, a throttle, a retryable failure, or a thrown terminal error. */
  async #attempt(url: string, timeoutMs: number): Promise<Attempt> {
    const token = await this.#deps.token();
    const redact = (text: string) => (token === '' ? text : text.split(token).join('[redacted]'));
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let status: number;
    let body: string;
    let retryAfter: string | null;
    try {
      const response = await this.#deps.fetch(url, {
        method: 'GET',
        headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      // The body is read under the same timeout: a provider can stall mid-body as well as before the headers.
      body = await response.text();
    } catch (cause) {
      const isTimeout = timedOut || (cause instanceof Error && cause.name === 'TimeoutError');
      if (isTimeout)
        return { kind: 'retryable', reason: `no answer within ${timeoutMs} ms`, retryAfterMs: undefined };
      // The detail may come from any layer of the HTTP stack: strip the token in case one echoes it.
      const detail = redact(cause instanceof Error ? cause.message : String(cause));
      return { kind: 'retryable', reason: `network error (${detail})`, retryAfterMs: undefined };
    } finally {
      clearTimeout(timer);
    }

    const now = this.#deps.clock.now();
    const excerpt = () => redact(body.slice(0, BODY_EXCERPT_CHARS));
    const source = JSON.stringify(this.#deps.sourceId);
    if (status === 429) return { kind: 'throttled', retryAfterMs: retryAfterMs(retryAfter, now) };
    if (status === 401 || status === 403) {
      throw new ProviderAuthError(
        `The polling API of source ${source} refused the credential with HTTP ${status}. Check that the ` +
          "source's polling token secret holds a current token with inventory read access.",
        status,
      );
    }
    if (status >= 500 || status === 408) {
      return {
        kind: 'retryable',
        reason: `HTTP ${status}: ${excerpt()}`,
        retryAfterMs: retryAfterMs(retryAfter, now),
      };
    }
    if (status < 200 || status > 299) {
      // 404 and other unexpected statuses: a wrong baseUrl or an unknown cursor, which a retry will not fix.
      this.breaker.recordFailure();
      throw new ProviderError(
        status === 404 ? 'provider_not_found' : 'provider_unexpected_status',
        `The polling API of source ${source} answered HTTP ${status} for GET /inventory (${excerpt()}). ` +
          'Check the configured baseUrl; a 404 on a resumed run can also mean the saved cursor expired.',
        status,
      );
    }

    let json: unknown;
    try {
      json = parseStrictJson(body);
    } catch (error) {
      // Strict JSON's own reason (a repeated key, an imprecise number, nesting too deep) says what to report.
      const detail = error instanceof InvalidRequestError ? `: ${error.code}` : '';
      return {
        kind: 'retryable',
        reason: `HTTP ${status} with a body that is not strict JSON${detail}`,
        retryAfterMs: undefined,
      };
    }
    const parsed = z.safeParse(PageSchema, json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => formatPath(issue.path)).join(', ');
      return {
        kind: 'retryable',
        reason: `HTTP ${status} with a page that does not match { results: [...], next_cursor } (${fields})`,
        retryAfterMs: undefined,
      };
    }
    return { kind: 'page', page: parsed.data };
  }

  #toPage(
    page: z.infer<typeof PageSchema>,
    counts: { requests: number; throttled: number; retries: number },
  ): PolledPage {
    const nights: ProviderNight[] = [];
    const skippedRecords: SkippedRecord[] = [];
    page.results.forEach((record, index) => {
      const result = z.safeParse(PolledInventoryRecordSchema, record);
      if (result.success) {
        nights.push(result.data);
      } else {
        const problems = result.error.issues.map((issue) => ({
          path: formatPath(issue.path),
          message: issue.message,
        }));
        skippedRecords.push({ index, problems });
      }
    });
    const next = page.next_cursor;
    return {
      nights,
      skipped: skippedRecords.length,
      skippedRecords,
      nextCursor: next === undefined || next === null || next === '' ? null : next,
      ...counts,
    };
  }
}
