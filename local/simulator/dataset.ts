import * as z from 'zod/mini';
import type { IsoDate, Restrictions } from '../../lambdas/domain/canonical';
import { addDays, IsoDateSchema, parseIsoDateTime } from '../../lambdas/domain/dates';
import { formatMinorUnits, toMinorUnits } from '../../lambdas/domain/money';
import type { NightWrite } from '../../lambdas/domain/state';
import { formatPath } from '../../lambdas/shared/problems';

/**
 * The demo inventory behind the provider simulator: room nights (property × room type × rate plan × stay
 * date) with a rate, availability, restrictions and the time each last changed. Everything is derived from
 * a seed, so a test, a benchmark and a developer's local run see the same data for the same seed, and drift
 * created by `mutateShare` can be reproduced exactly.
 */

/** A uniform draw in [0, 1), like Math.random, but replayable. */
export type RandomSource = () => number;

/**
 * mulberry32: a tiny, well-distributed 32-bit generator. Cryptographic quality is not needed, only that the
 * same seed yields the same sequence on every platform, which Math.random cannot promise.
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [min, max], both inclusive. */
function randomInt(random: RandomSource, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export interface NightRestrictions {
  readonly minLengthOfStay: number;
  readonly maxLengthOfStay?: number;
  readonly closedToArrival: boolean;
  readonly closedToDeparture: boolean;
  readonly stopSell: boolean;
}

/** A night's restrictions in canonical form (the names ParitySync and Standard Webhooks senders use). */
export function canonicalRestrictions(
  restrictions: NightRestrictions,
): Required<Omit<Restrictions, 'maxLengthOfStay'>> & Pick<Restrictions, 'maxLengthOfStay'> {
  return {
    minLengthOfStay: restrictions.minLengthOfStay,
    ...(restrictions.maxLengthOfStay === undefined ? {} : { maxLengthOfStay: restrictions.maxLengthOfStay }),
    closedToArrival: restrictions.closedToArrival,
    closedToDeparture: restrictions.closedToDeparture,
    stopSell: restrictions.stopSell,
  };
}

/** The provider's values for a night as a webhook carrying them would have stored them. */
export function canonicalValues(night: RoomNight): Required<NightWrite> {
  const amountMinor = baseRateMinor(night);
  return {
    rate: { amountMinor, currency: night.currency },
    availability: { rooms: night.availability },
    restrictions: canonicalRestrictions(night.restrictions),
  };
}

export interface RoomNight {
  readonly propertyId: string;
  readonly roomTypeCode: string;
  readonly ratePlanCode: string;
  readonly date: IsoDate;
  readonly currency: 'EUR';
  /** A decimal string with two places, e.g. "129.99": the amount is never held as a binary float. */
  readonly baseRate: string;
  readonly availability: number;
  readonly restrictions: NightRestrictions;
  /** `Date.prototype.toISOString` form, so that string order is time order. */
  readonly updatedAt: string;
}

/** The record shape of the OTA polling API (`GET /inventory`). */
export interface PollingRecord {
  readonly property_id: string;
  readonly room_type_code: string;
  readonly rate_plan_code: string;
  readonly date: IsoDate;
  readonly currency: string;
  readonly base_rate: string;
  readonly availability: number;
  readonly restrictions: {
    readonly min_length_of_stay: number;
    readonly max_length_of_stay?: number;
    readonly closed_to_arrival: boolean;
    readonly closed_to_departure: boolean;
    readonly stop_sell: boolean;
  };
  readonly updated_at: string;
}

/** Identifies a room night; `|` cannot occur in the codes the options schema accepts. */
export function nightKey(
  night: Pick<RoomNight, 'propertyId' | 'roomTypeCode' | 'ratePlanCode' | 'date'>,
): string {
  return `${night.propertyId}|${night.roomTypeCode}|${night.ratePlanCode}|${night.date}`;
}

/** A night's restrictions as the OTA polling API and channel managers name them (snake_case). */
export function providerRestrictions(restrictions: NightRestrictions): PollingRecord['restrictions'] {
  return {
    min_length_of_stay: restrictions.minLengthOfStay,
    ...(restrictions.maxLengthOfStay === undefined
      ? {}
      : { max_length_of_stay: restrictions.maxLengthOfStay }),
    closed_to_arrival: restrictions.closedToArrival,
    closed_to_departure: restrictions.closedToDeparture,
    stop_sell: restrictions.stopSell,
  };
}

export function toPollingRecord(night: RoomNight): PollingRecord {
  return {
    property_id: night.propertyId,
    room_type_code: night.roomTypeCode,
    rate_plan_code: night.ratePlanCode,
    date: night.date,
    currency: night.currency,
    base_rate: night.baseRate,
    availability: night.availability,
    restrictions: providerRestrictions(night.restrictions),
    updated_at: night.updatedAt,
  };
}

const CodeSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,50}$/, 'must be 1-50 letters, digits, "-" or "_"'));
const CodesSchema = z.array(CodeSchema).check(
  z.minLength(1),
  z.maxLength(100),
  z.refine((codes) => new Set(codes).size === codes.length, 'must not repeat a code'),
);
const InstantTextSchema = z
  .string()
  .check(
    z.refine(
      (text) => parseIsoDateTime(text) !== undefined,
      'must be an ISO-8601 date-time with a zone, e.g. 2026-05-01T00:00:00Z',
    ),
  );

