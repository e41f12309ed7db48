import type { ParityOptions, ParityTolerance } from '../config/reconcile-options';
import type { RoomNightState } from '../domain/state';
import type { CurrencyMismatch, ParityFinding, ParityNightKey, PriceViolation } from './ports';

/**
 * Rate parity's comparison, in one home for the scheduled sweep (reconcile) and for the check of each changed
 * night (parity on change).
 */

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

export function parityNightId(key: ParityNightKey): string {
  return JSON.stringify([key.propertyId, key.date, key.roomTypeId, key.ratePlanId]);
}
