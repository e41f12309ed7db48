import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RateLimit } from '../../lambdas/config/reconcile-options';
import { type RateGate, RateLimiter } from '../../lambdas/reconcile/rate-limit';
import type { Clock } from '../../lambdas/shared/clock';
import { seededRandom } from '../../local/simulator/dataset';
import { ManualClock } from '../fakes/clock';

const START = Date.parse('2031-03-01T12:00:00.000Z');

/** A source id of its own for each test, so that gates sharing a table never draw from each other's buckets. */
const freshSource = () => `src-${randomUUID().slice(0, 8)}`;

export type RateGateFactory = (limits: RateLimit, clock: Clock) => RateGate;

/**
 * What every RateGate must do: pace requests exactly as the token buckets of rate-limit.ts do, whether the
 * buckets live in the process or in a table. Each gate is built on a ManualClock, so every wait is exact.
 */
export function rateGateContract(name: string, create: RateGateFactory): void {
  describe(`${name} keeps the RateGate contract`, () => {
    it('admits the burst at once, then one request per refill interval, each queued behind the last', async () => {
      const clock = new ManualClock(START);
      const gate = create({ requestsPerSecond: 10, burst: 3 }, clock);
      const source = freshSource();
      const waits: number[] = [];
      for (let i = 0; i < 6; i++) waits.push(await gate.reserve(source));
      expect(waits).toEqual([0, 0, 0, 100, 200, 300]);
    });

    it('reports the wait without reserving it', async () => {
      const clock = new ManualClock(START);
      const gate = create({ requestsPerSecond: 4, burst: 2 }, clock);
      const source = freshSource();
      expect(await gate.waitTime(source)).toBe(0);
      expect([await gate.reserve(source), await gate.reserve(source)]).toEqual([0, 0]);
      expect(await gate.waitTime(source)).toBe(250);
      expect(await gate.waitTime(source)).toBe(250);
      expect(await gate.reserve(source)).toBe(250);
      expect(await gate.waitTime(source)).toBe(500);
    });

    it('refills at its rate, fractions included, and never beyond its capacity', async () => {
      const clock = new ManualClock(START);
      const gate = create({ requestsPerSecond: 4, burst: 2 }, clock);
      const source = freshSource();
      expect([await gate.reserve(source), await gate.reserve(source)]).toEqual([0, 0]);
      // 100 ms refill 0.4 of a token: 0.6 of one is still missing, 150 ms at 4 a second.
      clock.advance(100);
      expect(await gate.reserve(source)).toBe(150);
      clock.advance(60_000);
      const waits: number[] = [];
      for (let i = 0; i < 3; i++) waits.push(await gate.reserve(source));
      expect(waits).toEqual([0, 0, 250]);
    });

    it('paces a caller that sleeps its waits to the refill rate exactly', async () => {
      const clock = new ManualClock(START);
      const gate = create({ requestsPerSecond: 10, burst: 1 }, clock);
      const source = freshSource();
      const sentAt: number[] = [];
      for (let i = 0; i < 12; i++) {
        clock.advance(await gate.reserve(source));
        sentAt.push(clock.now().getTime() - START);
      }
      expect(sentAt).toEqual(Array.from({ length: 12 }, (_, i) => i * 100));
    });

    it('spaces the requests of each property evenly, within the source limit', async () => {
      const clock = new ManualClock(START);
      const gate = create({ requestsPerSecond: 100, burst: 100, perPropertyPerMinute: 10 }, clock);
      const source = freshSource();
      expect(await gate.reserve(source, 'H1')).toBe(0);
      expect(await gate.reserve(source, 'H2')).toBe(0);
      expect(await gate.reserve(source)).toBe(0);
      expect(await gate.waitTime(source, 'H1')).toBe(6_000);
      expect(await gate.reserve(source, 'H1')).toBe(6_000);
      expect(await gate.reserve(source, 'H1')).toBe(12_000);
      expect(await gate.reserve(freshSource(), 'H1')).toBe(0);
      clock.advance(12_000);
      expect(await gate.reserve(source, 'H1')).toBe(6_000);
    });

    it('holds a property request to the source limit when that is further behind', async () => {
      const clock = new ManualClock(START);
      const gate = create({ requestsPerSecond: 1, burst: 1, perPropertyPerMinute: 600 }, clock);
      const source = freshSource();
      expect(await gate.reserve(source, 'H1')).toBe(0);
      expect(await gate.waitTime(source, 'H2')).toBe(1_000);
      expect(await gate.reserve(source, 'H2')).toBe(1_000);
    });

    it('mints nothing when the clock steps backwards, and refills from the latest instant it saw', async () => {
      const clock = new ManualClock(START);
      const gate = create({ requestsPerSecond: 1, burst: 1 }, clock);
      const source = freshSource();
      expect(await gate.reserve(source)).toBe(0);
      clock.advance(-10_000);
      expect(await gate.waitTime(source)).toBe(1_000);
      expect(await gate.reserve(source)).toBe(1_000);
      // Back where it was and half a second on: half a token refilled towards the two owed.
      clock.advance(10_500);
      expect(await gate.waitTime(source)).toBe(1_500);
    });

    it('answers exactly what in-process token buckets answer, step for step', async () => {
      const limits: RateLimit = { requestsPerSecond: 7, burst: 3, perPropertyPerMinute: 90 };
      const clock = new ManualClock(START);
      const gate = create(limits, clock);
      const reference = new RateLimiter(limits, clock);
      const source = freshSource();
      const random = seededRandom(31);
      const answers: Array<[number, number]> = [];
      for (let step = 0; step < 60; step++) {
        // Mostly forwards, now and then a step back, as a corrected clock would go.
        clock.advance(Math.floor(random() * 500) - (random() < 0.1 ? 700 : 0));
        const property = [undefined, 'H1', 'H2'][Math.floor(random() * 3)];
        if (random() < 0.3) {
          answers.push([await gate.waitTime(source, property), reference.waitTime(source, property)]);
        } else {
          answers.push([await gate.reserve(source, property), reference.acquire(source, property)]);
        }
      }
      expect(answers.map(([gateAnswer]) => gateAnswer)).toEqual(answers.map(([, expected]) => expected));
      expect(answers.some(([, expected]) => expected > 0)).toBe(true);
    });
  });
}
