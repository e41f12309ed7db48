import type { RateLimit } from '../config/reconcile-options';
import type { Clock } from '../shared/clock';

/**
 * Client-side rate limiting for provider polling. Providers publish quotas (requests per second, sometimes
 * per property per minute) and answer 429 once they are exceeded; pacing ourselves keeps a reconciliation
 * run inside the quota instead of spending its time budget on throttled round trips.
 *
 * Nothing here sleeps or starts a timer: a bucket only says how long the caller must wait, and the caller
 * sleeps through its injected `sleep`. That keeps the limiter exact under a fake clock in tests.
 *
 * The arithmetic is kept in pure functions over a bucket's state, so that a bucket held in this process
 * (TokenBucket) and one held in a table and shared by every worker (DynamoDbRateGate) pace requests exactly
 * alike.
 */

export interface TokenBucketOptions {
  /** Most tokens the bucket holds: how many requests may go out back to back after an idle spell. */
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** A bucket's balance as of an instant. */
export interface BucketState {
  // Fractional and possibly negative: a negative balance is time already promised to earlier callers.
  readonly tokens: number;
  readonly refilledAtMs: number;
}

export function checkBucketOptions(options: TokenBucketOptions): void {
  if (!(options.capacity >= 1) || !Number.isFinite(options.capacity)) {
    throw new RangeError(`capacity must be a finite number of at least 1, received ${options.capacity}`);
  }
  if (!(options.refillPerSecond > 0) || !Number.isFinite(options.refillPerSecond)) {
    throw new RangeError(
      `refillPerSecond must be a finite number above 0, received ${options.refillPerSecond}`,
    );
  }
}

/** A bucket nobody has taken from yet: full. */
export function fullBucket(options: TokenBucketOptions, nowMs: number): BucketState {
  return { tokens: options.capacity, refilledAtMs: nowMs };
}

/** The state after reserving `n` tokens at `nowMs`, and the milliseconds to wait before using them. */
export function takeTokens(
  state: BucketState,
  options: TokenBucketOptions,
  nowMs: number,
  n = 1,
): { readonly state: BucketState; readonly waitMs: number } {
  checkTake(options, n);
  const refilled = refill(state, options, nowMs);
  const tokens = refilled.tokens - n;
  return {
    state: { tokens, refilledAtMs: refilled.refilledAtMs },
    waitMs: tokens >= 0 ? 0 : msToCover(-tokens, options),
  };
}

/** How long taking `n` tokens at `nowMs` would ask the caller to wait. */
export function waitForTokens(state: BucketState, options: TokenBucketOptions, nowMs: number, n = 1): number {
  checkTake(options, n);
  const deficit = n - refill(state, options, nowMs).tokens;
  return deficit <= 0 ? 0 : msToCover(deficit, options);
}

function checkTake(options: TokenBucketOptions, n: number): void {
  // More than the capacity could never be held at once: a caller asking for it has a configuration bug.
  if (!(n > 0) || n > options.capacity) {
    throw new RangeError(`can take between 1 and ${options.capacity} tokens at once, asked for ${n}`);
  }
}

function refill(state: BucketState, options: TokenBucketOptions, nowMs: number): BucketState {
  const elapsed = nowMs - state.refilledAtMs;
  // A clock that steps backwards (NTP correction) must not mint tokens twice for the same interval.
  if (elapsed <= 0) return state;
  const tokens = Math.min(options.capacity, state.tokens + elapsed * refillPerMs(options));
  return { tokens, refilledAtMs: nowMs };
}

// Rounded up to whole milliseconds: a caller that sleeps exactly this long never goes early.
function msToCover(deficit: number, options: TokenBucketOptions): number {
  return Math.ceil(deficit / refillPerMs(options));
}

function refillPerMs(options: TokenBucketOptions): number {
  return options.refillPerSecond / 1000;
}

export class TokenBucket {
  readonly #options: TokenBucketOptions;
  readonly #clock: Clock;
  #state: BucketState;

  constructor(options: TokenBucketOptions, clock: Clock) {
    checkBucketOptions(options);
    this.#options = { capacity: options.capacity, refillPerSecond: options.refillPerSecond };
    this.#clock = clock;
    this.#state = fullBucket(options, clock.now().getTime());
  }

