import type { Clock } from '../../lambdas/shared/clock';

/** Time that moves only when the test (or a fake provider "taking" time) says. */
export class ManualClock implements Clock {
  constructor(private epochMs: number) {}
  now(): Date {
    return new Date(this.epochMs);
  }
  advance(ms: number): void {
    this.epochMs += ms;
  }
  set(epochSeconds: number): void {
    this.epochMs = epochSeconds * 1000;
  }
  get seconds(): number {
    return Math.floor(this.epochMs / 1000);
  }
}
