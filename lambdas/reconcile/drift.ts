import type { DriftOptions } from '../config/reconcile-options';
import type { Restrictions } from '../domain/canonical';
import { sourceOfChannel } from '../domain/channel';
import type { Money } from '../domain/money';
import {
  type AvailabilityValue,
  FIELD_GROUPS,
  type FieldGroup,
  type RoomNightKey,
  type RoomNightState,
  type Version,
  type VersionedGroup,
} from '../domain/state';
import type { Clock } from '../shared/clock';
import type { AriStore } from '../state/ports';
import type { AuditLog, AuditRecord, PolledNight } from './ports';

export interface DriftDependencies {
  readonly ari: AriStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
  /** Identifies the run in versions, event ids and audit records. */
  readonly runId: string;
  /**
   * Turns the provider's availability into what is stored, so a correction obeys the same inventory constraints
   * as a webhook would (the apply pipeline's constrainAvailability). Undefined means the policy refuses the
   * figure: the group is left as it is. Defaults to storing the provider's figure unchanged.
   */
  readonly availabilityFor?: (key: RoomNightKey, requested: number) => AvailabilityValue | undefined;
}

/**
 * How a mismatched group relates in time to the local value. Only `provider_newer` is a silent miss and only it
 * is ever corrected; `local_newer` means the poll predates a change we already hold, and `same_time` cannot be
 * ordered by time at all, so neither may be overwritten by reconciliation.
 */
export type MismatchTiming = 'provider_newer' | 'local_newer' | 'same_time';

export interface Mismatch {
  readonly key: RoomNightKey;
  readonly group: FieldGroup;
  readonly local?: VersionedGroup<unknown>;
  readonly provider: unknown;
  readonly providerUpdatedAt: string;
  readonly timing: MismatchTiming;
}

export interface ClassCounts {
  readonly compared: number;
  readonly mismatched: number;
}

export interface DriftStats {
  /** Field groups the provider reported. */
  readonly compared: number;
  readonly mismatched: number;
  /** mismatched / compared × 100; 0 when nothing was compared. */
  readonly driftPercent: number;
  /** Mismatches where the provider changed the value after our last write: a webhook never reached us. */
  readonly silentMisses: number;
  readonly classes: Readonly<Record<FieldGroup, ClassCounts>>;
}

export type ScopeAction = 'corrected' | 'observed' | 'dry_run' | 'in_sync';

export interface ScopeReport extends DriftStats {
  readonly sourceId: string;
  readonly propertyId: string;
  readonly action: ScopeAction;
  /** Groups overwritten with the provider's value (one audit record each). */
  readonly correctedGroups: number;
  /**
   * Groups that were due for correction but not written: a newer value arrived between reading and writing
   * (the conditional write refused it), or the inventory policy refused the provider's figure.
   */
  readonly skippedGroups: number;
}

export interface DriftReport {
  readonly runId: string;
  readonly at: string;
  readonly thresholdPercent: number;
  readonly dryRun: boolean;
  readonly overall: DriftStats;
  readonly sources: readonly (DriftStats & { readonly sourceId: string })[];
  /** Across every source polled for the property. */
  readonly properties: readonly (DriftStats & { readonly propertyId: string })[];
  readonly scopes: readonly ScopeReport[];
  readonly mismatches: readonly Mismatch[];
}

/**
 * Compares a batch of polled room nights with local state, measures drift per source and property, and, where
 * drift exceeds the threshold, overwrites local state with the provider's values.
 *
 * Corrections use the apply pipeline's conditional write with a version derived from the provider's updatedAt,
 * so reconciliation obeys last-writer-wins like any event: a webhook newer than the poll (even one that lands
 * while the run is in progress) is never overwritten, and re-running the same batch writes nothing.
 */
