import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as pause } from 'node:timers/promises';
import { type PlannedRun, type PlannerDependencies, planRun, reportOfRun } from '../lambdas/reconcile/fanout';
import { InvalidInvocationError, parseInvocation } from '../lambdas/reconcile/invocation';
import type { ProgressEvent, ReconcileReport, ReconcileRequest } from '../lambdas/reconcile/service';
import { ConflictError, ParitySyncError } from '../lambdas/shared/errors';
import { httpStatusOf } from '../lambdas/shared/http-status';
import { parseStrictJson } from '../lambdas/shared/strict-json';
import type { RunDetail } from '../lambdas/state/reconcile-runs';
import { sendJson } from './http';
import type { ControlRoute } from './server';

/** The path of the local runtime's "reconcile now" route, which the CLI calls. */
export const RECONCILE_NOW_PATH = '/_local/reconcile';

/** One line of the NDJSON stream the route answers with: progress, then the report or the error. */
export type ReconcileStreamLine =
  | ProgressEvent
  | { readonly type: 'report'; readonly report: ReconcileReport }
  | { readonly type: 'error'; readonly error: string; readonly message: string };

/** How often a run being followed is read back from the run log. */
const FOLLOW_INTERVAL_MS = 200;

export interface LocalReconcilerOptions {
  /** The reconcile function's handler, which the timer invokes as the schedule would: it plans a run. */
  readonly handler: (payload: unknown) => Promise<unknown>;
  /** The planner's dependencies, for "reconcile now", which plans a run and follows it to its end. */
  readonly planner: PlannerDependencies;
  /** Milliseconds between scheduled runs; 0 turns the timer off. */
  readonly intervalMs: number;
  readonly log?: (message: string) => void;
  readonly logError?: (message: string, error: unknown) => void;
}

export interface LocalReconciler {
  readonly controlRoute: ControlRoute;
  /** Milliseconds between scheduled runs; 0 when the timer is off. */
  readonly intervalMs: number;
  /**
   * Plans a run now and follows it until the workers complete it, unless a request is already being followed:
   * then it rejects with RunInProgressError. A run still in progress in the run log refuses it too (409).
   */
  runNow(request: ReconcileRequest, onProgress?: (event: ProgressEvent) => void): Promise<ReconcileReport>;
  /** Where the local workers report their pages, so that the run's follower can stream them. */
  progress(runId: string, event: ProgressEvent): void;
  stop(): Promise<void>;
}

/** A run is being followed already. */
export class RunInProgressError extends ConflictError {
  constructor() {
    super(
      'run_in_progress',
      'A reconciliation run is already in progress (scheduled or requested); wait for it to finish and ask again.',
    );
  }
}

/**
 * Stands in for the EventBridge schedule: a timer invokes the reconcile function's handler every interval, which
 * plans a run as work items for the local workers (see start.ts), as in AWS; a tick that finds a run still in
 * progress plans nothing. "Reconcile now" plans a run and follows it in the run log to its end, streaming its
 * pages, each scan as its item ends, then the parity of each property and the report.
 */
export function startLocalReconciler(options: LocalReconcilerOptions): LocalReconciler {
  const log = options.log ?? ((message) => console.log(message));
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const followers = new Map<string, (event: ProgressEvent) => void>();
  const stopping = new AbortController();
  let running: Promise<unknown> | undefined;

  const exclusive = <T>(run: () => Promise<T>): Promise<T> => {
    if (running) return Promise.reject(new RunInProgressError());
    const current = run().finally(() => {
      running = undefined;
    });
    running = current;
    return current;
  };

  const timer =
    options.intervalMs > 0
      ? setInterval(() => {
          if (running) return;
          // As EventBridge sends it: the event id makes the plan idempotent, as in AWS.
          exclusive(() => options.handler({ trigger: 'schedule', eventId: randomUUID() }))
            .then((result) => log(`Scheduled reconciliation: ${describePlan(result)}`))
            .catch((error: unknown) => logError('Scheduled reconciliation failed', error));
        }, options.intervalMs)
      : undefined;
  timer?.unref();

  const runNow: LocalReconciler['runNow'] = (request, onProgress) =>
    exclusive(async () => {
      const planned = await planRun({ ...request, trigger: 'manual' }, options.planner);
      if (planned.outcome !== 'planned') throw new RunInProgressError();
      onProgress?.({ type: 'plan', sources: planned.scans, parityProperties: planned.parityProperties });
      if (onProgress) followers.set(planned.runId, onProgress);
      try {
        return await follow(planned.runId, options.planner, stopping.signal, onProgress);
      } finally {
        followers.delete(planned.runId);
      }
    });

  return {
    runNow,
    intervalMs: options.intervalMs,
    progress(runId, event) {
      followers.get(runId)?.(event);
    },
    controlRoute: {
      method: 'POST',
      path: RECONCILE_NOW_PATH,
      handle: (request, response) => streamRun(request, response, runNow),
    },
    async stop() {
      if (timer) clearInterval(timer);
      stopping.abort();
      await running?.catch(() => undefined);
    },
  };
}

