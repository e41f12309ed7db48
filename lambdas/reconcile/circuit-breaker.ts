import type { CircuitBreakerOptions } from '../config/reconcile-options';
import type { Clock } from '../shared/clock';
import { ProviderFailureError } from '../shared/errors';

/**
 * A circuit breaker per polled source. When a provider keeps failing, retrying every scheduled run only adds
 * load to a struggling service and burns our time budget; after `failureThreshold` consecutive failures the
 * breaker opens and calls fail fast, without a request, until `coolDownMs` has passed. Then exactly one probe
 * is let through (half-open): its success closes the breaker, its failure opens it for another cool-down.
 *
 * Outcomes that say nothing about the provider's health (a 429 asking us to slow down, a rejected credential)
 * are reported as neutral: they neither count as failures nor reset the count.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitStateChange {
  readonly source: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly at: Date;
  /** Consecutive failures when the change happened. */
  readonly failures: number;
}

export type CircuitListener = (change: CircuitStateChange) => void;

/** The provider's breaker is open; no request was made. Retry after `retryAt`. */
export class CircuitOpenError extends ProviderFailureError {
  readonly source: string;
  readonly retryAt: Date;

  constructor(source: string, retryAt: Date, failures: number) {
    super(
      'circuit_open',
      `Polling of source ${JSON.stringify(source)} is paused after ${failures} consecutive failures; no request ` +
        `was made. A probe is allowed from ${retryAt.toISOString()}; check the provider's status if it persists.`,
    );
    this.source = source;
    this.retryAt = retryAt;
  }
}

/**
 * What a breaker must remember between runs that may not share a process (a scheduled Lambda is often cold):
 * without it every run would start closed and spend `failureThreshold` requests on a provider known to be down.
 */
export interface CircuitSnapshot {
  /** A half-open breaker is saved as open: its probe belongs to the run that made it. */
  readonly state: 'closed' | 'open';
  readonly failures: number;
  /** When it last opened, ISO-8601; present when open. */
  readonly openedAt?: string;
}

export class CircuitBreaker {
  readonly source: string;
  readonly #options: CircuitBreakerOptions;
  readonly #clock: Clock;
  readonly #listeners = new Set<CircuitListener>();
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAtMs = 0;
  #probeInFlight = false;

  constructor(source: string, options: CircuitBreakerOptions, clock: Clock) {
    this.source = source;
    this.#options = options;
    this.#clock = clock;
  }

  /** The current state; an open breaker whose cool-down has passed reports (and becomes) half-open. */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#clock.now().getTime() >= this.#retryAtMs()) {
      this.#transition('half-open');
    }
    return this.#state;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** Registers a listener for state changes (metrics, logs); returns a function that removes it. */
  onStateChange(listener: CircuitListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Throws CircuitOpenError when a request would be refused, without claiming the half-open probe. */
  assertNotOpen(): void {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.#probeInFlight)) throw this.#openError();
  }

  /**
   * Call immediately before a request: throws CircuitOpenError when it must not be made, and in the half-open
   * state claims the single probe, so a second caller is refused until the probe's outcome is recorded.
   */
  admit(): void {
    this.assertNotOpen();
    if (this.#state === 'half-open') this.#probeInFlight = true;
  }

  recordSuccess(): void {
    this.#probeInFlight = false;
    this.#failures = 0;
    if (this.#state !== 'closed') this.#transition('closed');
  }

  recordFailure(): void {
    this.#probeInFlight = false;
    this.#failures += 1;
    if (
      this.#state === 'half-open' ||
      (this.#state === 'closed' && this.#failures >= this.#options.failureThreshold)
    ) {
      this.#openedAtMs = this.#clock.now().getTime();
      this.#transition('open');
    }
  }

  snapshot(): CircuitSnapshot {
    if (this.#state === 'closed') return { state: 'closed', failures: this.#failures };
    return { state: 'open', failures: this.#failures, openedAt: new Date(this.#openedAtMs).toISOString() };
  }

  /** Takes up where a saved breaker left off; a snapshot that cannot be read leaves the breaker closed. */
  restore(snapshot: CircuitSnapshot): void {
    this.#probeInFlight = false;
    this.#failures =
      Number.isSafeInteger(snapshot.failures) && snapshot.failures >= 0 ? snapshot.failures : 0;
    const openedAtMs = snapshot.openedAt === undefined ? Number.NaN : Date.parse(snapshot.openedAt);
    if (snapshot.state === 'open' && !Number.isNaN(openedAtMs)) {
      this.#openedAtMs = openedAtMs;
      if (this.#state !== 'open') this.#transition('open');
    } else if (this.#state !== 'closed') {
      this.#transition('closed');
    }
  }

  /** The request told nothing about the provider's health: release the probe, keep the count. */
  recordNeutral(): void {
    this.#probeInFlight = false;
  }

  #retryAtMs(): number {
    return this.#openedAtMs + this.#options.coolDownMs;
  }

  #openError(): CircuitOpenError {
    const retryAt = this.#state === 'open' ? this.#retryAtMs() : this.#clock.now().getTime();
    return new CircuitOpenError(this.source, new Date(retryAt), this.#failures);
  }

  #transition(to: CircuitState): void {
    const from = this.#state;
    this.#state = to;
    const change: CircuitStateChange = {
      source: this.source,
      from,
      to,
      at: this.#clock.now(),
      failures: this.#failures,
    };
    for (const listener of this.#listeners) {
      // A failing metrics sink must not change the breaker's behaviour or the caller's outcome.
      try {
        listener(change);
      } catch {}
    }
  }
}
