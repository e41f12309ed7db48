import { afterEach, describe, expect, it } from 'vitest';
import { PollingOptionsSchema } from '../../lambdas/config/reconcile-options';
import { toMinorUnits } from '../../lambdas/domain/money';
import { PollingClient, type ProviderNight } from '../../lambdas/reconcile/polling-client';
import { systemClock } from '../../lambdas/shared/clock';
import { generateDataset, seededRandom, toPollingRecord } from '../../local/simulator/dataset';
import { type Simulator, startSimulator } from '../../local/simulator/server';

/**
 * The polling client's HTTP port against the real thing: the provider simulator over loopback HTTP with the
 * platform's fetch, real time, and the simulator's own rate limit and injected faults.
 */
const TOKEN = 'sim-token-0123456789';
let simulator: Simulator | undefined;

afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

async function pollAll(options: {
  readonly pageSize: number;
  readonly requestsPerSecond: number;
  readonly burst: number;
}) {
  if (!simulator) throw new Error('no simulator');
  const client = new PollingClient(
    PollingOptionsSchema.parse({
      baseUrl: simulator.url,
      pageSize: options.pageSize,
      rateLimit: { requestsPerSecond: options.requestsPerSecond, burst: options.burst },
      backoff: { baseMs: 20, capMs: 200 },
      requestTimeoutMs: 2_000,
    }),
    {
      sourceId: 'ota-sim',
      fetch: (url, init) => fetch(url, init),
      clock: systemClock,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: seededRandom(7),
      token: async () => TOKEN,
    },
  );
  const nights: ProviderNight[] = [];
  let throttled = 0;
  let retries = 0;
  const pages = client.pages({ updatedAfter: new Date(0), deadline: Date.now() + 60_000 });
  for (;;) {
    const next = await pages.next();
    if (next.done) return { nights, throttled, retries, outcome: next.value };
    nights.push(...next.value.nights);
    throttled += next.value.throttled;
    retries += next.value.retries;
  }
}

const keyOf = (n: ProviderNight) =>
  `${n.propertyExternalId}|${n.roomTypeExternalId}|${n.ratePlanExternalId}|${n.date}`;

describe('PollingClient against the provider simulator', () => {
  it('pages through the whole data set and normalises every record exactly', async () => {
    const dataset = generateDataset({ seed: 11, nights: 1_500 });
    simulator = await startSimulator({
      port: 0,
      host: '127.0.0.1',
      dataset,
      token: TOKEN,
      random: seededRandom(1),
    });
    const { nights, outcome } = await pollAll({ pageSize: 200, requestsPerSecond: 1_000, burst: 100 });
    expect(outcome).toEqual({ status: 'complete' });
    expect(nights).toHaveLength(1_500);
    expect(new Set(nights.map(keyOf)).size).toBe(1_500);
    const byKey = new Map(nights.map((n) => [keyOf(n), n]));
    for (const night of dataset.nights()) {
      const record = toPollingRecord(night);
      const polled = byKey.get(
        `${record.property_id}|${record.room_type_code}|${record.rate_plan_code}|${record.date}`,
      );
      expect(polled?.rate).toEqual({
        amountMinor: toMinorUnits(record.base_rate, record.currency),
        currency: record.currency,
      });
      expect(polled?.availability).toBe(record.availability);
    }
  });

  it('rides out the provider’s 429s within its rate limit and loses no page', async () => {
    const dataset = generateDataset({ seed: 12, nights: 600 });
    simulator = await startSimulator({
      port: 0,
      host: '127.0.0.1',
      dataset,
      token: TOKEN,
      random: seededRandom(2),
      rateLimit: { requestsPerSecond: 4, burst: 2 },
    });
    // The client believes it may go faster than the provider allows, so the provider answers 429.
    const { nights, throttled } = await pollAll({ pageSize: 50, requestsPerSecond: 50, burst: 10 });
    expect(simulator.stats().rateLimited).toBeGreaterThan(0);
    expect(throttled).toBe(simulator.stats().rateLimited);
    expect(new Set(nights.map(keyOf)).size).toBe(600);
  });

  it('retries injected 5xx faults and still returns every record', async () => {
    const dataset = generateDataset({ seed: 13, nights: 400 });
    simulator = await startSimulator({
      port: 0,
      host: '127.0.0.1',
      dataset,
      token: TOKEN,
      random: seededRandom(3),
      faults: { errorRate: 0.3 },
    });
    const { nights, retries } = await pollAll({ pageSize: 40, requestsPerSecond: 1_000, burst: 100 });
    expect(simulator.stats().faults).toBeGreaterThan(0);
    expect(retries).toBe(simulator.stats().faults);
    expect(new Set(nights.map(keyOf)).size).toBe(400);
  });

  it('opens its circuit on a failing provider, stops calling it, and closes again once it recovers', async () => {
    const dataset = generateDataset({ seed: 14, nights: 120 });
    simulator = await startSimulator({
      port: 0,
      host: '127.0.0.1',
      dataset,
      token: TOKEN,
      random: seededRandom(4),
      faults: { errorRate: 1 },
    });
    let nowMs = Date.now();
    const clock = { now: () => new Date(nowMs) };
    const client = new PollingClient(
      PollingOptionsSchema.parse({
        baseUrl: simulator.url,
        pageSize: 60,
        rateLimit: { requestsPerSecond: 1_000, burst: 100 },
        maxAttempts: 2,
        backoff: { baseMs: 1, capMs: 2 },
        requestTimeoutMs: 2_000,
        breaker: { failureThreshold: 3, coolDownMs: 30_000 },
      }),
      {
        sourceId: 'ota-sim',
        fetch: (url, init) => fetch(url, init),
        clock,
        sleep: async () => undefined,
        random: seededRandom(8),
        token: async () => TOKEN,
      },
    );
    const drain = async () => {
      const nights: ProviderNight[] = [];
      for await (const page of client.pages({ updatedAfter: new Date(0), deadline: nowMs + 60_000 }))
        nights.push(...page.nights);
      return nights;
    };

    // Two runs of two failed attempts each: the third consecutive failure opens the circuit.
    await expect(drain()).rejects.toMatchObject({ code: 'provider_unavailable' });
    await expect(drain()).rejects.toMatchObject({ code: expect.any(String) });
    expect(client.breaker.state).toBe('open');
    const requestsWhenOpened = simulator.stats().requests;

    // Open: the next run fails fast without reaching the provider.
    await expect(drain()).rejects.toMatchObject({ code: 'circuit_open' });
    expect(simulator.stats().requests).toBe(requestsWhenOpened);

    // The provider recovers; after the cool-down one probe goes through, succeeds and closes the circuit.
    simulator.setFaults(undefined);
    nowMs += 30_000;
    const nights = await drain();
    expect(client.breaker.state).toBe('closed');
    expect(new Set(nights.map(keyOf)).size).toBe(120);
    expect(simulator.stats().requests).toBe(requestsWhenOpened + 2);
  });
});
