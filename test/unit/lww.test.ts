import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeNight } from '../../lambdas/domain/lww';
import {
  FIELD_GROUPS,
  type FieldGroup,
  type NightWrite,
  type RoomNightKey,
  type RoomNightState,
  type Version,
  versionOf,
} from '../../lambdas/domain/state';

const KEY: RoomNightKey = {
  propertyId: 'prop-1',
  roomTypeId: 'dbl',
  ratePlanId: 'bar',
  channel: 'cm-demo:booking',
  date: '2026-05-01',
};
const EMPTY: RoomNightState = { key: KEY };

interface Change {
  readonly write: NightWrite;
  readonly version: Version;
  readonly eventId: string;
}

const nightWrite: fc.Arbitrary<NightWrite> = fc.record(
  {
    rate: fc.record({
      amountMinor: fc.integer({ min: 0, max: 10_000_000 }),
      currency: fc.constantFrom('EUR', 'USD', 'JPY'),
    }),
    availability: fc.record(
      {
        rooms: fc.integer({ min: 0, max: 200 }),
        requested: fc.integer({ min: 0, max: 300 }),
        cappedBy: fc.constantFrom('physical 20 × buffer 0.95 = 19', 'physical 10'),
      },
      { requiredKeys: ['rooms'] },
    ),
    restrictions: fc.record(
      {
        minLengthOfStay: fc.integer({ min: 1, max: 14 }),
        maxLengthOfStay: fc.integer({ min: 1, max: 30 }),
        closedToArrival: fc.boolean(),
        closedToDeparture: fc.boolean(),
        stopSell: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

/**
 * Changes with distinct versions: few instants and few keys, so that equal occurredAt with different idempotency
 * keys (a tie broken by the key) is common. One version is one event, so it never carries two different writes.
 */
const changes: fc.Arbitrary<Change[]> = fc
  .uniqueArray(
    fc.record({
      occurredAt: fc.constantFrom(
        '2026-03-01T10:00:00.000Z',
        '2026-03-01T10:00:00.001Z',
        '2026-03-01T10:00:05.000Z',
        '2026-03-02T08:30:00.000Z',
      ),
      idempotencyKey: fc.constantFrom('a', 'b', 'delivery-10', 'delivery-9'),
      write: nightWrite,
    }),
    { selector: versionOf, minLength: 1, maxLength: 12 },
  )
  .map((list) =>
    list.map(({ write, ...event }) => ({
      write,
      version: versionOf(event),
      eventId: `evt_${versionOf(event)}`,
    })),
  );

/** Every item at least once, some up to three times, in any order: how SQS may deliver them. */
function deliveries<T>(items: readonly T[]): fc.Arbitrary<T[]> {
  return fc
    .array(fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), {
      minLength: items.length,
      maxLength: items.length,
    })
    .map((positions) =>
      positions
        .flatMap((copies, index) => copies.map((position) => ({ position, index })))
        .sort((a, b) => a.position - b.position)
        .map(({ index }) => items[index] as T),
    );
}

const changesAndDeliveries = changes.chain((list) => fc.tuple(fc.constant(list), deliveries(list)));

function fold(state: RoomNightState, list: readonly Change[]): RoomNightState {
  return list.reduce((current, c) => mergeNight(current, c.write, c.version, c.eventId).state, state);
}

function byVersion(list: readonly Change[]): Change[] {
  return [...list].sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

function groupsIn(write: NightWrite): FieldGroup[] {
  return FIELD_GROUPS.filter((group) => write[group] !== undefined);
}

describe('mergeNight (last writer wins per field group)', () => {
  it('reaches the same state for any delivery order, with duplicates, as applying each change once in version order', () => {
    fc.assert(
      fc.property(changesAndDeliveries, ([list, delivered]) => {
        expect(fold(EMPTY, delivered)).toEqual(fold(EMPTY, byVersion(list)));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves each group with the value of the newest change that carries it, and no other group', () => {
    fc.assert(
      fc.property(changesAndDeliveries, ([list, delivered]) => {
        const state = fold(EMPTY, delivered);
        for (const group of FIELD_GROUPS) {
          const carriers = list.filter((c) => c.write[group] !== undefined);
          const newest = carriers.reduce<Change | undefined>(
            (best, c) => (best === undefined || c.version > best.version ? c : best),
            undefined,
          );
          expect(state[group]).toEqual(
            newest === undefined
              ? undefined
              : { value: newest.write[group], version: newest.version, eventId: newest.eventId },
          );
        }
        expect(state.key).toEqual(KEY);
      }),
      { numRuns: 300 },
    );
  });

  it('writes only groups present in the write, and never touches the others', () => {
    fc.assert(
      fc.property(changes, nightWrite, fc.string({ minLength: 1 }), (earlier, write, key) => {
        const before = fold(EMPTY, earlier);
        const version = versionOf({ occurredAt: '2026-03-01T10:00:00.001Z', idempotencyKey: key });
        const { state, written } = mergeNight(before, write, version, 'evt_partial');
        const present = groupsIn(write);
        for (const group of FIELD_GROUPS) {
          if (written.includes(group)) {
            expect(present).toContain(group);
            expect(state[group]).toEqual({ value: write[group], version, eventId: 'evt_partial' });
          } else {
            expect(state[group]).toBe(before[group]);
          }
        }
        // Exactly the present groups that were absent or older are written.
        expect(written).toEqual(present.filter((group) => (before[group]?.version ?? '') < version));
      }),
      { numRuns: 500 },
    );
  });

  it('never lets a write change anything when every group it carries is stored at the same or a newer version', () => {
    fc.assert(
      fc.property(changes, nightWrite, (earlier, write) => {
        const [first, ...rest] = earlier;
        if (first === undefined) throw new Error('changes has minLength 1');
        // Store each group of `write` at a version no older than `first`'s, using the other changes' versions.
        let stored: RoomNightState = EMPTY;
        for (const [index, group] of groupsIn(write).entries()) {
          const other = rest[index % Math.max(rest.length, 1)]?.version ?? first.version;
          const version = other > first.version ? other : first.version;
          stored = { ...stored, [group]: { value: write[group], version, eventId: `evt_stored_${group}` } };
        }
        const { state, written } = mergeNight(stored, write, first.version, first.eventId);
        expect(written).toEqual([]);
        expect(state).toEqual(stored);
      }),
      { numRuns: 500 },
    );
  });

  it('breaks a tie on occurredAt with the idempotency key, whichever arrives first', () => {
    const at = '2026-03-01T10:00:00.000Z';
    const low = { version: versionOf({ occurredAt: at, idempotencyKey: 'a' }), eventId: 'evt_a' };
    const high = { version: versionOf({ occurredAt: at, idempotencyKey: 'b' }), eventId: 'evt_b' };
    const rateA = { amountMinor: 10000, currency: 'EUR' };
    const rateB = { amountMinor: 12000, currency: 'EUR' };
    const lowFirst = fold(EMPTY, [
      { write: { rate: rateA }, ...low },
      { write: { rate: rateB }, ...high },
    ]);
    const highFirst = fold(EMPTY, [
      { write: { rate: rateB }, ...high },
      { write: { rate: rateA }, ...low },
    ]);
    expect(lowFirst.rate).toEqual({ value: rateB, ...high });
    expect(highFirst).toEqual(lowFirst);
  });
});