export async function reconcileDrift(
  batch: readonly PolledNight[],
  deps: DriftDependencies,
  options: DriftOptions,
): Promise<DriftReport> {
  const at = deps.clock.now().toISOString();
  const polled = newestPerKey(batch);
  const local = await readLocalNights(
    deps.ari,
    polled.map((night) => night.key),
  );

  const scopes = new Map<
    string,
    { sourceId: string; propertyId: string; tally: Tally; nights: Compared[] }
  >();
  const mismatches: Mismatch[] = [];
  for (const night of polled) {
    const compared = compareNight(night, local.get(nightId(night.key)));
    const sourceId = sourceOfChannel(night.key.channel);
    const scopeId = JSON.stringify([sourceId, night.key.propertyId]);
    let scope = scopes.get(scopeId);
    if (!scope) {
      scope = { sourceId, propertyId: night.key.propertyId, tally: emptyTally(), nights: [] };
      scopes.set(scopeId, scope);
    }
    addToTally(scope.tally, compared);
    scope.nights.push(compared);
    mismatches.push(...compared.mismatches);
  }

  const scopeReports: ScopeReport[] = [];
  for (const scope of scopes.values()) {
    const stats = driftStatsOf(scope.tally);
    const scopeMismatches = scope.nights.flatMap((night) => night.mismatches);
    let action: ScopeAction = 'in_sync';
    let correctedGroups = 0;
    let skippedGroups = 0;
    if (stats.mismatched > 0 && options.dryRun) {
      action = 'dry_run';
    } else if (stats.driftPercent > options.thresholdPercent) {
      action = 'corrected';
      const outcome = await correct(scope.nights, deps, at);
      correctedGroups = outcome.corrected;
      skippedGroups = outcome.skipped;
    } else if (stats.mismatched > 0) {
      action = 'observed';
      if (options.recordObserved) {
        await deps.audit.append(scopeMismatches.map((mismatch) => observedRecord(mismatch, deps.runId, at)));
      }
    }
    scopeReports.push({
      sourceId: scope.sourceId,
      propertyId: scope.propertyId,
      ...stats,
      action,
      correctedGroups,
      skippedGroups,
    });
  }

  const bySource = new Map<string, Tally>();
  const byProperty = new Map<string, Tally>();
  const overall = emptyTally();
  for (const scope of scopes.values()) {
    addScope(bySource, scope.sourceId, scope.tally);
    addScope(byProperty, scope.propertyId, scope.tally);
    mergeTally(overall, scope.tally);
  }

  return {
    runId: deps.runId,
    at,
    thresholdPercent: options.thresholdPercent,
    dryRun: options.dryRun,
    overall: driftStatsOf(overall),
    sources: [...bySource].map(([sourceId, tally]) => ({ sourceId, ...driftStatsOf(tally) })),
    properties: [...byProperty].map(([propertyId, tally]) => ({ propertyId, ...driftStatsOf(tally) })),
    scopes: scopeReports,
    mismatches,
  };
}

/** The version a correction writes with: ordered by the provider's change time, like an event's occurredAt. */
export function reconcileVersion(updatedAt: Date, runId: string): Version {
  return `${updatedAt.toISOString()}#reconcile:${runId}`;
}

/** The eventId recorded on groups a reconciliation run wrote, so the read API shows where a value came from. */
export function reconcileEventId(runId: string): string {
  return `reconcile:${runId}`;
}

// ---------------------------------------------------------------------------------------------------------
// Comparison

interface Compared {
  readonly night: PolledNight;
  readonly local?: RoomNightState;
  readonly classes: readonly FieldGroup[];
  readonly mismatches: readonly Mismatch[];
}

function compareNight(night: PolledNight, local: RoomNightState | undefined): Compared {
  const classes: FieldGroup[] = [];
  const mismatches: Mismatch[] = [];
  for (const group of FIELD_GROUPS) {
    const provider = night[group];
    if (provider === undefined) continue;
    classes.push(group);
    const stored = local?.[group] as VersionedGroup<unknown> | undefined;
    if (stored && groupMatches(group, stored.value, provider)) continue;
    mismatches.push({
      key: night.key,
      group,
      ...(stored ? { local: stored } : {}),
      provider,
      providerUpdatedAt: night.updatedAt.toISOString(),
      timing: timingOf(stored, night.updatedAt),
    });
  }
  return { night, ...(local ? { local } : {}), classes, mismatches };
}

function groupMatches(group: FieldGroup, stored: unknown, provider: unknown): boolean {
  switch (group) {
    case 'rate':
      return moneyEqual(stored as Money, provider as Money);
    case 'availability':
      return availabilityMatches(stored as AvailabilityValue, provider as number);
    case 'restrictions':
      return restrictionsEqual(stored as Restrictions, provider as Restrictions);
  }
}

function moneyEqual(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.amountMinor === b.amountMinor;
}

