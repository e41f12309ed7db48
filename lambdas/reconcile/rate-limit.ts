import type { RateLimit } from '../config/reconcile-options';
import type { Clock } from '../shared/clock';

/**
 * Client-side rate limiting for provider polling. Providers publish quotas (requests per second, sometimes
 * per property per minute) and answer 429 once they are exceeded; pacing ourselves keeps a reconciliation
 * run inside the quota instead of spending its time budget on throttled round trips.
 *
 * Nothing here sleeps or starts a timer: a bucket only says how long the caller must wait, and the caller
 * sleeps through its injected `sleep`. That keeps the limiter exact under a fake clock in tests.
 */

export interface TokenBucketOptions {
  /** Most tokens the bucket holds: how many requests may go out back to back after an idle spell. */
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export class TokenBucket {
  readonly #capacity: number;
  readonly #refillPerMs: number;
  readonly #clock: Clock;
  // Fractional and possibly negative: a negative balance is time already promised to earlier callers.
  #tokens: number;
  #refilledAtMs: number;

  constructor(options: TokenBucketOptions, clock: Clock) {
    if (!(options.capacity >= 1) || !Number.isFinite(options.capacity)) {
      throw new RangeError(`capacity must be a finite number of at least 1, received ${options.capacity}`);
    }
    if (!(options.refillPerSecond > 0) || !Number.isFinite(options.refillPerSecond)) {
      throw new RangeError(
        `refillPerSecond must be a finite number above 0, received ${options.refillPerSecond}`,
      );
    }
    this.#capacity = options.capacity;
    this.#refillPerMs = options.refillPerSecond / 1000;
    this.#clock = clock;
    this.#tokens = options.capacity;
    this.#refilledAtMs = clock.now().getTime();
  }

  /**
   * Reserves `n` tokens and returns how many milliseconds the caller must wait before using them (0 when
   * they are available now). The reservation is made even when a wait is due, so each request calls `take`
   * exactly once and concurrent callers queue up behind each other instead of racing for the same refill.
   */
  take(n = 1): number {
    this.#check(n);
    this.#refill();
    this.#tokens -= n;
    return this.#tokens >= 0 ? 0 : this.#msToCover(-this.#tokens);
  }

  /** How long `take(n)` would ask the caller to wait, without reserving anything. */
  waitTime(n = 1): number {
    this.#check(n);
    this.#refill();
    const deficit = n - this.#tokens;
    return deficit <= 0 ? 0 : this.#msToCover(deficit);
  }

  #check(n: number): void {
    // More than the capacity could never be held at once: a caller asking for it has a configuration bug.
    if (!(n > 0) || n > this.#capacity) {
      throw new RangeError(`can take between 1 and ${this.#capacity} tokens at once, asked for ${n}`);
    }
  }

  #refill(): void {
    const nowMs = this.#clock.now().getTime();
    const elapsed = nowMs - this.#refilledAtMs;
    // A clock that steps backwards (NTP correction) must not mint tokens twice for the same interval.
    if (elapsed <= 0) return;
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#refillPerMs);
    this.#refilledAtMs = nowMs;
  }

  // Rounded up to whole milliseconds: a caller that sleeps exactly this long never goes early.
  #msToCover(deficit: number): number {
    return Math.ceil(deficit / this.#refillPerMs);
  }
}

/**
 * One bucket per source and, when the provider also limits per property, one per (source, property). A
 * request must be admitted by both, so it waits for whichever is further behind.
 */
export class RateLimiter {
  readonly #limits: RateLimit;
  readonly #clock: Clock;
  readonly #sources = new Map<string, TokenBucket>();
  readonly #properties = new Map<string, TokenBucket>();

  constructor(limits: RateLimit, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
  }

  /** Reserves one request and returns the milliseconds to wait before sending it. */
  acquire(source: string, property?: string): number {
    const buckets = this.#bucketsFor(source, property);
    let wait = 0;
    for (const bucket of buckets) wait = Math.max(wait, bucket.take(1));
    return wait;
  }

  /** The wait `acquire` would return, without reserving: lets a caller with a deadline decide first. */
  waitTime(source: string, property?: string): number {
    let wait = 0;
    for (const bucket of this.#bucketsFor(source, property)) wait = Math.max(wait, bucket.waitTime(1));
    return wait;
  }

  #bucketsFor(source: string, property: string | undefined): TokenBucket[] {
    let sourceBucket = this.#sources.get(source);
    if (sourceBucket === undefined) {
      sourceBucket = new TokenBucket(
        { capacity: this.#limits.burst, refillPerSecond: this.#limits.requestsPerSecond },
        this.#clock,
      );
      this.#sources.set(source, sourceBucket);
    }
    const perMinute = this.#limits.perPropertyPerMinute;
    if (property === undefined || perMinute === undefined) return [sourceBucket];
    // JSON keeps the pair unambiguous whatever characters the ids contain.
    const key = JSON.stringify([source, property]);
    let propertyBucket = this.#properties.get(key);
    if (propertyBucket === undefined) {
      // Capacity 1, so requests are spaced evenly: a bucket of capacity C admits C + quota requests in some
      // minute, which a provider counting over a sliding minute would answer with 429s.
      propertyBucket = new TokenBucket({ capacity: 1, refillPerSecond: perMinute / 60 }, this.#clock);
      this.#properties.set(key, propertyBucket);
    }
    return [sourceBucket, propertyBucket];
  }
}