/** Reads the run back until it is complete, reporting each scan as its item ends, then each property's parity. */
async function follow(
  runId: string,
  planner: PlannerDependencies,
  signal: AbortSignal,
  onProgress: ((event: ProgressEvent) => void) | undefined,
): Promise<ReconcileReport> {
  const reported = new Set<string>();
  for (;;) {
    const run: RunDetail | undefined = await planner.runs.get(runId);
    if (run === undefined) throw new Error(`Reconciliation run ${runId} is not in the run log`);
    const report = reportOfRun(run);
    for (const item of run.items) {
      if (item.kind !== 'drift' || item.status === 'running' || reported.has(item.itemId)) continue;
      reported.add(item.itemId);
      const result = report.sources.find(
        (source) => source.sourceId === item.sourceId && source.propertyId === item.propertyId,
      );
      if (result) onProgress?.({ type: 'source', result });
    }
    if (run.status === 'complete') {
      for (const result of report.parity) onProgress?.({ type: 'parity', result });
      return report;
    }
    if (signal.aborted) throw new Error(`The local runtime stopped before run ${runId} completed`);
    await pause(FOLLOW_INTERVAL_MS);
  }
}

async function streamRun(
  request: IncomingMessage,
  response: ServerResponse,
  runNow: LocalReconciler['runNow'],
): Promise<void> {
  let body = '';
  for await (const chunk of request) body += String(chunk);
  let reconcileRequest: ReconcileRequest;
  try {
    reconcileRequest = parseInvocation(body.trim() === '' ? {} : parseStrictJson(body));
  } catch (error) {
    const status = httpStatusOf(error) ?? 400;
    const payload =
      error instanceof ParitySyncError ? error.toBody() : { error: 'invalid_json', message: String(error) };
    sendJson(response, status, payload);
    return;
  }
  let started = false;
  const write = (line: ReconcileStreamLine) => {
    if (!started) {
      response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
      started = true;
    }
    response.write(`${JSON.stringify(line)}\n`);
  };
  try {
    const report = await runNow(reconcileRequest, write);
    write({ type: 'report', report });
  } catch (error) {
    if (!started && error instanceof ParitySyncError && !(error instanceof InvalidInvocationError)) {
      // A failure of ParitySync itself (no listed class) is answered as the reconcile function would fail: 500.
      sendJson(response, httpStatusOf(error) ?? 500, error.toBody());
      return;
    }
    write({
      type: 'error',
      error: error instanceof ParitySyncError ? error.code : 'internal_error',
      message: error instanceof Error ? error.message : String(error),
    });
  }
  response.end();
}

/** One line for the log: what the scheduled invocation planned. */
function describePlan(result: unknown): string {
  const planned = result as Partial<PlannedRun> & { readonly scans?: unknown };
  if (planned.outcome === 'skipped') return `run ${planned.runId} is still in progress; nothing planned`;
  if (planned.outcome === 'planned') {
    return `run ${planned.runId} planned: ${planned.driftItems} scan(s), ${planned.parityItems} parity window(s)`;
  }
  return JSON.stringify(result);
}
