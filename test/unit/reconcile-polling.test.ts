import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PollingOptions } from '../../lambdas/config/reconcile-options';
import { PollingOptionsSchema } from '../../lambdas/config/reconcile-options';
import { fullJitterDelayMs, parseHttpDate, retryAfterMs } from '../../lambdas/reconcile/backoff';
import {
  CircuitBreaker,
  CircuitOpenError,
  type CircuitStateChange,
} from '../../lambdas/reconcile/circuit-breaker';
import {
  type HttpRequestInit,
  type PagesParams,
  type PolledPage,
  PollingClient,
  type PollingOutcome,
  ProviderAuthError,
  ProviderError,
} from '../../lambdas/reconcile/polling-client';
import { RateLimiter, TokenBucket } from '../../lambdas/reconcile/rate-limit';
import type { Clock } from '../../lambdas/shared/clock';
import { ProviderFailureError } from '../../lambdas/shared/errors';
import { seededRandom } from '../../local/simulator/dataset';

const START = Date.parse('2026-03-01T12:00:00.000Z');
const TOKEN = 'tok_live_7Qx9SECRETzz41';
const BASE_URL = 'https://ota.example.test/v2/';

/** A clock that only moves when the code under test sleeps, so elapsed time is exact. */
function fakeTime(startMs = START) {
  let nowMs = startMs;
  const sleeps: number[] = [];
  const clock: Clock = { now: () => new Date(nowMs) };
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    nowMs += ms;
  };
  const advance = (ms: number) => {
    nowMs += ms;
  };
  return { clock, sleep, sleeps, nowMs: () => nowMs, advance };
}

type Step =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'timeout' }
  | { kind: 'hang' }
  | { kind: 'network'; message: string };

interface Call {
  readonly url: URL;
  readonly init: HttpRequestInit;
  readonly atMs: number;
}

