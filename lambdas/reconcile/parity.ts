import type { ParityOptions, ParityTolerance } from '../config/reconcile-options';
import type { RoomNightState } from '../domain/state';
import type { Clock } from '../shared/clock';
import type {
  AriStore,
  CurrencyMismatch,
  ParityFinding,
  ParityNightKey,
  ParityRecord,
  ParityStore,
  PriceViolation,
} from '../state/ports';

export interface ParityCounts {
  /** Room nights (across channels) that had a truth rate and were checked, including clean ones. */
  readonly nightsChecked: number;
  /** Channel rates compared with a truth rate in the same currency. */
  readonly comparisons: number;
  readonly violations: number;
  readonly currencyMismatches: number;
  /** Room nights skipped because the source of truth holds no rate for them. */
  readonly withoutTruthRate: number;
  /** Room nights skipped because their property has no source of truth configured. */
  readonly unconfigured: number;
}

export interface ParityReport {
  readonly violations: readonly PriceViolation[];
  readonly currencyMismatches: readonly CurrencyMismatch[];
  /** Every checked night with its findings (possibly none), so a store can clear nights that became clean. */
  readonly nights: readonly { readonly key: ParityNightKey; readonly findings: readonly ParityFinding[] }[];
  readonly counts: ParityCounts;
}

/**
 * Compares, per room night, the source of truth's rate with every other channel's rate for the same property,
 * room type, rate plan and date. Pure: the caller decides where the nights come from and where findings go.
 */
export function findParityViolations(
  nights: readonly RoomNightState[],
  options: ParityOptions,
): ParityReport {
  const settings = new Map(options.properties.map((property) => [property.propertyId, property]));
  const groups = new Map<string, { key: ParityNightKey; channels: RoomNightState[] }>();
  for (const night of nights) {
    const key: ParityNightKey = {
      propertyId: night.key.propertyId,
      roomTypeId: night.key.roomTypeId,
      ratePlanId: night.key.ratePlanId,
      date: night.key.date,
    };
    const id = parityNightId(key);
    const group = groups.get(id) ?? { key, channels: [] };
    group.channels.push(night);
    groups.set(id, group);
  }

  const violations: PriceViolation[] = [];
  const currencyMismatches: CurrencyMismatch[] = [];
  const checked: { key: ParityNightKey; findings: ParityFinding[] }[] = [];
  let comparisons = 0;
  let withoutTruthRate = 0;
  let unconfigured = 0;
  for (const { key, channels } of groups.values()) {
    const property = settings.get(key.propertyId);
    if (!property) {
      unconfigured += 1;
      continue;
    }
    const truthChannel = property.sourceOfTruth;
    const truthRate = channels.find((night) => night.key.channel === truthChannel)?.rate?.value;
    if (!truthRate) {
      withoutTruthRate += 1;
      continue;
    }
    const tolerance = property.tolerance ?? options.defaultTolerance;
    const findings: ParityFinding[] = [];
    for (const night of channels) {
      const channelRate = night.rate?.value;
      if (night.key.channel === truthChannel || !channelRate) continue;
      const base = { key, truthChannel, channel: night.key.channel, truthRate, channelRate };
      if (channelRate.currency !== truthRate.currency) {
        const mismatch: CurrencyMismatch = { kind: 'currency_mismatch', ...base };
        findings.push(mismatch);
        currencyMismatches.push(mismatch);
        continue;
      }
      comparisons += 1;
      const violation = priceViolation(base, tolerance);
      if (violation) {
        findings.push(violation);
        violations.push(violation);
      }
    }
    checked.push({ key, findings });
  }

  return {
    violations,
    currencyMismatches,
    nights: checked,
    counts: {
      nightsChecked: checked.length,
      comparisons,
      violations: violations.length,
      currencyMismatches: currencyMismatches.length,
      withoutTruthRate,
      unconfigured,
    },
  };
}

function priceViolation(
  base: Omit<PriceViolation, 'kind' | 'difference' | 'percent'>,
  tolerance: ParityTolerance,
): PriceViolation | undefined {
  const difference = base.channelRate.amountMinor - base.truthRate.amountMinor;
  const magnitude = Math.abs(difference);
  const truth = base.truthRate.amountMinor;
  if (!exceedsTolerance(magnitude, truth, tolerance)) return undefined;
  return {
    kind: 'price',
    ...base,
    difference,
    ...(truth === 0 ? {} : { percent: (magnitude * 100) / truth }),
  };
}