/**
 * A capped value stores what the provider asked for in `requested`: the provider still (rightly) reports that
 * figure, and treating it as drift would make every capped night look wrong forever.
 */
function availabilityMatches(stored: AvailabilityValue, provider: number): boolean {
  if (stored.requested !== undefined || stored.cappedBy !== undefined) {
    return (stored.requested ?? stored.rooms) === provider;
  }
  return stored.rooms === provider;
}

/** Providers omit false flags and unset stay limits, so absence and false (or undefined) mean the same. */
function restrictionsEqual(a: Restrictions, b: Restrictions): boolean {
  return (
    a.minLengthOfStay === b.minLengthOfStay &&
    a.maxLengthOfStay === b.maxLengthOfStay &&
    (a.closedToArrival ?? false) === (b.closedToArrival ?? false) &&
    (a.closedToDeparture ?? false) === (b.closedToDeparture ?? false) &&
    (a.stopSell ?? false) === (b.stopSell ?? false)
  );
}

/**
 * Orders by instant rather than by version text: the provider's time is all we know about its change, and a
 * local version's time is the occurredAt of the event (or poll) that wrote it. A version whose time cannot be
 * read is treated as not older, so it is never overwritten on a guess.
 */
function timingOf(stored: VersionedGroup<unknown> | undefined, providerUpdatedAt: Date): MismatchTiming {
  if (!stored) return 'provider_newer';
  const hash = stored.version.indexOf('#');
  const localTime = Date.parse(hash === -1 ? stored.version : stored.version.slice(0, hash));
  if (Number.isNaN(localTime)) return 'same_time';
  const providerTime = providerUpdatedAt.getTime();
  if (providerTime > localTime) return 'provider_newer';
  return providerTime < localTime ? 'local_newer' : 'same_time';
}

// ---------------------------------------------------------------------------------------------------------
// Correction

/**
 * Nights corrected at once. Each is still its own conditional write (last writer wins per night and field group,
 * as a webhook's), but a property's drift after a lost feed can be thousands of nights: sent one after the
 * other, their round trips would take most of an item's budget.
 */
export const CORRECTION_CONCURRENCY = 16;

async function correct(
  nights: readonly Compared[],
  deps: DriftDependencies,
  at: string,
): Promise<{ corrected: number; skipped: number }> {
  let corrected = 0;
  let skipped = 0;
  const due = nights.filter((compared) =>
    compared.mismatches.some((mismatch) => mismatch.timing === 'provider_newer'),
  );
  for (let start = 0; start < due.length; start += CORRECTION_CONCURRENCY) {
    const outcomes = await Promise.all(
      due.slice(start, start + CORRECTION_CONCURRENCY).map((compared) => correctNight(compared, deps, at)),
    );
    for (const outcome of outcomes) {
      corrected += outcome.records.length;
      skipped += outcome.skipped;
    }
    const records = outcomes.flatMap((outcome) => outcome.records);
    // Appended after each chunk of writes rather than once per run, so a run cut short (timeout, crash) leaves
    // at most one chunk's overwrites unaudited.
    if (records.length > 0) await deps.audit.append(records);
  }
  return { corrected, skipped };
}

/** One night's conditional write of the groups the provider changed after us, and the audit of what it wrote. */
async function correctNight(
  compared: Compared,
  deps: DriftDependencies,
  at: string,
): Promise<{ records: AuditRecord[]; skipped: number }> {
  const due = compared.mismatches.filter((mismatch) => mismatch.timing === 'provider_newer');
  const { night } = compared;
  const write: { rate?: Money; availability?: AvailabilityValue; restrictions?: Restrictions } = {};
  for (const mismatch of due) {
    if (mismatch.group === 'rate' && night.rate) write.rate = night.rate;
    if (mismatch.group === 'restrictions' && night.restrictions) write.restrictions = night.restrictions;
    if (mismatch.group === 'availability' && night.availability !== undefined) {
      const value = deps.availabilityFor
        ? deps.availabilityFor(night.key, night.availability)
        : { rooms: night.availability };
      if (value) write.availability = value;
    }
  }
  const written = await deps.ari.writeNight(
    night.key,
    write,
    reconcileVersion(night.updatedAt, deps.runId),
    reconcileEventId(deps.runId),
  );
  const records: AuditRecord[] = written.map((group) => {
    const before = compared.local?.[group] as VersionedGroup<unknown> | undefined;
    return {
      key: night.key,
      group,
      action: 'overwritten',
      ...(before ? { before: before.value, beforeVersion: before.version } : {}),
      after: write[group],
      providerUpdatedAt: night.updatedAt.toISOString(),
      runId: deps.runId,
      at,
    };
  });
  return { records, skipped: due.length - written.length };
}

