import type { LedgerStatus } from './statuses';

/** A replay job's life: `running` until its last page is done, it is cancelled, or it fails for good. */
export const REPLAY_JOB_STATUSES = ['running', 'done', 'cancelled', 'failed'] as const;
export type ReplayJobStatus = (typeof REPLAY_JOB_STATUSES)[number];

/** What an operator asked to replay: the source's events received in [from, to) whose entry is in a status. */
export interface ReplayRequest {
  readonly source: string;
  /** Instants of receipt, as Date#toISOString writes them: `from` inclusive, `to` exclusive. */
  readonly from: string;
  readonly to: string;
  readonly statuses: readonly LedgerStatus[];
}

export interface ReplayCounts {
  /** Delivery log rows the job read. */
  readonly matched: number;
  /** Events sent back to the events queue. */
  readonly replayed: number;
  /** Rows whose event the ledger did not keep (too large, or gone): counted, not sent. */
  readonly notRetained: number;
}

export const NO_COUNTS: ReplayCounts = { matched: 0, replayed: 0, notRetained: 0 };

/** Where a job goes on: which of its statuses it is reading, and the delivery log cursor within it. */
export interface ReplayCursor {
  /** An index into the request's statuses; equal to their number once every status is read. */
  readonly status: number;
  readonly page?: string;
}

export interface ReplayJob {
  readonly jobId: string;
  readonly status: ReplayJobStatus;
  readonly request: ReplayRequest;
  readonly counts: ReplayCounts;
  readonly cursor: ReplayCursor;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly error?: string;
}

/** One page's progress: from the cursor it was read at to the next (`done` once nothing is left). */
export interface ReplayStep {
  readonly from: ReplayCursor;
  readonly to: ReplayCursor;
  readonly done: boolean;
  readonly add: ReplayCounts;
  readonly at: string;
}

/** Replay jobs, in the Controls table as `replay#<jobId>`. */
export interface ReplayJobStore {
  /** Stores a new job; a job id is never reused. */
  create(job: ReplayJob): Promise<void>;
  get(jobId: string): Promise<ReplayJob | undefined>;
  /** A running job becomes cancelled; any other stays as it is. The job as it is after, undefined if unknown. */
  cancel(jobId: string, at: string): Promise<ReplayJob | undefined>;
  /**
   * Adds a page's counts and moves the cursor (marking the job done after its last page), only while the job is
   * running and still at `step.from`: false when it was cancelled meanwhile or another delivery of the same work
   * message recorded the page first.
   */
  advance(jobId: string, step: ReplayStep): Promise<boolean>;
  /** A running job becomes failed, with why. */
  fail(jobId: string, error: string, at: string): Promise<void>;
}
