/** The only way domain code learns the time: tests and benchmarks pass a fixed or stepping clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function fixedClock(at: Date | string | number): Clock {
  const instant = new Date(at);
  return { now: () => new Date(instant.getTime()) };
}