  /**
   * Reserves `n` tokens and returns how many milliseconds the caller must wait before using them (0 when
   * they are available now). The reservation is made even when a wait is due, so each request calls `take`
   * exactly once and concurrent callers queue up behind each other instead of racing for the same refill.
   */
  take(n = 1): number {
    const { state, waitMs } = takeTokens(this.#state, this.#options, this.#clock.now().getTime(), n);
    this.#state = state;
    return waitMs;
  }

  /** How long `take(n)` would ask the caller to wait, without reserving anything. */
  waitTime(n = 1): number {
    return waitForTokens(this.#state, this.#options, this.#clock.now().getTime(), n);
  }
}

/** One of the buckets a request is charged to, named so that it can be kept in a map or a table. */
export interface RateBucket {
  /** `[source]` or `[source, property]` as JSON, which keeps the pair unambiguous whatever the ids hold. */
  readonly key: string;
  readonly options: TokenBucketOptions;
}

/**
 * The buckets a request to `source` (about `property`) is charged to: the source's and, when the provider also
 * limits per property, the (source, property) pair's.
 */
export function rateBuckets(limits: RateLimit, source: string, property?: string): RateBucket[] {
  const sourceBucket = {
    key: JSON.stringify([source]),
    options: { capacity: limits.burst, refillPerSecond: limits.requestsPerSecond },
  };
  const perMinute = limits.perPropertyPerMinute;
  if (property === undefined || perMinute === undefined) return [sourceBucket];
  // Capacity 1, so requests are spaced evenly: a bucket of capacity C admits C + quota requests in some
  // minute, which a provider counting over a sliding minute would answer with 429s.
  const propertyBucket = {
    key: JSON.stringify([source, property]),
    options: { capacity: 1, refillPerSecond: perMinute / 60 },
  };
  return [sourceBucket, propertyBucket];
}

/**
 * One bucket per source and, when the provider also limits per property, one per (source, property). A
 * request must be admitted by both, so it waits for whichever is further behind.
 */
export class RateLimiter {
  readonly #limits: RateLimit;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(limits: RateLimit, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
  }

  /** Reserves one request and returns the milliseconds to wait before sending it. */
  acquire(source: string, property?: string): number {
    let wait = 0;
    for (const bucket of this.#bucketsFor(source, property)) wait = Math.max(wait, bucket.take(1));
    return wait;
  }

  /** The wait `acquire` would return, without reserving: lets a caller with a deadline decide first. */
  waitTime(source: string, property?: string): number {
    let wait = 0;
    for (const bucket of this.#bucketsFor(source, property)) wait = Math.max(wait, bucket.waitTime(1));
    return wait;
  }

  #bucketsFor(source: string, property: string | undefined): TokenBucket[] {
    return rateBuckets(this.#limits, source, property).map(({ key, options }) => {
      let bucket = this.#buckets.get(key);
      if (bucket === undefined) {
        bucket = new TokenBucket(options, this.#clock);
        this.#buckets.set(key, bucket);
      }
      return bucket;
    });
  }
}

/**
 * Where a polling client reserves its requests. Asynchronous, so that the buckets may be kept outside the
 * process: a provider's quota is one for every worker polling it, and workers in separate Lambda containers
 * must draw from the same buckets (DynamoDbRateGate) for their requests together to stay inside it.
 */
export interface RateGate {
  /**
   * Reserves one request to `sourceId` (charged to `propertyId`'s quota as well, when the provider has one)
   * and answers the milliseconds to wait before sending it. The reservation stands whether or not the request
   * is sent: later callers queue behind it.
   */
  reserve(sourceId: string, propertyId?: string): Promise<number>;
  /** The wait `reserve` would answer now, without reserving: lets a caller with a deadline stop first. */
  waitTime(sourceId: string, propertyId?: string): Promise<number>;
}

/** Buckets in this process only: right for one worker per provider, and for tests and benchmarks. */
export class InProcessRateGate implements RateGate {
  readonly #limiter: RateLimiter;

  constructor(limits: RateLimit, clock: Clock) {
    this.#limiter = new RateLimiter(limits, clock);
  }

  async reserve(sourceId: string, propertyId?: string): Promise<number> {
    return this.#limiter.acquire(sourceId, propertyId);
  }

  async waitTime(sourceId: string, propertyId?: string): Promise<number> {
    return this.#limiter.waitTime(sourceId, propertyId);
  }
}