function observedRecord(mismatch: Mismatch, runId: string, at: string): AuditRecord {
  return {
    key: mismatch.key,
    group: mismatch.group,
    action: 'observed',
    ...(mismatch.local ? { before: mismatch.local.value, beforeVersion: mismatch.local.version } : {}),
    after: mismatch.provider,
    providerUpdatedAt: mismatch.providerUpdatedAt,
    runId,
    at,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Tallies

/** Counts summed across pages or scopes; `driftStatsOf` turns them into a report. */
export interface Tally {
  compared: number;
  mismatched: number;
  silentMisses: number;
  classes: Record<FieldGroup, { compared: number; mismatched: number }>;
}

export function emptyTally(): Tally {
  return {
    compared: 0,
    mismatched: 0,
    silentMisses: 0,
    classes: {
      rate: { compared: 0, mismatched: 0 },
      availability: { compared: 0, mismatched: 0 },
      restrictions: { compared: 0, mismatched: 0 },
    },
  };
}

function addToTally(tally: Tally, compared: Compared): void {
  for (const group of compared.classes) {
    tally.compared += 1;
    tally.classes[group].compared += 1;
  }
  for (const mismatch of compared.mismatches) {
    tally.mismatched += 1;
    tally.classes[mismatch.group].mismatched += 1;
    if (mismatch.timing === 'provider_newer') tally.silentMisses += 1;
  }
}

export function mergeTally(
  into: Tally,
  from: Pick<DriftStats, 'compared' | 'mismatched' | 'silentMisses' | 'classes'>,
): void {
  into.compared += from.compared;
  into.mismatched += from.mismatched;
  into.silentMisses += from.silentMisses;
  for (const group of FIELD_GROUPS) {
    into.classes[group].compared += from.classes[group].compared;
    into.classes[group].mismatched += from.classes[group].mismatched;
  }
}

function addScope(totals: Map<string, Tally>, id: string, tally: Tally): void {
  const total = totals.get(id) ?? emptyTally();
  mergeTally(total, tally);
  totals.set(id, total);
}

/** Percentages come from summed counts: averaging per-page percentages would weight pages wrongly. */
export function driftStatsOf(tally: Tally): DriftStats {
  return {
    compared: tally.compared,
    mismatched: tally.mismatched,
    // Multiplying first keeps round figures exact (60 of 3000 is 2, not 2.0000000000000004).
    driftPercent: tally.compared === 0 ? 0 : (tally.mismatched * 100) / tally.compared,
    silentMisses: tally.silentMisses,
    classes: {
      rate: { ...tally.classes.rate },
      availability: { ...tally.classes.availability },
      restrictions: { ...tally.classes.restrictions },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Keys and local reads

export function nightId(key: RoomNightKey): string {
  return JSON.stringify([key.propertyId, key.roomTypeId, key.ratePlanId, key.channel, key.date]);
}

/** Overlapping pages of a poll can report a night twice: the newest report is the provider's current view. */
function newestPerKey(batch: readonly PolledNight[]): PolledNight[] {
  const newest = new Map<string, PolledNight>();
  for (const night of batch) {
    const id = nightId(night.key);
    const seen = newest.get(id);
    if (!seen || night.updatedAt.getTime() > seen.updatedAt.getTime()) newest.set(id, night);
  }
  return [...newest.values()];
}

/**
 * Reads exactly the nights in the batch, by key. Provider pages are ordered by update time, not stay date, so a
 * page's nights are scattered over the whole calendar: reading each property's date span instead would re-read
 * most of the property for every page, and a full pass would cost pages × nights reads.
 */
async function readLocalNights(
  ari: AriStore,
  keys: readonly RoomNightKey[],
): Promise<Map<string, RoomNightState>> {
  const found = new Map<string, RoomNightState>();
  for (const state of await ari.readNightsByKey(keys)) found.set(nightId(state.key), state);
  return found;
}