/** A fetch that answers from a script and records every request; the last step repeats when it runs out. */
function scriptedFetch(steps: Step[], time: { nowMs: () => number }) {
  const calls: Call[] = [];
  const fetch = async (url: string, init: HttpRequestInit) => {
    calls.push({ url: new URL(url), init, atMs: time.nowMs() });
    const step = steps[Math.min(calls.length - 1, steps.length - 1)];
    if (step === undefined) throw new Error('the script has no steps');
    if ('kind' in step) {
      if (step.kind === 'timeout') throw new DOMException('The operation timed out.', 'TimeoutError');
      if (step.kind === 'network') throw new TypeError(step.message);
      return new Promise<never>((_, reject) => {
        init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    }
    const headers = new Map(Object.entries(step.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const text = typeof step.body === 'string' ? step.body : JSON.stringify(step.body ?? {});
    return {
      status: step.status,
      headers: { get: (name: string) => headers.get(name.toLowerCase()) ?? null },
      text: async () => text,
    };
  };
  return { fetch, calls };
}

function record(n: number, overrides: Record<string, unknown> = {}) {
  return {
    property_id: 'HOTEL-1',
    room_type_code: 'DBL',
    rate_plan_code: 'BAR',
    date: `2026-04-${String(n).padStart(2, '0')}`,
    currency: 'EUR',
    base_rate: '129.99',
    availability: 4,
    updated_at: '2026-03-01T10:00:00Z',
    ...overrides,
  };
}

const page = (results: unknown[], nextCursor: string | null): Step => ({
  status: 200,
  body: { results, next_cursor: nextCursor },
});

function options(overrides: Partial<PollingOptions> = {}): PollingOptions {
  return {
    ...PollingOptionsSchema.parse({
      baseUrl: BASE_URL,
      rateLimit: { requestsPerSecond: 1000, burst: 1000 },
      backoff: { baseMs: 100, capMs: 1000 },
      requestTimeoutMs: 1000,
    }),
    ...overrides,
  };
}

function setup(steps: Step[], overrides: Partial<PollingOptions> = {}, seed = 42) {
  const time = fakeTime();
  const http = scriptedFetch(steps, time);
  const client = new PollingClient(options(overrides), {
    sourceId: 'ota-main',
    fetch: http.fetch,
    clock: time.clock,
    sleep: time.sleep,
    random: seededRandom(seed),
    token: async () => TOKEN,
  });
  return { time, http, client };
}

const FAR = START + 3_600_000;
const UPDATED_AFTER = new Date('2026-03-01T11:00:00.000Z');

async function drain(
  client: PollingClient,
  params: Partial<PagesParams> = {},
): Promise<{ pages: PolledPage[]; outcome: PollingOutcome }> {
  const pages: PolledPage[] = [];
  const iterator = client.pages({ updatedAfter: UPDATED_AFTER, deadline: FAR, ...params });
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { pages, outcome: next.value };
    pages.push(next.value);
  }
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection');
}

describe('PollingClient pagination', () => {
  it('follows cursors until next_cursor is null and normalises every record', async () => {
    const { http, client } = setup([
      page(
        [record(1), record(2, { base_rate: 89.5, restrictions: { min_length_of_stay: 2, stop_sell: true } })],
        'c1',
      ),
      page([record(3, { currency: 'JPY', base_rate: 15000, availability: 0 })], 'c2'),
      page([record(4, { base_rate: undefined, currency: undefined })], null),
    ]);
    const { pages, outcome } = await drain(client);

    expect(outcome).toEqual({ status: 'complete' });
    expect(pages.map((p) => p.nextCursor)).toEqual(['c1', 'c2', null]);
    expect(http.calls.map((c) => c.url.searchParams.get('cursor'))).toEqual([null, 'c1', 'c2']);
    for (const call of http.calls) {
      expect(`${call.url.origin}${call.url.pathname}`).toBe('https://ota.example.test/v2/inventory');
      expect(call.url.searchParams.get('limit')).toBe('200');
      expect(call.url.searchParams.get('updated_after')).toBe('2026-03-01T11:00:00.000Z');
      expect(call.init.headers.Authorization).toBe(`Bearer ${TOKEN}`);
    }
    expect(pages[0]?.nights).toEqual([
      {
        propertyExternalId: 'HOTEL-1',
        roomTypeExternalId: 'DBL',
        ratePlanExternalId: 'BAR',
        date: '2026-04-01',
        rate: { amountMinor: 12999, currency: 'EUR' },
        availability: 4,
        updatedAt: new Date('2026-03-01T10:00:00Z'),
      },
      {
        propertyExternalId: 'HOTEL-1',
        roomTypeExternalId: 'DBL',
        ratePlanExternalId: 'BAR',
        date: '2026-04-02',
        rate: { amountMinor: 8950, currency: 'EUR' },
        availability: 4,
        restrictions: { minLengthOfStay: 2, stopSell: true },
        updatedAt: new Date('2026-03-01T10:00:00Z'),
      },
    ]);
    expect(pages[1]?.nights[0]).toMatchObject({
      rate: { amountMinor: 15000, currency: 'JPY' },
      availability: 0,
    });
    expect(pages[2]?.nights[0]?.rate).toBeUndefined();
    expect(pages.map((p) => [p.requests, p.throttled, p.retries])).toEqual([
      [1, 0, 0],
      [1, 0, 0],
      [1, 0, 0],
    ]);
  });

  it('skips and counts malformed records without failing the page', async () => {
    const { client } = setup([
      page(
        [
          record(1),
          record(2, { date: '2026-02-30' }),
          record(3, { base_rate: '12,50' }),
          { ...record(4), property_id: undefined },
          record(5, { restrictions: { min_length_of_stay: 3, max_length_of_stay: 2 } }),
          'not an object',
          record(6, { updated_at: '2026-03-01 10:00:00' }),
        ],
        null,
      ),
    ]);
    const { pages } = await drain(client);
    const [only] = pages;
    expect(only?.nights.map((n) => n.date)).toEqual(['2026-04-01']);
    expect(only?.skipped).toBe(6);
    expect(only?.skippedRecords.map((s) => [s.index, s.problems.map((p) => p.path)])).toEqual([
      [1, ['date']],
      [2, ['base_rate']],
      [3, ['property_id']],
      [4, ['restrictions.max_length_of_stay']],
      [5, ['(root)']],
      [6, ['updated_at']],
    ]);
  });

  it('retries a page that is not JSON or has no results array, then reads it', async () => {
    const { client } = setup(
      [
        { status: 200, body: '<html>gateway</html>' },
        { status: 200, body: { items: [] } },
        page([record(1)], null),
      ],
      { breaker: { failureThreshold: 10, coolDownMs: 1000 } },
    );
    const { pages } = await drain(client);
    expect(pages[0]?.nights).toHaveLength(1);
    expect(pages[0]).toMatchObject({ requests: 3, retries: 2, throttled: 0 });
  });
});

describe('PollingClient throttling (429)', () => {
  it('waits exactly the Retry-After seconds, counted as throttling rather than retries', async () => {
    const { time, client } = setup([
      { status: 429, headers: { 'Retry-After': '7' } },
      page([record(1)], null),
    ]);
    const { pages } = await drain(client);
    expect(time.sleeps).toEqual([7000]);
    expect(pages[0]).toMatchObject({ requests: 2, throttled: 1, retries: 0 });
  });

  it('waits exactly until a Retry-After HTTP-date', async () => {
    const retryAt = new Date(START + 42_000).toUTCString();
    const { time, http, client } = setup([
      { status: 429, headers: { 'retry-after': retryAt } },
      page([record(1)], null),
    ]);
    await drain(client);
    expect(time.sleeps).toEqual([42_000]);
    expect(http.calls[1]?.atMs).toBe(START + 42_000);
  });

  it('loses no page in a storm of 20 consecutive 429s, and the attempt budget is untouched', async () => {
    const storm: Step[] = Array.from({ length: 20 }, () => ({
      status: 429,
      headers: { 'Retry-After': '2' },
    }));
    const { time, http, client } = setup([page([record(1)], 'c1'), ...storm, page([record(2)], null)], {
      maxAttempts: 2,
    });
    const { pages, outcome } = await drain(client);

    expect(outcome).toEqual({ status: 'complete' });
    expect(pages.flatMap((p) => p.nights.map((n) => n.date))).toEqual(['2026-04-01', '2026-04-02']);
    expect(pages[1]).toMatchObject({ requests: 21, throttled: 20, retries: 0 });
    expect(time.sleeps).toEqual(Array.from({ length: 20 }, () => 2000));
    // Every throttled request asked for the same page again.
    expect(new Set(http.calls.slice(1).map((c) => c.url.searchParams.get('cursor')))).toEqual(
      new Set(['c1']),
    );
    expect(client.breaker.state).toBe('closed');
  });

  it('backs off with full jitter when a 429 carries no usable Retry-After', async () => {
    const { time, client } = setup([
      { status: 429 },
      { status: 429, headers: { 'Retry-After': 'soon' } },
      page([record(1)], null),
    ]);
    await drain(client);
    const replay = seededRandom(42);
    expect(time.sleeps).toEqual([
      fullJitterDelayMs(0, { baseMs: 100, capMs: 1000 }, replay),
      fullJitterDelayMs(1, { baseMs: 100, capMs: 1000 }, replay),
    ]);
  });
});

describe('PollingClient retries (5xx, timeouts, network errors)', () => {
  it('retries with full-jitter delays within [0, min(cap, base·2^n)) and then returns the page', async () => {
    const backoff = { baseMs: 100, capMs: 1000 };
    const { time, client } = setup(
      [
        { status: 503 },
        { status: 500, body: 'internal' },
        { kind: 'timeout' },
        { kind: 'network', message: 'socket hang up' },
        { status: 502 },
        page([record(1)], null),
      ],
      { backoff, breaker: { failureThreshold: 10, coolDownMs: 1000 } },
      7,
    );
    const { pages } = await drain(client);

    expect(pages[0]).toMatchObject({ requests: 6, retries: 5, throttled: 0 });
    expect(time.sleeps).toHaveLength(5);
    const replay = seededRandom(7);
    time.sleeps.forEach((slept, n) => {
      const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** n);
      expect(slept).toBeGreaterThanOrEqual(0);
      expect(slept).toBeLessThan(ceiling);
      expect(slept).toBe(Math.floor(replay() * ceiling));
    });
  });

  it('aborts a request that outlives the timeout and retries it', async () => {
    const { client } = setup([{ kind: 'hang' }, page([record(1)], null)], { requestTimeoutMs: 100 });
    const { pages } = await drain(client);
    expect(pages[0]).toMatchObject({ requests: 2, retries: 1 });
  });

  it('honours Retry-After on a 503 as the least delay', async () => {
    const { time, client } = setup([{ status: 503, headers: { 'Retry-After': '30' } }, page([], null)]);
    await drain(client);
    expect(time.sleeps).toEqual([30_000]);
  });

  it('gives up with a ProviderError after maxAttempts failures of one page', async () => {
    const { http, client } = setup([{ status: 500 }], {
      maxAttempts: 4,
      breaker: { failureThreshold: 100, coolDownMs: 1000 },
    });
    const error = await failure(drain(client));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toBeInstanceOf(ProviderFailureError);
    expect(error).toMatchObject({ code: 'provider_unavailable' });
    expect(error.message).toMatch(/failed 4 times.*HTTP 500/);
    expect(http.calls).toHaveLength(4);
  });

  it('does not retry a 404', async () => {
    const { http, client } = setup([{ status: 404, body: 'no such route' }]);
    const error = await failure(drain(client));
    expect(error).toMatchObject({ code: 'provider_not_found', httpStatus: 404 });
    expect(http.calls).toHaveLength(1);
  });

  it.each([401, 403])(
    'raises ProviderAuthError on %i without retrying or touching the breaker',
    async (status) => {
      const { time, http, client } = setup([{ status }]);
      const error = await failure(drain(client));
      expect(error).toBeInstanceOf(ProviderAuthError);
      expect(error).toMatchObject({ code: 'provider_auth_failed', httpStatus: status });
      expect(http.calls).toHaveLength(1);
      expect(time.sleeps).toEqual([]);
      expect(client.breaker.state).toBe('closed');
      expect(client.breaker.consecutiveFailures).toBe(0);
    },
  );
});

describe('rate limiting', () => {
  it('a token bucket admits its burst at once, then paces to the refill rate', async () => {
    for (const [capacity, expectedMs] of [
      [10, 9_000],
      [1, 9_900],
    ] as const) {
      const time = fakeTime();
      const bucket = new TokenBucket({ capacity, refillPerSecond: 10 }, time.clock);
      const sentAt: number[] = [];
      for (let i = 0; i < 100; i++) {
        const wait = bucket.take();
        if (wait > 0) await time.sleep(wait);
        sentAt.push(time.nowMs() - START);
      }
      expect(sentAt.slice(0, capacity).every((t) => t === 0)).toBe(true);
      expect(time.nowMs() - START).toBe(expectedMs);
      // In no one-second window are more than the burst plus a second's refill sent.
      for (let i = 0; i + capacity + 10 < sentAt.length; i++) {
        expect((sentAt[i + capacity + 10] ?? 0) - (sentAt[i] ?? 0)).toBeGreaterThanOrEqual(1000);
      }
    }
  });

  it('refills only up to capacity after an idle spell, and reports waits without reserving', () => {
    const time = fakeTime();
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 4 }, time.clock);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 250]);
    time.advance(60_000);
    expect(bucket.waitTime(2)).toBe(0);
    expect(bucket.waitTime(2)).toBe(0);
    expect([bucket.take(), bucket.take(), bucket.waitTime()]).toEqual([0, 0, 250]);
    expect(() => bucket.take(3)).toThrow(RangeError);
  });

  it('100 pages at 10 requests per second take about 10 s of simulated time', async () => {
    const steps = Array.from({ length: 100 }, (_, i) => page([record(1)], i === 99 ? null : `c${i + 1}`));
    const { time, client } = setup(steps, { rateLimit: { requestsPerSecond: 10, burst: 1 } });
    const { pages } = await drain(client);
    expect(pages).toHaveLength(100);
    expect(time.nowMs() - START).toBe(9_900);
  });

  it('a per-property limit paces each property on its own, within the source limit', () => {
    const time = fakeTime();
    const limiter = new RateLimiter(
      { requestsPerSecond: 100, burst: 100, perPropertyPerMinute: 10 },
      time.clock,
    );
    expect(limiter.acquire('ota', 'H1')).toBe(0);
    expect(limiter.acquire('ota', 'H2')).toBe(0);
    expect(limiter.acquire('ota')).toBe(0);
    expect(limiter.waitTime('ota', 'H1')).toBe(6_000);
    expect(limiter.acquire('ota', 'H1')).toBe(6_000);
    expect(limiter.acquire('ota', 'H1')).toBe(12_000);
    expect(limiter.acquire('other-source', 'H1')).toBe(0);
    time.advance(12_000);
    expect(limiter.acquire('ota', 'H1')).toBe(6_000);
  });

  it('the source limit still applies when the property limit admits', () => {
    const time = fakeTime();
    const limiter = new RateLimiter(
      { requestsPerSecond: 1, burst: 1, perPropertyPerMinute: 600 },
      time.clock,
    );
    expect(limiter.acquire('ota', 'H1')).toBe(0);
    expect(limiter.acquire('ota', 'H2')).toBe(1000);
  });

  it('the client charges a property poll to that property and sends property_id', async () => {
    const { http, client } = setup(
      [page([record(1)], 'c1'), page([record(2)], 'c2'), page([record(3)], null)],
      {
        rateLimit: { requestsPerSecond: 100, burst: 100, perPropertyPerMinute: 10 },
      },
    );
    await drain(client, { propertyId: 'HOTEL-1' });
    expect(http.calls.map((c) => c.atMs - START)).toEqual([0, 6_000, 12_000]);
    expect(http.calls.every((c) => c.url.searchParams.get('property_id') === 'HOTEL-1')).toBe(true);
  });

  it('stops at the deadline, sending nothing, when a shared gate admitted others after its peek', async () => {
    const time = fakeTime();
    const http = scriptedFetch([page([record(1)], null)], time);
    const reserved: Array<[string, string | undefined]> = [];
    const client = new PollingClient(options(), {
      sourceId: 'ota-main',
      fetch: http.fetch,
      clock: time.clock,
      sleep: time.sleep,
      random: seededRandom(1),
      token: async () => TOKEN,
      // Free when peeked at; by the time of the reservation, other workers have taken the next 5 s.
      rateGate: {
        waitTime: async () => 0,
        reserve: async (sourceId, propertyId) => {
          reserved.push([sourceId, propertyId]);
          return 5_000;
        },
      },
    });
    const { pages, outcome } = await drain(client, { deadline: START + 3_000, propertyId: 'HOTEL-1' });
    expect(outcome).toEqual({ status: 'deadline', resumeCursor: undefined });
    expect(pages).toEqual([]);
    expect(reserved).toEqual([['ota-main', 'HOTEL-1']]);
    expect(http.calls).toEqual([]);
    expect(time.sleeps).toEqual([]);
  });
});

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, fails fast, half-opens after the cool-down, closes on success', async () => {
    const { time, http, client } = setup(
      [{ status: 500 }, { status: 500 }, { status: 500 }, page([record(1)], null)],
      { maxAttempts: 1, breaker: { failureThreshold: 3, coolDownMs: 30_000 } },
    );
    const changes: CircuitStateChange[] = [];
    client.breaker.onStateChange((change) => changes.push(change));

    for (let run = 0; run < 3; run++) expect(await failure(drain(client))).toBeInstanceOf(ProviderError);
    expect(client.breaker.state).toBe('open');
    expect(http.calls).toHaveLength(3);

    const open = await failure(drain(client));
    expect(open).toBeInstanceOf(CircuitOpenError);
    expect((open as CircuitOpenError).retryAt.getTime()).toBe(START + 30_000);
    expect(http.calls).toHaveLength(3);

    time.advance(29_999);
    expect(await failure(drain(client))).toBeInstanceOf(CircuitOpenError);
    time.advance(1);
    expect(client.breaker.state).toBe('half-open');
    const { pages } = await drain(client);
    expect(pages[0]?.nights).toHaveLength(1);
    expect(client.breaker.state).toBe('closed');
    expect(http.calls).toHaveLength(4);
    expect(changes.map((c) => [c.from, c.to, c.at.getTime() - START])).toEqual([
      ['closed', 'open', 0],
      ['open', 'half-open', 30_000],
      ['half-open', 'closed', 30_000],
    ]);
  });

  it('fails fast within a page once the breaker opens, without sleeping out the next backoff', async () => {
    const { time, http, client } = setup([{ status: 500 }], {
      maxAttempts: 6,
      breaker: { failureThreshold: 2, coolDownMs: 60_000 },
    });
    expect(await failure(drain(client))).toBeInstanceOf(CircuitOpenError);
    expect(http.calls).toHaveLength(2);
    expect(time.sleeps).toHaveLength(1);
  });

  it('releases the half-open probe when reading the token fails, so the next run can probe', async () => {
    const time = fakeTime();
    const http = scriptedFetch([{ status: 500 }, page([record(1)], null)], time);
    let tokenReads = 0;
    const client = new PollingClient(
      options({ maxAttempts: 1, breaker: { failureThreshold: 1, coolDownMs: 10 } }),
      {
        sourceId: 'ota-main',
        fetch: http.fetch,
        clock: time.clock,
        sleep: time.sleep,
        random: seededRandom(1),
        token: async () => {
          tokenReads += 1;
          if (tokenReads === 2) throw new Error('secrets store unavailable');
          return TOKEN;
        },
      },
    );
    expect(await failure(drain(client))).toBeInstanceOf(ProviderError);
    time.advance(10);
    expect((await failure(drain(client))).message).toBe('secrets store unavailable');
    expect(client.breaker.state).toBe('half-open');
    const { pages } = await drain(client);
    expect(pages).toHaveLength(1);
    expect(client.breaker.state).toBe('closed');
  });

  it('opens again when the half-open probe fails, and lets only one probe through', () => {
    const time = fakeTime();
    const breaker = new CircuitBreaker('ota', { failureThreshold: 2, coolDownMs: 1000 }, time.clock);
    breaker.recordFailure();
    breaker.recordNeutral();
    expect(breaker.state).toBe('closed');
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(() => breaker.admit()).toThrow(CircuitOpenError);
    time.advance(1000);
    breaker.admit();
    expect(() => breaker.admit()).toThrow(CircuitOpenError);
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    time.advance(999);
    expect(breaker.state).toBe('open');
    time.advance(1);
    expect(breaker.state).toBe('half-open');
  });

  it('takes up a saved state: open with its cool-down running, or closed with its count of failures', () => {
    const time = fakeTime();
    const saved = new CircuitBreaker('ota', { failureThreshold: 2, coolDownMs: 1000 }, time.clock);
    saved.recordFailure();
    saved.recordFailure();
    const openSnapshot = saved.snapshot();
    expect(openSnapshot).toEqual({
      state: 'open',
      failures: 2,
      openedAt: new Date(time.nowMs()).toISOString(),
    });

    time.advance(400);
    const cold = new CircuitBreaker('ota', { failureThreshold: 2, coolDownMs: 1000 }, time.clock);
    cold.restore(openSnapshot);
    expect(() => cold.admit()).toThrow(CircuitOpenError);
    time.advance(600);
    expect(cold.state).toBe('half-open');
    // A half-open breaker is saved as open: the probe belonged to the run that made it.
    expect(cold.snapshot().state).toBe('open');

    const counting = new CircuitBreaker('ota', { failureThreshold: 2, coolDownMs: 1000 }, time.clock);
    counting.restore({ state: 'closed', failures: 1 });
    counting.recordFailure();
    expect(counting.state).toBe('open');

    // Unreadable values leave the breaker closed with no failures.
    const garbled = new CircuitBreaker('ota', { failureThreshold: 2, coolDownMs: 1000 }, time.clock);
    garbled.restore({ state: 'open', failures: -3, openedAt: 'yesterday' });
    expect(garbled.snapshot()).toEqual({ state: 'closed', failures: 0 });
  });

  it('a failing listener does not change the outcome', () => {
    const time = fakeTime();
    const breaker = new CircuitBreaker('ota', { failureThreshold: 1, coolDownMs: 1000 }, time.clock);
    breaker.onStateChange(() => {
      throw new Error('metrics sink down');
    });
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
  });
});

