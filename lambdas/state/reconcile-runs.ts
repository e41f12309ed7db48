import type { IsoDate } from '../domain/canonical';
import type { Page } from '../domain/page';

/**
 * Fanned-out reconciliation runs: a run is planned as work items, workers take them one at a time, and each item's
 * figures are added to its run exactly once, when the item's claim turns into `done` or `failed`. The run is
 * complete once every planned item finished. Kept in the RECONCILE_RUN_LOG table; read by the worker that
 * completes a run and by the read API's `/reconciliation/runs` routes.
 */

/** One unit of a run's work: a polled source (or one of its properties), or a property's window of stay dates. */
export type WorkItem =
  | {
      readonly kind: 'drift';
      readonly runId: string;
      readonly itemId: string;
      readonly sourceId: string;
      readonly propertyId?: string;
    }
  | {
      readonly kind: 'parity';
      readonly runId: string;
      readonly itemId: string;
      readonly propertyId: string;
      readonly window: { readonly from: IsoDate; readonly to: IsoDate };
    };

/** A polled source's drift figures, summed over its items. */
export interface DriftFigures {
  readonly nightsPolled: number;
  readonly pages: number;
  readonly requests: number;
  readonly throttled: number;
  readonly retries: number;
  /** Nights skipped: malformed, or not mapped. */
  readonly skipped: number;
  /** Field groups compared, mismatched, and mismatched because a webhook never arrived. */
  readonly compared: number;
  readonly mismatched: number;
  readonly silentMisses: number;
  readonly correctedGroups: number;
  readonly skippedCorrections: number;
  /** Items that stopped at their time budget (their next run resumes from the saved cursor). */
  readonly budgetExhausted: number;
}

export const DRIFT_FIGURES = [
  'nightsPolled',
  'pages',
  'requests',
  'throttled',
  'retries',
  'skipped',
  'compared',
  'mismatched',
  'silentMisses',
  'correctedGroups',
  'skippedCorrections',
  'budgetExhausted',
] as const satisfies readonly (keyof DriftFigures)[];

export const NO_DRIFT: DriftFigures = Object.fromEntries(DRIFT_FIGURES.map((name) => [name, 0])) as Record<
  keyof DriftFigures,
  number
>;

export interface ParityFigures {
  readonly nightsChecked: number;
  readonly violations: number;
  readonly currencyMismatches: number;
}

export const PARITY_FIGURES = [
  'nightsChecked',
  'violations',
  'currencyMismatches',
] as const satisfies readonly (keyof ParityFigures)[];

export const NO_PARITY: ParityFigures = { nightsChecked: 0, violations: 0, currencyMismatches: 0 };

/** How many of a run's (or a source's) items were planned and how many ended, either way. */
export interface ItemCounts {
  readonly planned: number;
  readonly done: number;
  readonly failed: number;
}

/**
 * A run's parity sweep as planned: these properties, from `from` over `horizonDays` stay dates. Kept with the run,
 * so that the worker sending its items sends the very windows counted when it was planned, whatever the
 * configuration deployed since.
 */
export interface ParitySweepPlan {
  readonly propertyIds: readonly string[];
  readonly from: IsoDate;
  readonly horizonDays: number;
}

/** What a run is asked to do, as its planner decided it. */
export interface RunPlan {
  readonly runId: string;
  readonly startedAt: string;
  readonly trigger: 'schedule' | 'manual';
  readonly dryRun: boolean;
  readonly thresholdPercent: number;
  /** Every item of the run; the store keeps their count per source and overall. */
  readonly items: readonly WorkItem[];
  /** Its parity sweep, whose items are among `items`, when it has one. */
  readonly parity?: ParitySweepPlan;
}

/** What one finished item adds to its run. */
export type ItemOutcome =
  | {
      readonly status: 'done';
      readonly drift?: {
        readonly figures: DriftFigures;
        /** The same figures per internal property the item's nights belong to. */
        readonly properties: readonly (PropertyDrift & { readonly propertyId: string })[];
      };
      readonly parity?: ParityFigures;
      /** The item's full result (JSON), kept for the run's completion: metrics and the summary log. */
      readonly result: string;
      readonly finishedAt: string;
    }
  | {
      readonly status: 'failed';
      /** A machine code: `circuit_open`, a provider error, `internal_error`, `receives_exhausted`… */
      readonly error: string;
      readonly message: string;
      readonly result?: string;
      readonly finishedAt: string;
    };

/** An internal property's share of an item's drift, and what the item did about it. */
export interface PropertyDrift {
  readonly compared: number;
  readonly mismatched: number;
  readonly silentMisses: number;
  /** `corrected`, `observed`, `dry_run` or `in_sync`. */
  readonly action: string;
}

