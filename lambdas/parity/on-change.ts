import type { ParityOptions } from '../config/reconcile-options';
import { addDays } from '../domain/dates';
import type { RoomNightState } from '../domain/state';
import type { Clock } from '../shared/clock';
import { findParityViolations } from '../state/parity';
import type { ParityNightKey, ParityRecord, ParityStore } from '../state/ports';

/** One room night's state on every channel: the ARI store's `readNightChannels`. */
export interface NightChannelsReader {
  readNightChannels(key: ParityNightKey): Promise<readonly RoomNightState[]>;
}

/** The findings store, with the single-night read a change needs to know whether there is anything to clear. */
export interface ParityNightStore extends Pick<ParityStore, 'putNight'> {
  getNight(key: ParityNightKey): Promise<ParityRecord | undefined>;
}

export interface ParityOnChangeDependencies {
  readonly ari: NightChannelsReader;
  readonly store: ParityNightStore;
  readonly clock: Clock;
}

export interface ParityOnChangeSettings {
  readonly parity: ParityOptions;
  /** The stay dates the scheduled sweep checks, from today: a change outside them is left alone, as it does. */
  readonly horizonDays: number;
}

/** What happened to one changed night. */
export type NightOutcome =
  /** Its property has no parity configured, or its date is outside the horizon: nothing read. */
  | 'skipped'
  /** The source of truth holds no rate for it: read, nothing written, exactly as the sweep leaves it. */
  | 'without_truth_rate'
  /** Checked and clean, with no findings to clear: nothing written. */
  | 'clean'
  /** Out of parity: its findings written (new ones, or the same again). */
  | 'flagged'
  /** Back in parity: its earlier findings cleared. */
  | 'cleared';

export interface ChangedNightsResult {
  readonly outcomes: ReadonlyMap<string, NightOutcome>;
  /** The nights whose check failed, by nightId, with the error: to be retried. */
  readonly failures: ReadonlyMap<string, unknown>;
}

/** One id per room night across channels, for grouping changes to the same night. */
export function nightId(key: ParityNightKey): string {
  return JSON.stringify([key.propertyId, key.date, key.roomTypeId, key.ratePlanId]);
}

/**
 * Re-checks the parity of one changed room night exactly as the scheduled sweep checks it (the same
 * `findParityViolations`, the same write rule: findings are written, a clean night is written only to clear
 * earlier findings). Reads the night's channels with one Query and its current findings with one read: channels
 * + 1 items, whatever the horizon.
 */
export async function checkNightParity(
  key: ParityNightKey,
  deps: ParityOnChangeDependencies,
  settings: ParityOnChangeSettings,
): Promise<NightOutcome> {
  const now = deps.clock.now();
  const today = now.toISOString().slice(0, 10);
  const lastDate = addDays(today, settings.horizonDays - 1);
  const configured = settings.parity.properties.some((property) => property.propertyId === key.propertyId);
  if (!configured || key.date < today || key.date > lastDate) return 'skipped';

  const channels = await deps.ari.readNightChannels(key);
  const [night] = findParityViolations(channels, settings.parity).nights;
  if (night === undefined) return 'without_truth_rate';
  if (night.findings.length === 0 && (await deps.store.getNight(key)) === undefined) return 'clean';
  await deps.store.putNight({ ...night, checkedAt: now.toISOString() });
  return night.findings.length === 0 ? 'cleared' : 'flagged';
}

/**
 * Checks each distinct night among `keys` once (a bulk rate push changes one night on many channels), at most
 * `concurrency` at a time. A failed night does not stop the others: it is reported for its changes to be retried.
 */
export async function checkChangedNights(
  keys: readonly ParityNightKey[],
  deps: ParityOnChangeDependencies,
  settings: ParityOnChangeSettings,
  concurrency = 8,
): Promise<ChangedNightsResult> {
  const distinct = new Map<string, ParityNightKey>();
  for (const key of keys) {
    const { propertyId, date, roomTypeId, ratePlanId } = key;
    distinct.set(nightId(key), { propertyId, date, roomTypeId, ratePlanId });
  }
  const outcomes = new Map<string, NightOutcome>();
  const failures = new Map<string, unknown>();
  const queue = [...distinct.entries()];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [id, key] = next;
      try {
        outcomes.set(id, await checkNightParity(key, deps, settings));
      } catch (error) {
        failures.set(id, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
  return { outcomes, failures };
}