describe('PollingClient time budget', () => {
  it('stops before a request that could not finish by the deadline and resumes from the returned cursor', async () => {
    const steps = [
      page([record(1)], 'c1'),
      page([record(2)], 'c2'),
      page([record(3)], 'c3'),
      page([record(4)], null),
    ];
    // One request a second, each allowed 1 s: requests go out at 0, 1 s, 2 s; the one at 3 s would end at 4 s.
    const overrides = { rateLimit: { requestsPerSecond: 1, burst: 1 }, requestTimeoutMs: 1000 };
    const { time, http, client } = setup(steps, overrides);
    const first = await drain(client, { deadline: START + 3_999 });

    expect(first.pages.map((p) => p.nextCursor)).toEqual(['c1', 'c2', 'c3']);
    expect(first.outcome).toEqual({ status: 'deadline', resumeCursor: 'c3' });
    expect(http.calls).toHaveLength(3);
    expect(time.nowMs()).toBeLessThanOrEqual(START + 3_999);

    const second = await drain(client, { cursor: 'c3', deadline: START + 60_000 });
    expect(second.outcome).toEqual({ status: 'complete' });
    expect(http.calls[3]?.url.searchParams.get('cursor')).toBe('c3');
    expect(second.pages.flatMap((p) => p.nights.map((n) => n.date))).toEqual(['2026-04-04']);
  });

  it('returns the cursor of the first page when even the first request does not fit', async () => {
    const { http, client } = setup([page([record(1)], null)]);
    const run = await drain(client, { cursor: 'c7', deadline: START + 999 });
    expect(run).toEqual({ pages: [], outcome: { status: 'deadline', resumeCursor: 'c7' } });
    expect(http.calls).toHaveLength(0);
  });

  it('stops, rather than sleeping past the deadline, when Retry-After is longer than the budget left', async () => {
    const { time, http, client } = setup([
      page([record(1)], 'c1'),
      { status: 429, headers: { 'Retry-After': '600' } },
    ]);
    const run = await drain(client, { deadline: START + 120_000 });
    expect(run.outcome).toEqual({ status: 'deadline', resumeCursor: 'c1' });
    expect(run.pages).toHaveLength(1);
    expect(http.calls).toHaveLength(2);
    expect(time.sleeps).toEqual([]);
  });
});

