import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import type { ParitySyncConfig } from '../config/schema';
import { addDays } from '../domain/dates';
import type { WorkQueue } from '../queue/sqs-work-queue';
import type { Clock } from '../shared/clock';
import { ConflictError, ProviderFailureError, UnavailableError } from '../shared/errors';
import type {
  DriftFigures,
  ItemOutcome,
  ParitySweepPlan,
  ReconcileRunStore,
  RunDetail,
  WorkItem,
  WorkItemRecord,
} from '../state/reconcile-runs';
import { checkPropertyParity } from './parity';
import type { AuditLog } from './ports';
import type { ReconcileRuntime } from './runtime';
import {
  CircuitKeeper,
  type ParityResult,
  type ProgressEvent,
  polledSources,
  type ReconcileReport,
  type ReconcileRequest,
  reconcileScan,
  type Scan,
  type SourceResult,
  scansOf,
  selectSources,
} from './service';

/**
 * Reconciliation fanned out: the scheduled function plans a run as work items on the RECONCILE_WORK queue, and
 * workers (as many at once as `reconciliation.workers`) take them one by one. A drift item is one scan of today's
 * serial run (a polled source, or one property of a source polled per property), run by the same
 * `runReconciliation` with its own checkpoint; the provider's inventory API takes no stay-date range, so a scan
 * cannot be split further. A parity item is one property's window of stay dates, checked by `checkPropertyParity`.
 *
 * Every item is claimed in the run log before it runs and ended there once, with its figures: a redelivered item
 * that ended is acknowledged without work, and one whose worker died runs again once its lease has run out. The
 * worker that ends a run's last item completes the run, and the run's metrics and summary come from it alone. An
 * item whose worker Lambda stopped on every receive reaches the work DLQ, whose consumer ends it as failed
 * (`endDeadLetteredItem`), so that no run waits STALE_RUN_HOURS for it.
 */

/** Stay dates per parity item: a month, so that a year's sweep of a property is a dozen items. */
export const PARITY_WINDOW_NIGHTS = 31;

/** A run still going after this long no longer holds the next one back: its items are presumed lost. */
export const STALE_RUN_HOURS = 24;

/** What goes on the work queue: the item, and what its worker needs of the run without reading it. */
export type WorkMessage = WorkItem & {
  /** When the run started: its audit records carry this instant, so an item run twice writes them once. */
  readonly startedAt: string;
  readonly dryRun: boolean;
};

const IsoDateSchema = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/));
const Id = z.string().check(z.minLength(1), z.maxLength(512));
const RunFields = { runId: Id, itemId: Id, startedAt: z.iso.datetime(), dryRun: z.boolean() };

export const WorkMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('drift'), ...RunFields, sourceId: Id, propertyId: z.optional(Id) }),
  z.strictObject({
    kind: z.literal('parity'),
    ...RunFields,
    propertyId: Id,
    window: z.strictObject({ from: IsoDateSchema, to: IsoDateSchema }),
  }),
]);

// ------------------------------------------------------------------------------------------------- planning

export interface PlanRequest extends ReconcileRequest {
  readonly trigger: 'schedule' | 'manual';
  /** The EventBridge event of a scheduled run: the run's id derives from it, so a retried plan is the same run. */
  readonly eventId?: string;
}

export interface PlannerDependencies {
  readonly config: ParitySyncConfig;
  readonly runs: ReconcileRunStore;
  readonly work: WorkQueue<WorkMessage>;
  readonly clock: Clock;
  readonly newRunId?: () => string;
}

export type PlannedRun =
  | {
      readonly outcome: 'planned';
      readonly runId: string;
      readonly startedAt: string;
      readonly dryRun: boolean;
      readonly driftItems: number;
      readonly parityItems: number;
      /** A scan label per drift item (`<sourceId>` or `<sourceId> <propertyId>`), as the serial run's plan. */
      readonly scans: readonly string[];
      readonly parityProperties: readonly string[];
    }
  | { readonly outcome: 'skipped'; readonly reason: 'previous_run_in_progress'; readonly runId: string };

/** A run was asked for while the previous one still has work queued or running. */
export class RunInProgressError extends ConflictError {
  constructor(runId: string) {
    super(
      'run_in_progress',
      `Reconciliation run ${runId} is still in progress (its work items are queued or running); wait for it to ` +
        'complete (GET /reconciliation/runs/{runId}) and ask again.',
    );
  }
}

