import fc from 'fast-check';
import { type ParityOptions, ParityOptionsSchema } from '../../lambdas/config/reconcile-options';
import { addDays } from '../../lambdas/domain/dates';
import type { NightWrite, RoomNightKey } from '../../lambdas/domain/state';
import type { ParityRecord } from '../../lambdas/state/ports';

/** The day the generated changes are checked on; the sweep's horizon starts here. */
export const TODAY = '2026-06-01';
export const HORIZON_DAYS = 3;
export const TRUTH = 'cm';
export const PARITY_PROPERTY = 'p-1';
/** Has ARI but no parity configured: its changes must read and write nothing. */
export const OTHER_PROPERTY = 'p-2';

export const PARITY_OPTIONS: ParityOptions = ParityOptionsSchema.parse({
  properties: [{ propertyId: PARITY_PROPERTY, sourceOfTruth: TRUTH, tolerance: { absoluteMinor: 5 } }],
  defaultTolerance: {},
});

export interface NightChange {
  readonly key: RoomNightKey;
  readonly write: NightWrite;
}

/**
 * Changes over a small calendar, so that they collide (most fall on a few nights of the parity property): two properties, a room type whose id needs percent-encoding,
 * dates from yesterday (outside the sweep's horizon) to one past its end, a truth channel and two others, rates a
 * few minor units apart around the tolerance, sometimes in another currency, and changes that leave the rate alone.
 */
export const nightChange: fc.Arbitrary<NightChange> = fc.record({
  key: fc.record({
    propertyId: fc.constantFrom(PARITY_PROPERTY, PARITY_PROPERTY, PARITY_PROPERTY, OTHER_PROPERTY),
    roomTypeId: fc.constantFrom('dbl', 'suite#1 ä'),
    ratePlanId: fc.constantFrom('bar', 'bar', 'bar', 'nr'),
    channel: fc.constantFrom(TRUTH, 'ota-a', 'ota-b'),
    date: fc
      .oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 1 }) },
        { weight: 1, arbitrary: fc.constantFrom(-1, HORIZON_DAYS) },
      )
      .map((offset) => addDays(TODAY, offset)),
  }),
  write: fc.oneof(
    fc.record({
      rate: fc.record({
        amountMinor: fc.integer({ min: 990, max: 1010 }),
        currency: fc.constantFrom('EUR', 'EUR', 'EUR', 'USD'),
      }),
    }),
    fc.record({ availability: fc.record({ rooms: fc.integer({ min: 0, max: 3 }) }) }),
  ),
});

/** A night's findings as both checks must leave them, without when each check ran. */
export function findingsOnly(records: Iterable<ParityRecord>): unknown[] {
  return [...records]
    .map((record) => ({ key: record.key, findings: record.findings }))
    .sort((a, b) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));
}