describe('secrets in errors', () => {
  const scenarios: [string, Step[], Partial<PollingOptions>][] = [
    ['401', [{ status: 401, body: `invalid token ${TOKEN}` }], {}],
    ['404 echoing the request', [{ status: 404, body: `GET /inventory Authorization: Bearer ${TOKEN}` }], {}],
    [
      'exhausted 5xx echoing the token',
      [{ status: 500, body: `upstream rejected Bearer ${TOKEN}` }],
      { maxAttempts: 2 },
    ],
    [
      'network error naming the token',
      [{ kind: 'network', message: `connect failed for ${TOKEN}` }],
      { maxAttempts: 1 },
    ],
  ];

  it.each(scenarios)('%s: the bearer token appears in no error text', async (_name, steps, overrides) => {
    const { client } = setup(steps, overrides);
    const error = await failure(drain(client));
    expect(error).toBeInstanceOf(Error);
    const texts = [
      error.message,
      String(error),
      error.stack ?? '',
      JSON.stringify(error),
      String(error.cause),
    ];
    if ('toBody' in error && typeof error.toBody === 'function') texts.push(JSON.stringify(error.toBody()));
    for (const text of texts) expect(text).not.toContain(TOKEN);
  });

  it('a circuit-open error names the source but not the token', async () => {
    const { client } = setup([{ status: 500 }], {
      maxAttempts: 1,
      breaker: { failureThreshold: 1, coolDownMs: 5 },
    });
    await failure(drain(client));
    const error = await failure(drain(client));
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error.message).toContain('ota-main');
    expect(error.message).not.toContain(TOKEN);
  });
});