/** A run id that sorts by time: `<yyyymmddThhmmssZ>-<hex>`. */
export function runIdAt(at: Date, entropy = randomBytes(4).toString('hex')): string {
  return `${at.toISOString().replace(/[-:]|\.\d{3}/g, '')}-${entropy}`;
}

/**
 * Plans one run: its drift items (a source, or one per property of a source polled per property), and, when
 * the parity sweep is due (or asked for), one parity item per property and window of stay dates. The run is
 * recorded before its messages are sent; a plan retried for the same scheduled event finds the run and sends
 * its items again, which the workers take as redeliveries. A run is not planned while the previous one is in
 * progress: two runs of one scan would race on its checkpoint.
 */
export async function planRun(request: PlanRequest, deps: PlannerDependencies): Promise<PlannedRun> {
  const { config, clock, runs } = deps;
  const now = clock.now();
  const runId =
    request.eventId === undefined
      ? (deps.newRunId ?? (() => runIdAt(now)))()
      : `sched-${createHash('sha256').update(request.eventId).digest('hex').slice(0, 16)}`;
  const existing = request.eventId === undefined ? undefined : await runs.get(runId);
  const startedAt = existing?.startedAt ?? now.toISOString();
  const dryRun = existing?.dryRun ?? request.dryRun ?? config.reconciliation.drift.dryRun;
  const scans = scansOf(selectSources(config, request.sourceIds));

  let sweep: boolean;
  if (existing) {
    sweep = existing.parity.planned > 0;
  } else {
    const latest = await runs.latest();
    const staleBefore = now.getTime() - STALE_RUN_HOURS * 3_600_000;
    if (latest?.status === 'running' && Date.parse(latest.startedAt) > staleBefore) {
      if (request.trigger === 'manual') throw new RunInProgressError(latest.runId);
      return { outcome: 'skipped', reason: 'previous_run_in_progress', runId: latest.runId };
    }
    sweep = await paritySweepDue(request, deps, now);
  }

  const drift: WorkItem[] = scans.map((scan) => driftItem(runId, scan));
  const plan: ParitySweepPlan | undefined = sweep
    ? {
        propertyIds: config.parity.properties.map((property) => property.propertyId),
        from: startedAt.slice(0, 10),
        horizonDays: config.reconciliation.parityHorizonDays,
      }
    : undefined;
  const parity = plan ? parityItemsOf(runId, plan) : [];
  if (!existing) {
    await runs.create({
      runId,
      startedAt,
      trigger: request.trigger,
      dryRun,
      thresholdPercent: config.reconciliation.drift.thresholdPercent,
      items: [...drift, ...parity],
      ...(plan ? { parity: plan } : {}),
    });
  }
  try {
    await deps.work.send(drift.map((item) => ({ ...item, startedAt, dryRun })));
  } catch (error) {
    // Items whose message never left would hold the run open (and the next plans back) for STALE_RUN_HOURS:
    // they end as failed; one already claimed by a worker is left to it, and a message that did leave finds
    // its item ended. A retried scheduled plan finds the run and sends nothing twice.
    if (!existing) await abandonUnsent(runId, [...drift, ...parity], error, deps);
    throw error;
  }
  // Without drift items the parity items are due at once; a retried plan sends them again if they still are.
  await sendParityIfDue({ runId, startedAt, dryRun }, { runs, work: deps.work, clock });
  // A run with nothing to do is complete as soon as it is planned.
  if (drift.length + parity.length === 0) await runs.complete(runId, clock.now().toISOString());
  return {
    outcome: 'planned',
    runId,
    startedAt,
    dryRun,
    driftItems: drift.length,
    parityItems: parity.length,
    scans: scans.map((scan) => scanLabel(scan)),
    parityProperties: plan?.propertyIds ?? [],
  };
}

async function abandonUnsent(
  runId: string,
  items: readonly WorkItem[],
  cause: unknown,
  deps: PlannerDependencies,
): Promise<void> {
  const message = `its work item could not be sent: ${cause instanceof Error ? cause.message : String(cause)}`;
  for (const item of items) {
    await deps.runs
      .abandon(item, {
        status: 'failed',
        error: 'not_sent',
        message,
        finishedAt: deps.clock.now().toISOString(),
      })
      .catch(() => undefined);
  }
  await deps.runs.complete(runId, deps.clock.now().toISOString()).catch(() => undefined);
}

