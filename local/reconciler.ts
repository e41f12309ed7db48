import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ScheduledRunSummary } from '../lambdas/reconcile/function';
import { InvalidInvocationError, parseInvocation } from '../lambdas/reconcile/invocation';
import type { ReconcileRuntime } from '../lambdas/reconcile/runtime';
import {
  type ProgressEvent,
  type ReconcileReport,
  type ReconcileRequest,
  reconcile,
} from '../lambdas/reconcile/service';
import { ConflictError, ParitySyncError } from '../lambdas/shared/errors';
import { httpStatusOf } from '../lambdas/shared/http-status';
import { parseStrictJson } from '../lambdas/shared/strict-json';
import { sendJson } from './http';
import type { ControlRoute } from './server';

/** The path of the local runtime's "reconcile now" route, which the CLI calls. */
export const RECONCILE_NOW_PATH = '/_local/reconcile';

/** One line of the NDJSON stream the route answers with: progress, then the report or the error. */
export type ReconcileStreamLine =
  | ProgressEvent
  | { readonly type: 'report'; readonly report: ReconcileReport }
  | { readonly type: 'error'; readonly error: string; readonly message: string };

export interface LocalReconcilerOptions {
  /** The reconcile function's module: its handler for the timer, its runtime for runs with progress. */
  readonly handler: (payload: unknown) => Promise<ReconcileReport | ScheduledRunSummary>;
  readonly runtime: ReconcileRuntime;
  /** Milliseconds between scheduled runs; 0 turns the timer off. */
  readonly intervalMs: number;
  readonly log?: (message: string) => void;
  readonly logError?: (message: string, error: unknown) => void;
}

export interface LocalReconciler {
  readonly controlRoute: ControlRoute;
  /** Milliseconds between scheduled runs; 0 when the timer is off. */
  readonly intervalMs: number;
  /** Runs now unless a run is already going: then it rejects with RunInProgressError, as Lambda would throttle. */
  runNow(request: ReconcileRequest, onProgress?: (event: ProgressEvent) => void): Promise<ReconcileReport>;
  stop(): Promise<void>;
}

/** A run is in progress; reserved concurrency 1 in AWS, a lock here. */
export class RunInProgressError extends ConflictError {
  constructor() {
    super(
      'run_in_progress',
      'A reconciliation run is already in progress (scheduled or requested); wait for it to finish and ask again.',
    );
  }
}

/**
 * Stands in for the EventBridge schedule and reserved concurrency 1: a timer invokes the reconcile function's
 * handler every interval, and at most one run (timer or "reconcile now") is in progress at a time. A timer
 * tick that finds a run going is skipped, as a throttled scheduled invocation would be.
 */
export function startLocalReconciler(options: LocalReconcilerOptions): LocalReconciler {
  const log = options.log ?? ((message) => console.log(message));
  const logError = options.logError ?? ((message, error) => console.error(message, error));
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
          // As EventBridge sends it: the event id makes the run idempotent, as in AWS.
          exclusive(() => options.handler({ trigger: 'schedule', eventId: randomUUID() }))
            .then((result) => log(`Scheduled reconciliation: ${describeResult(result)}`))
            .catch((error: unknown) => logError('Scheduled reconciliation failed', error));
        }, options.intervalMs)
      : undefined;
  timer?.unref();

  const runNow: LocalReconciler['runNow'] = (request, onProgress) =>
    exclusive(() => reconcile(request, options.runtime(onProgress)));

  return {
    runNow,
    intervalMs: options.intervalMs,
    controlRoute: {
      method: 'POST',
      path: RECONCILE_NOW_PATH,
      handle: (request, response) => streamRun(request, response, runNow),
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
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

/** One line for the log: per source its outcome and drift, per property its parity violations. */
function describeResult(result: ReconcileReport | ScheduledRunSummary): string {
  if (!('eventId' in result)) return describeReport(result);
  return `${result.sources} source run(s), ${result.failedSources} failed`;
}

export function describeReport(report: ReconcileReport): string {
  const sources = report.sources.map((source) =>
    source.outcome === 'failed'
      ? `${scanName(source)} failed (${source.error})`
      : `${scanName(source)} ${source.nightsPolled} nights, drift ${source.drift.overall.driftPercent.toFixed(2)}%, ` +
        `${source.correctedGroups} corrected${source.status === 'budget_exhausted' ? ', budget used up' : ''}`,
  );
  const parity = report.parity.map(
    (property) => `${property.propertyId} ${property.counts.violations} parity violation(s)`,
  );
  return (
    [...sources, ...parity].join('; ') || 'nothing to reconcile (no polled sources, no parity properties)'
  );
}

function scanName(result: { readonly sourceId: string; readonly propertyId?: string }): string {
  return result.propertyId === undefined ? result.sourceId : `${result.sourceId}/${result.propertyId}`;
}