/** Why a claim was refused. */
export type ClaimOutcome =
  | { readonly claimed: true }
  /** The item ended already: a redelivery, acknowledged without work. */
  | { readonly claimed: false; readonly reason: 'finished' }
  /** Another delivery holds it and its lease has not run out. */
  | { readonly claimed: false; readonly reason: 'leased' };

export type RunStatus = 'running' | 'complete';

/** The state of a work item as the run log holds it. */
export interface WorkItemRecord {
  readonly itemId: string;
  readonly kind: WorkItem['kind'];
  readonly status: 'running' | 'done' | 'failed';
  readonly sourceId?: string;
  readonly propertyId?: string;
  readonly claimedAt: string;
  readonly finishedAt?: string;
  /** A machine code for a failed item: `circuit_open`, a provider error, `internal_error`, `receives_exhausted`… */
  readonly error?: string;
  readonly message?: string;
  readonly result?: string;
  readonly properties?: readonly (PropertyDrift & { readonly propertyId: string })[];
}

export interface SourceFigures extends DriftFigures, ItemCounts {
  readonly sourceId: string;
}

/** A run as listed: its header, with its sources' summed figures. */
export interface RunSummary extends ItemCounts {
  readonly runId: string;
  readonly status: RunStatus;
  readonly trigger: 'schedule' | 'manual';
  readonly startedAt: string;
  readonly completedAt?: string;
  readonly dryRun: boolean;
  readonly thresholdPercent: number;
  readonly parity: ParityFigures & ItemCounts;
  readonly sources: readonly SourceFigures[];
}

/** A run in full: its summary and every item claimed so far. */
export interface RunDetail extends RunSummary {
  readonly items: readonly WorkItemRecord[];
}

export interface RunQuery {
  /** Only runs that polled this source; their entries then carry that source's figures alone. */
  readonly sourceId?: string;
  /** Runs started from `from` (inclusive) to `to` (exclusive), ISO-8601 instants. */
  readonly from: string;
  readonly to: string;
  readonly limit: number;
  readonly cursor?: string;
}

export interface ReconcileRunStore {
  /** Records a planned run, unless one of the same id exists: then false, and nothing changes. */
  create(plan: RunPlan): Promise<boolean>;
  /**
   * Takes an item for one delivery (`attempt`) until `leaseUntil`: an item nobody claimed, or one whose holder's
   * lease ran out (it died or timed out). A finished item is never claimed again.
   */
  claim(item: WorkItem, attempt: string, claimedAt: string, leaseUntil: string): Promise<ClaimOutcome>;
  /**
   * Ends a claimed item and adds its figures to the run and its source, in one write, only while `attempt` holds
   * the claim: false when another delivery took it over or finished it first (nothing is added twice).
   */
  finish(item: WorkItem, attempt: string, outcome: ItemOutcome): Promise<boolean>;
  /**
   * Ends an item whose message's receives ran out as failed, unless it finished or a delivery holds it under a
   * lease that has not run out at `outcome.finishedAt`: counted once like any other end. `attempt` names the
   * caller's own claim, which it may end under its live lease (its work failed after the claim).
   */
  abandon(
    item: WorkItem,
    outcome: ItemOutcome & { readonly status: 'failed' },
    attempt?: string,
  ): Promise<boolean>;
  /**
   * The run's parity sweep when its items are due to be sent: it has one, every drift item ended (parity reads
   * the state the drift items corrected), and nobody marked them sent yet; undefined otherwise.
   */
  parityDue(runId: string): Promise<ParitySweepPlan | undefined>;
  markParitySent(runId: string, at: string): Promise<void>;
  /** Marks the run complete once every planned item ended: true for the one caller that did so. */
  complete(runId: string, at: string): Promise<boolean>;
  get(runId: string): Promise<RunDetail | undefined>;
  /** Runs newest first. */
  list(query: RunQuery): Promise<Page<RunSummary>>;
  /** The most recently started run, if any. */
  latest(): Promise<RunSummary | undefined>;
  /**
   * Takes the parity sweep for a run planned at `at` when the last one was taken at or before `dueBy` (or never):
   * true for one planner, so that two runs never both sweep.
   */
  takeParitySweep(at: string, dueBy: string): Promise<boolean>;
}

/** mismatched / compared in percent, as the drift report computes it; 0 when nothing was compared. */
export function driftPercentOf(figures: Pick<DriftFigures, 'compared' | 'mismatched'>): number {
  return figures.compared === 0 ? 0 : (figures.mismatched * 100) / figures.compared;
}