/**
 * A scheduled run sweeps when `paritySweepHours` passed since the last sweep; a manual one sweeps unless told
 * not to, as the serial run always did. A sweep asked for starts the period again from now.
 */
async function paritySweepDue(request: PlanRequest, deps: PlannerDependencies, now: Date): Promise<boolean> {
  const asked = request.parity ?? (request.trigger === 'manual' ? true : undefined);
  if (asked === false || deps.config.parity.properties.length === 0) return false;
  const at = now.toISOString();
  const dueBy = new Date(
    now.getTime() - deps.config.reconciliation.paritySweepHours * 3_600_000,
  ).toISOString();
  return deps.runs.takeParitySweep(at, asked === true ? at : dueBy);
}

/** A run's parity items: each property of its sweep over the sweep's horizon, a window at a time. */
function parityItemsOf(runId: string, plan: ParitySweepPlan): WorkItem[] {
  return plan.propertyIds.flatMap((propertyId) =>
    windows(plan.from, plan.horizonDays).map(
      (window): WorkItem => ({
        kind: 'parity',
        runId,
        itemId: `parity/${encodeURIComponent(propertyId)}/${window.from}`,
        propertyId,
        window,
      }),
    ),
  );
}

/**
 * Sends the run's parity items once its drift items all ended, so that the sweep reads the state they corrected,
 * as the serial run checked parity after its sources. Whoever sees them due sends them (twice at worst: a worker
 * takes the second copy as a redelivery), then marks them sent.
 */
async function sendParityIfDue(
  run: { readonly runId: string; readonly startedAt: string; readonly dryRun: boolean },
  deps: {
    readonly runs: ReconcileRunStore;
    readonly work: WorkQueue<WorkMessage>;
    readonly clock: Clock;
  },
): Promise<void> {
  const plan = await deps.runs.parityDue(run.runId);
  if (plan === undefined) return;
  const items = parityItemsOf(run.runId, plan);
  await deps.work.send(items.map((item) => ({ ...item, startedAt: run.startedAt, dryRun: run.dryRun })));
  await deps.runs.markParitySent(run.runId, deps.clock.now().toISOString());
}

function driftItem(runId: string, scan: Scan): WorkItem {
  const parts = scan.propertyId === undefined ? [scan.source.id] : [scan.source.id, scan.propertyId];
  return {
    kind: 'drift',
    runId,
    itemId: `drift/${parts.map(encodeURIComponent).join('/')}`,
    sourceId: scan.source.id,
    ...(scan.propertyId === undefined ? {} : { propertyId: scan.propertyId }),
  };
}

function scanLabel(scan: Scan): string {
  return scan.propertyId === undefined ? scan.source.id : `${scan.source.id} ${scan.propertyId}`;
}

function windows(from: string, horizonDays: number): { from: string; to: string }[] {
  const result: { from: string; to: string }[] = [];
  for (let offset = 0; offset < horizonDays; offset += PARITY_WINDOW_NIGHTS) {
    const nights = Math.min(PARITY_WINDOW_NIGHTS, horizonDays - offset);
    result.push({ from: addDays(from, offset), to: addDays(from, offset + nights - 1) });
  }
  return result;
}

// --------------------------------------------------------------------------------------------------- working

/** What ending an item, and what follows it (the run's parity items, its completion), needs. */
export interface ItemEndDependencies {
  readonly runs: ReconcileRunStore;
  /** Where a run's parity items go once its drift items ended. */
  readonly work: WorkQueue<WorkMessage>;
  readonly clock: Clock;
  /** Called once per run, by whoever completed it, with the run's report. */
  readonly onComplete?: (report: ReconcileReport, run: RunDetail) => void | Promise<void>;
}

export interface WorkerDependencies extends Omit<ItemEndDependencies, 'clock'> {
  /** The reconciliation's dependencies; its polling clients (limiters, breakers) outlive an item. */
  readonly runtime: ReconcileRuntime;
  /** Time one drift item may spend polling: the worker's timeout less a margin to save and record. */
  readonly budgetMs: number;
  /** How long a claim holds: at least the worker's timeout, so a live worker never loses its item. */
  readonly leaseMs: number;
  /** The pages of a drift item as it polls them, named by run (the local runtime streams them). */
  readonly onProgress?: (runId: string, event: ProgressEvent) => void;
  readonly newAttemptId?: () => string;
}