/** Options of `generateDataset`; exported so that a configuration file can carry them. */
export const DatasetOptionsSchema = z.object({
  seed: z.int().check(z.minimum(0), z.maximum(0xffff_ffff)),
  /** How many room nights; stay dates are added until there are this many. */
  nights: z.int().check(z.minimum(1), z.maximum(200_000)),
  properties: z._default(CodesSchema, ['HOTEL001', 'HOTEL002']),
  roomTypes: z._default(CodesSchema, ['DBL-STD', 'TWN-STD', 'STE-DLX']),
  ratePlans: z._default(CodesSchema, ['BAR', 'NRF']),
  /** The first stay date. A fixed default keeps the data set independent of the day it is generated. */
  firstDate: z._default(IsoDateSchema, '2026-06-01'),
  /** Every initial updated_at lies in the `updateSpreadSeconds` before this instant. */
  generatedAt: z._default(InstantTextSchema, '2026-05-01T00:00:00.000Z'),
  /** Whole seconds, so that small data sets still have records sharing an updated_at. */
  updateSpreadSeconds: z._default(z.int().check(z.minimum(0), z.maximum(31_536_000)), 3_600),
});
export type DatasetOptions = z.input<typeof DatasetOptionsSchema>;

function parseOptions<T extends z.core.$ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  throw new RangeError(`Invalid ${what}: ${problems.join('; ')}`);
}

/** A room night in the update-ordered index: its updated_at as epoch milliseconds, for binary search. */
export interface IndexedNight {
  readonly updatedAtMs: number;
  readonly key: string;
  readonly night: RoomNight;
}

/** Orders by (updated_at, key): the order the polling API pages in. Code-unit order, not locale order. */
export function compareUpdatePosition(
  a: { readonly updatedAtMs: number; readonly key: string },
  b: { readonly updatedAtMs: number; readonly key: string },
): number {
  if (a.updatedAtMs !== b.updatedAtMs) return a.updatedAtMs - b.updatedAtMs;
  if (a.key === b.key) return 0;
  return a.key < b.key ? -1 : 1;
}

/**
 * The mutable inventory. Nights are replaced, never edited in place, so a night a caller holds (a page
 * already served, a change list) keeps the values it had.
 */
export class DemoDataset {
  readonly #nights = new Map<string, RoomNight>();
  #byUpdate: readonly IndexedNight[] | undefined;
  readonly #byUpdateOfProperty = new Map<string, readonly IndexedNight[]>();
  #latestUpdatedAtMs = Number.NEGATIVE_INFINITY;

  constructor(nights: Iterable<RoomNight>) {
    for (const night of nights) this.#put(night);
  }

