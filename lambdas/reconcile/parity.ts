import type { ParityOptions } from '../config/reconcile-options';
import type { RoomNightState } from '../domain/state';
import type { Clock } from '../shared/clock';
import { findParityViolations, type ParityCounts, type ParityReport, parityNightId } from '../state/parity';
import type { AriStore, ParityRecord, ParityStore } from '../state/ports';

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