export type WorkOutcome =
  | { readonly outcome: 'done' | 'failed'; readonly completedRun: boolean }
  /** A redelivery of an item that ended, or one another delivery is working on: acknowledged, nothing done. */
  | { readonly outcome: 'skipped'; readonly reason: 'finished' | 'leased' | 'lost_claim' };

/**
 * Runs one work item. A provider's failure ends the item as failed (the next run tries again), as does any
 * other failure: the run goes on, and its completion reports it. Only a failure of the run log itself is
 * thrown, for SQS to deliver the message again.
 */
export async function runWorkItem(message: WorkMessage, deps: WorkerDependencies): Promise<WorkOutcome> {
  const { onProgress } = deps;
  const reconcile = deps.runtime(onProgress ? (event) => onProgress(message.runId, event) : undefined);
  const { clock } = reconcile;
  const attempt = (deps.newAttemptId ?? randomUUID)();
  const claimedAt = clock.now();
  const claim = await deps.runs.claim(
    message,
    attempt,
    claimedAt.toISOString(),
    new Date(claimedAt.getTime() + deps.leaseMs).toISOString(),
  );
  if (!claim.claimed) {
    // The worker that ended it may have died before its next steps: each of them is idempotent.
    if (claim.reason === 'finished') await afterItem(message, { ...deps, clock });
    return { outcome: 'skipped', reason: claim.reason };
  }
  let outcome: ItemOutcome;
  try {
    outcome =
      message.kind === 'drift'
        ? await runDriftItem(message, reconcile, deps.budgetMs)
        : await runParityItem(message, reconcile);
  } catch (error) {
    outcome = {
      status: 'failed',
      error: error instanceof ProviderFailureError ? error.code : 'internal_error',
      message: error instanceof Error ? error.message : String(error),
      finishedAt: clock.now().toISOString(),
    };
  }
  let ended: boolean;
  try {
    ended = await deps.runs.finish(message, attempt, outcome);
  } catch (error) {
    // The claim is still this delivery's, under a lease as long as the worker's timeout: only its own attempt
    // can end the item before that, when the last receive gives it up.
    throw new WorkItemNotEndedError(message, attempt, error);
  }
  if (!ended) return { outcome: 'skipped', reason: 'lost_claim' };
  return { outcome: outcome.status, completedRun: await afterItem(message, { ...deps, clock }) };
}

/** A work item's work was done (or failed) but could not be recorded: SQS delivers it again. */
export class WorkItemNotEndedError extends UnavailableError {
  constructor(
    item: WorkItem,
    readonly attempt: string,
    cause: unknown,
  ) {
    super(
      'work_item_not_ended',
      `Work item ${item.itemId} of run ${item.runId} could not be ended in the run log (${
        cause instanceof Error ? cause.message : String(cause)
      }); its message is delivered again.`,
      { cause },
    );
  }
}

/** Once an item ended: its run's parity items if they became due, and the run's completion if it is done. */
async function afterItem(message: WorkMessage, deps: ItemEndDependencies): Promise<boolean> {
  if (message.kind === 'drift') await sendParityIfDue(message, deps);
  return completeRun(message.runId, deps);
}

/** Why an item is given up: the run log's code (`receives_exhausted`, `dead_lettered`) and what happened. */
export interface AbandonReason {
  readonly error: string;
  readonly message: string;
}

/**
 * Ends an item whose message went through every receive without ending it (the worker kept failing before it
 * could), so that its run still completes. Nothing happens to an item that ended or is held under a live lease,
 * unless `attempt` is the holder's own. The steps after an item's end run either way: they are idempotent, and
 * they may be what kept failing after the item ended.
 */
export async function abandonWorkItem(
  message: WorkMessage,
  reason: AbandonReason,
  deps: ItemEndDependencies,
  attempt?: string,
): Promise<{ readonly abandoned: boolean; readonly completedRun: boolean }> {
  const abandoned = await deps.runs.abandon(
    message,
    {
      status: 'failed',
      error: reason.error,
      message: reason.message,
      finishedAt: deps.clock.now().toISOString(),
    },
    attempt,
  );
  return { abandoned, completedRun: await afterItem(message, deps) };
}