/**
 * Compares in integers where it can (`magnitude × 100 > percent × truth` rather than dividing), so a difference
 * of exactly the tolerance is not a violation however the percentage rounds.
 */
function exceedsTolerance(magnitude: number, truth: number, tolerance: ParityTolerance): boolean {
  const { absoluteMinor, percent } = tolerance;
  if (absoluteMinor === undefined && percent === undefined) return magnitude > 0;
  if (absoluteMinor !== undefined && magnitude > absoluteMinor) return true;
  return percent !== undefined && magnitude * 100 > percent * truth;
}

function parityNightId(key: ParityNightKey): string {
  return JSON.stringify([key.propertyId, key.date, key.roomTypeId, key.ratePlanId]);
}

export interface ParityDependencies {
  readonly ari: AriStore;
  readonly store: ParityStore;
  readonly clock: Clock;
}

export interface ParityCheck {
  readonly propertyId: string;
  /** First stay date, inclusive, YYYY-MM-DD. */
  readonly from: string;
  /** Last stay date, inclusive. */
  readonly to: string;
}

const READ_PAGE_SIZE = 1000;

/**
 * Checks one property's nights over a date range from local state and stores the findings of every night out
 * of parity (an empty list clears a night that became clean). Nights are read page by page; since the store returns
 * them in date order, the nights of the last date on a page are held back until the next page, so the channels
 * of one night are always compared together without loading the whole range at once.
 */
export async function checkPropertyParity(
  check: ParityCheck,
  deps: ParityDependencies,
  options: ParityOptions,
): Promise<ParityReport> {
  const checkedAt = deps.clock.now().toISOString();
  // Most nights are in parity, and a clean night is stored as nothing: only nights with findings now, and
  // nights that had findings before (to clear them), are written. A year of nights × channels per property
  // and run would otherwise cost a write each.
  const previouslyFlagged = await flaggedNights(check, deps.store);
  const reports: ParityReport[] = [];
  const run = async (nights: readonly RoomNightState[]) => {
    if (nights.length === 0) return;
    const report = findParityViolations(nights, options);
    for (const night of report.nights) {
      if (night.findings.length === 0 && !previouslyFlagged.has(parityNightId(night.key))) continue;
      await deps.store.putNight({ ...night, checkedAt } satisfies ParityRecord);
    }
    reports.push(report);
  };

  let pending: RoomNightState[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.ari.readNights({
      propertyId: check.propertyId,
      from: check.from,
      to: check.to,
      limit: READ_PAGE_SIZE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    cursor = page.cursor;
    const nights = [...pending, ...page.items];
    const lastDate = nights.at(-1)?.key.date;
    const complete = cursor === undefined ? nights : nights.filter((night) => night.key.date !== lastDate);
    pending = cursor === undefined ? [] : nights.filter((night) => night.key.date === lastDate);
    await run(complete);
  } while (cursor !== undefined);

  return mergeReports(reports);
}

const FLAGGED_PAGE_SIZE = 500;

/** The nights of the range that hold findings now: few, since only nights out of parity are stored. */
async function flaggedNights(check: ParityCheck, store: ParityStore): Promise<Set<string>> {
  const flagged = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await store.list({
      ...check,
      limit: FLAGGED_PAGE_SIZE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const record of page.items) flagged.add(parityNightId(record.key));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return flagged;
}

function mergeReports(reports: readonly ParityReport[]): ParityReport {
  const sum = (pick: (counts: ParityCounts) => number) =>
    reports.reduce((total, report) => total + pick(report.counts), 0);
  return {
    violations: reports.flatMap((report) => report.violations),
    currencyMismatches: reports.flatMap((report) => report.currencyMismatches),
    nights: reports.flatMap((report) => report.nights),
    counts: {
      nightsChecked: sum((counts) => counts.nightsChecked),
      comparisons: sum((counts) => counts.comparisons),
      violations: sum((counts) => counts.violations),
      currencyMismatches: sum((counts) => counts.currencyMismatches),
      withoutTruthRate: sum((counts) => counts.withoutTruthRate),
      unconfigured: sum((counts) => counts.unconfigured),
    },
  };
}