  get size(): number {
    return this.#nights.size;
  }

  get(key: string): RoomNight | undefined {
    return this.#nights.get(key);
  }

  /** Every night, in key order. */
  nights(): RoomNight[] {
    return [...this.#nights.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, n]) => n);
  }

  /** The latest updated_at in the data set, as epoch milliseconds. */
  get latestUpdatedAtMs(): number {
    return this.#latestUpdatedAtMs;
  }

  /**
   * Every night (or one property's) ordered by (updated_at, key). Sorted once per change rather than once per
   * request, so a scan with a small page size stays linear in the number of pages.
   */
  byUpdate(propertyId?: string): readonly IndexedNight[] {
    this.#byUpdate ??= [...this.#nights.entries()]
      .map(([key, night]) => ({ updatedAtMs: Date.parse(night.updatedAt), key, night }))
      .sort(compareUpdatePosition);
    if (propertyId === undefined) return this.#byUpdate;
    let ofProperty = this.#byUpdateOfProperty.get(propertyId);
    if (!ofProperty) {
      ofProperty = this.#byUpdate.filter((entry) => entry.night.propertyId === propertyId);
      this.#byUpdateOfProperty.set(propertyId, ofProperty);
    }
    return ofProperty;
  }

  /** Replaces nights that already exist. Package-internal: use `mutateShare` or `mutateNights`. */
  replace(nights: readonly RoomNight[]): void {
    for (const night of nights) {
      const key = nightKey(night);
      if (!this.#nights.has(key)) throw new RangeError(`No room night ${key} in the data set to replace.`);
      this.#put(night);
    }
  }

  #put(night: RoomNight): void {
    this.#nights.set(nightKey(night), night);
    this.#latestUpdatedAtMs = Math.max(this.#latestUpdatedAtMs, Date.parse(night.updatedAt));
    this.#byUpdate = undefined;
    this.#byUpdateOfProperty.clear();
  }
}

const BASE_RATE_CENTS_BY_ROOM_TYPE_INDEX = [8_900, 11_900, 18_900, 24_900];
const MAX_AVAILABILITY = 20;

/** A night's base rate in minor units; the dataset only ever holds amounts toMinorUnits accepts. */
export function baseRateMinor(night: Pick<RoomNight, 'baseRate' | 'currency'>): number {
  const amountMinor = toMinorUnits(night.baseRate, night.currency);
  if (typeof amountMinor === 'string') throw new Error(amountMinor);
  return amountMinor;
}

/** Money stays in integer cents until it is written as text. */
function formatCents(cents: number): string {
  return formatMinorUnits({ amountMinor: cents, currency: 'EUR' });
}

function randomRestrictions(random: RandomSource): NightRestrictions {
  const minLengthOfStay = random() < 0.7 ? 1 : randomInt(random, 2, 4);
  const hasMax = random() < 0.2;
  return {
    minLengthOfStay,
    ...(hasMax ? { maxLengthOfStay: minLengthOfStay + randomInt(random, 3, 13) } : {}),
    closedToArrival: random() < 0.1,
    closedToDeparture: random() < 0.1,
    stopSell: random() < 0.05,
  };
}

/**
 * Builds `nights` room nights: stay dates outermost, then property, room type and rate plan, so that the
 * first N combinations are taken and every property is covered once N reaches one date's worth.
 */
export function generateDataset(input: DatasetOptions): DemoDataset {
  const options = parseOptions(DatasetOptionsSchema, input, 'demo data set options');
  const random = seededRandom(options.seed);
  const generatedAtMs = Date.parse(options.generatedAt);
  const nights: RoomNight[] = [];
  for (let day = 0; nights.length < options.nights; day++) {
    const date = addDays(options.firstDate, day);
    for (const propertyId of options.properties) {
      for (const [roomTypeIndex, roomTypeCode] of options.roomTypes.entries()) {
        for (const [ratePlanIndex, ratePlanCode] of options.ratePlans.entries()) {
          if (nights.length === options.nights) break;
          const roomBase =
            BASE_RATE_CENTS_BY_ROOM_TYPE_INDEX[roomTypeIndex % BASE_RATE_CENTS_BY_ROOM_TYPE_INDEX.length] ??
            8_900;
          // Later rate plans are cheaper (non-refundable, member), and never free however many there are.
          const planBase = Math.floor((roomBase * 10) / (10 + ratePlanIndex));
          const cents = planBase + randomInt(random, 0, 4_000);
          const secondsBefore = randomInt(random, 0, options.updateSpreadSeconds);
          nights.push({
            propertyId,
            roomTypeCode,
            ratePlanCode,
            date,
            currency: 'EUR',
            baseRate: formatCents(cents),
            availability: randomInt(random, 0, MAX_AVAILABILITY),
            restrictions: randomRestrictions(random),
            updatedAt: new Date(generatedAtMs - secondsBefore * 1000).toISOString(),
          });
        }
      }
    }
  }
  return new DemoDataset(nights);
}

export interface MutationOptions {
  /** When the changes happen; becomes their updated_at. */
  readonly at: Date;
  readonly random: RandomSource;
}

/** New values for a night: the rate always moves, so every mutation is a visible difference. */
function mutated(night: RoomNight, { at, random }: MutationOptions): RoomNight {
  const oldCents = baseRateMinor(night);
  const step = randomInt(random, 100, 2_000) * (random() < 0.5 ? -1 : 1);
  // Bounce off the floor instead of clamping, so the new rate is positive and never equal to the old one.
  const cents = oldCents + step > 0 ? oldCents + step : oldCents + Math.abs(step);
  return {
    ...night,
    baseRate: formatCents(cents),
    availability: randomInt(random, 0, MAX_AVAILABILITY),
    restrictions: random() < 0.3 ? randomRestrictions(random) : night.restrictions,
    updatedAt: at.toISOString(),
  };
}

function checkMutationTime(dataset: DemoDataset, at: Date): void {
  // updated_at only moves forward, strictly: a night changed mid-scan then sorts after every cursor already
  // handed out, which is what lets a cursor scan miss nothing. A tie could sort it behind the cursor.
  if (!(at.getTime() > dataset.latestUpdatedAtMs)) {
    throw new RangeError(
      `Mutation time ${at.toISOString()} must be later than the latest updated_at in the data set ` +
        `(${new Date(dataset.latestUpdatedAtMs).toISOString()}); pass a later time.`,
    );
  }
}

/** Changes the named nights at `at`; returns their new values in the order given. */
export function mutateNights(
  dataset: DemoDataset,
  keys: readonly string[],
  options: MutationOptions,
): RoomNight[] {
  checkMutationTime(dataset, options.at);
  if (new Set(keys).size !== keys.length)
    throw new RangeError('Each room night may be mutated once per call.');
  const changes = keys.map((key) => {
    const night = dataset.get(key);
    if (!night) throw new RangeError(`No room night ${key} in the data set.`);
    return mutated(night, options);
  });
  dataset.replace(changes);
  return changes;
}

/**
 * Changes exactly `round(share × size)` nights, picked by the random source, at `at`; returns their new
 * values in key order. This is how drift is made: change the provider's data, then deliver only some of it.
 */
export function mutateShare(
  dataset: DemoDataset,
  options: MutationOptions & { readonly share: number },
): RoomNight[] {
  if (!(options.share >= 0 && options.share <= 1)) {
    throw new RangeError(`share must be between 0 and 1, received ${options.share}`);
  }
  checkMutationTime(dataset, options.at);
  const keys = dataset.nights().map(nightKey);
  const count = Math.round(options.share * keys.length);
  // A partial Fisher-Yates shuffle: `count` distinct picks, each drawn from the same random source.
  for (let index = 0; index < count; index++) {
    const pick = randomInt(options.random, index, keys.length - 1);
    const chosen = keys[pick] as string;
    keys[pick] = keys[index] as string;
    keys[index] = chosen;
  }
  const chosen = keys.slice(0, count).sort();
  return mutateNights(dataset, chosen, options);
}