/** The run log's code for an item the work DLQ's consumer ended. */
export const DEAD_LETTERED = 'dead_lettered';

export type DeadLetterOutcome =
  /** The item was still open: it ended as failed now, and `completedRun` when it was its run's last. */
  | { readonly outcome: 'abandoned'; readonly completedRun: boolean }
  /**
   * Nothing to end: the item ended before (its worker did, on its last receive or before it died, or this message
   * was delivered before), or its run is no longer in the run log (expired).
   */
  | {
      readonly outcome: 'skipped';
      readonly reason: 'finished' | 'run_not_found';
      readonly completedRun: boolean;
    };

/**
 * Ends the item of a message that reached the work DLQ: its worker never ended it, typically because Lambda
 * stopped the worker (timeout, out of memory) on every receive. The item ends as failed and is counted once, and
 * the run completes when it was its last, exactly as when a worker gives an item up on its last receive. A second
 * delivery, or an item that ended already, changes nothing but the idempotent steps after an end. By the time a
 * message reaches the DLQ its lease has run out (the queue hides a message for six times the worker's timeout);
 * should a worker still hold it, the item is left to that worker and the message is tried again later.
 */
export async function endDeadLetteredItem(
  message: WorkMessage,
  deps: ItemEndDependencies,
): Promise<DeadLetterOutcome> {
  // An item of a run no longer kept would be written as a partial run that never expires.
  if ((await deps.runs.get(message.runId)) === undefined) {
    return { outcome: 'skipped', reason: 'run_not_found', completedRun: false };
  }
  const { abandoned, completedRun } = await abandonWorkItem(
    message,
    {
      error: DEAD_LETTERED,
      message:
        'The worker stopped on every receive of this item (timeout or out of memory) without ending it, so its ' +
        'message reached the work dead-letter queue, whose consumer ended it as failed. Read the reconcile ' +
        'worker logs for this item; keep reconciliation.budgetSeconds well inside the worker timeout. The next ' +
        'run does the same work again.',
    },
    deps,
  );
  if (abandoned) return { outcome: 'abandoned', completedRun };
  const item = (await deps.runs.get(message.runId))?.items.find((record) => record.itemId === message.itemId);
  if (item?.status === 'running') throw new WorkItemInProgressError(message);
  return { outcome: 'skipped', reason: 'finished', completedRun };
}

/** A dead-lettered item that a worker still holds under a live lease: left to it, the message tried again. */
export class WorkItemInProgressError extends ConflictError {
  constructor(item: WorkItem) {
    super(
      'work_item_in_progress',
      `Work item ${item.itemId} of run ${item.runId} reached the work dead-letter queue but a worker still holds ` +
        'it under a lease that has not run out; it is left to that worker, and the message is tried again after ' +
        'the dead-letter queue visibility timeout.',
    );
  }
}

async function runDriftItem(
  message: WorkMessage & { readonly kind: 'drift' },
  reconcile: ReturnType<ReconcileRuntime>,
  budgetMs: number,
): Promise<ItemOutcome> {
  const source = polledSources(reconcile.config).find((candidate) => candidate.id === message.sourceId);
  if (source === undefined) {
    throw new Error(
      `Work item ${message.itemId} names source "${message.sourceId}", which is no longer polled in the ` +
        'configuration; the next run plans only the sources configured then.',
    );
  }
  const deps = {
    ...reconcile,
    // The run's id versions its corrections and names it in the audit, for every item alike.
    newRunId: () => message.runId,
    audit: atRunStart(reconcile.audit, message.startedAt),
  };
  const failures: unknown[] = [];
  const circuits = new CircuitKeeper(deps, failures);
  await circuits.takeUp(source);
  const scan: Scan = {
    source,
    ...(message.propertyId === undefined ? {} : { propertyId: message.propertyId }),
  };
  const result = await reconcileScan(scan, budgetMs, message.dryRun, deps, failures);
  await circuits.saveAll();
  const [failure] = failures;
  if (failure !== undefined) throw failure;
  const finishedAt = reconcile.clock.now().toISOString();
  if (result.outcome === 'failed') {
    return {
      status: 'failed',
      error: result.error,
      message: result.message,
      result: JSON.stringify(result),
      finishedAt,
    };
  }
  return { status: 'done', drift: driftOf(result), result: JSON.stringify(result), finishedAt };
}