describe('backoff and Retry-After parsing', () => {
  it('full jitter stays within [0, min(cap, base·2^attempt))', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 80 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const delay = fullJitterDelayMs(attempt, { baseMs: 200, capMs: 20_000 }, () => r);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.min(20_000, 200 * 2 ** attempt));
        },
      ),
    );
  });

  it('reads the three HTTP-date forms of RFC 9110 §5.6.7 as the same instant', () => {
    const now = new Date('2026-03-01T00:00:00Z');
    const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
    for (const text of [
      'Sun, 06 Nov 1994 08:49:37 GMT',
      'Sunday, 06-Nov-94 08:49:37 GMT',
      'Sun Nov  6 08:49:37 1994',
    ]) {
      expect(parseHttpDate(text, now)?.getTime()).toBe(expected);
    }
    expect(parseHttpDate('Mon, 31 Feb 2026 08:00:00 GMT', now)).toBeUndefined();
    expect(parseHttpDate('2026-03-01T00:00:00Z', now)).toBeUndefined();
  });

  it('turns Retry-After into milliseconds, never negative, undefined when unreadable', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Sun, 01 Mar 2026 12:01:30 GMT', now)).toBe(90_000);
    expect(retryAfterMs('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('-5', now)).toBeUndefined();
    expect(retryAfterMs('1.5', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe('PollingOptionsSchema', () => {
  it('fills the documented defaults and refuses an oversized page', () => {
    const parsed = PollingOptionsSchema.parse({
      baseUrl: 'https://api.example.com/v2',
      rateLimit: { requestsPerSecond: 5, burst: 10 },
    });
    expect(parsed).toMatchObject({
      pageSize: 200,
      maxAttempts: 6,
      requestTimeoutMs: 10_000,
      backoff: { baseMs: 200, capMs: 20_000 },
      breaker: { failureThreshold: 5, coolDownMs: 60_000 },
    });
    const oversized = PollingOptionsSchema.safeParse({ ...parsed, pageSize: 1001 });
    expect(oversized.success).toBe(false);
    expect(PollingOptionsSchema.safeParse({ ...parsed, baseUrl: 'ftp://x.example' }).success).toBe(false);
  });
});