async function runParityItem(
  message: WorkMessage & { readonly kind: 'parity' },
  reconcile: ReturnType<ReconcileRuntime>,
): Promise<ItemOutcome> {
  const report = await checkPropertyParity(
    { propertyId: message.propertyId, from: message.window.from, to: message.window.to },
    { ari: reconcile.ari, store: reconcile.parity, clock: reconcile.clock },
    reconcile.config.parity,
  );
  const result: ParityResult = {
    propertyId: message.propertyId,
    from: message.window.from,
    to: message.window.to,
    counts: report.counts,
  };
  const { nightsChecked, violations, currencyMismatches } = report.counts;
  return {
    status: 'done',
    parity: { nightsChecked, violations, currencyMismatches },
    result: JSON.stringify(result),
    finishedAt: reconcile.clock.now().toISOString(),
  };
}

/**
 * The audit as one run writes it: every record at the run's start rather than the moment an item wrote it, so
 * that an item run a second time (its first worker died) writes the records it writes again onto the same ones.
 */
function atRunStart(audit: AuditLog, startedAt: string): AuditLog {
  return { append: (records) => audit.append(records.map((record) => ({ ...record, at: startedAt }))) };
}

function driftOf(result: SourceResult & { readonly outcome: 'reconciled' }) {
  const { overall, properties } = result.drift;
  const figures: DriftFigures = {
    nightsPolled: result.nightsPolled,
    pages: result.pages,
    requests: result.requests,
    throttled: result.throttled,
    retries: result.retries,
    skipped: result.malformed + result.unmapped.nights,
    compared: overall.compared,
    mismatched: overall.mismatched,
    silentMisses: overall.silentMisses,
    correctedGroups: result.correctedGroups,
    skippedCorrections: result.skippedCorrections,
    budgetExhausted: result.status === 'budget_exhausted' ? 1 : 0,
  };
  return {
    figures,
    properties: properties.map((property) => ({
      propertyId: property.propertyId,
      compared: property.compared,
      mismatched: property.mismatched,
      silentMisses: property.silentMisses,
      action: property.action,
    })),
  };
}

async function completeRun(runId: string, deps: ItemEndDependencies): Promise<boolean> {
  if (!(await deps.runs.complete(runId, deps.clock.now().toISOString()))) return false;
  const run = await deps.runs.get(runId);
  if (run && deps.onComplete) await deps.onComplete(reportOfRun(run), run);
  return true;
}

/**
 * A run as the serial run reported it: a result per scan that ended, and per property the parity of its windows
 * that ended, summed over the dates they cover.
 */
export function reportOfRun(run: RunDetail): ReconcileReport {
  const sources: SourceResult[] = [];
  const parity = new Map<string, ParityResult>();
  for (const item of run.items) {
    if (item.status === 'running') continue;
    if (item.kind === 'drift') {
      sources.push(sourceResultOf(run.runId, item));
      continue;
    }
    if (item.status !== 'done' || item.result === undefined) continue;
    const window = JSON.parse(item.result) as ParityResult;
    const seen = parity.get(window.propertyId);
    parity.set(window.propertyId, seen ? mergeParity(seen, window) : window);
  }
  return {
    startedAt: run.startedAt,
    finishedAt: run.completedAt ?? run.startedAt,
    dryRun: run.dryRun,
    sources,
    parity: [...parity.values()],
  };
}

function mergeParity(a: ParityResult, b: ParityResult): ParityResult {
  const counts = { ...a.counts };
  for (const name of Object.keys(counts) as (keyof ParityResult['counts'])[]) counts[name] += b.counts[name];
  return {
    propertyId: a.propertyId,
    from: a.from < b.from ? a.from : b.from,
    to: a.to > b.to ? a.to : b.to,
    counts,
  };
}

function sourceResultOf(runId: string, item: WorkItemRecord): SourceResult {
  if (item.result !== undefined) return JSON.parse(item.result) as SourceResult;
  return {
    outcome: 'failed',
    sourceId: item.sourceId ?? '',
    ...(item.propertyId === undefined ? {} : { propertyId: item.propertyId }),
    runId,
    error: item.error ?? 'internal_error',
    message: item.message ?? 'the item did not run',
    circuit: 'closed',
  };
}
