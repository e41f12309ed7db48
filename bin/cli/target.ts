import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { ReconcileRunDetailView } from '../../lambdas/read/wire';
import type { ReconcileReport, ReconcileRequest } from '../../lambdas/reconcile/service';
import { UnavailableError } from '../../lambdas/shared/errors';
import { type ReconcileStep, reconcileNow } from '../../local/reconcile-client';
import { OpsApi } from './api';
import { NothingListeningError, TargetOptionsError, TimedOutError } from './errors';
import { ApiTransport } from './http';
import type { CliIo } from './io';

/** The options every command takes: where to operate, and how long to wait for each call. */
export interface TargetOptions {
  readonly url?: string;
  readonly stack?: string;
  readonly region?: string;
  readonly profile?: string;
  /** Seconds per API call. */
  readonly timeout: number;
}

/**
 * What one reconciliation now answers: the local runtime streams the run and answers its full report; a stack's
 * reconcile function plans the run, which the CLI follows in the run log until the workers complete it.
 */
export type ReconcileOutcome =
  | { readonly kind: 'report'; readonly report: ReconcileReport }
  | { readonly kind: 'run'; readonly run: ReconcileRunDetailView };

/** What a command operates: the local runtime or a deployed stack, through the same API. */
export interface Target {
  /** For messages: "the local runtime at …" or "stack … in …". */
  readonly name: string;
  readonly local: boolean;
  readonly api: OpsApi;
  /** One reconciliation now, reporting its steps as far as the target tells them. */
  reconcile(request: ReconcileRequest, onStep?: (step: ReconcileStep) => void): Promise<ReconcileOutcome>;
}

/** A local run is bounded by its configured budget; this only stops a wait on a runtime that hangs. */
const LOCAL_RECONCILE_TIMEOUT_SECONDS = 16 * 60;

/** The target options as the program's global options give them (--url, or --stack with --region and --profile). */
export function targetOptionsOf(command: Command): TargetOptions {
  const options = command.optsWithGlobals<{
    url?: string;
    stack?: string;
    region?: string;
    profile?: string;
    timeout: number;
  }>();
  return {
    timeout: options.timeout,
    ...(options.url === undefined ? {} : { url: options.url }),
    ...(options.stack === undefined ? {} : { stack: options.stack }),
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  };
}

/** A deployed stack's outputs and signer. The AWS SDK loads only here: local commands start faster without it. */
export async function openStackOf(options: TargetOptions & { readonly stack: string }) {
  const { openStack } = await import('./aws');
  return openStack({
    stack: options.stack,
    timeoutSeconds: options.timeout,
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  });
}

/** Where `npm start` listens, as the environment of the run sets its PORT. */
export function defaultLocalUrl(env: CliIo['env']): string {
  return `http://127.0.0.1:${env.PORT ?? '3000'}`;
}

export async function openTarget(options: TargetOptions, env: CliIo['env']): Promise<Target> {
  if (options.stack === undefined) {
    if (options.region !== undefined || options.profile !== undefined) {
      throw new TargetOptionsError(
        'stack_options_without_stack',
        '--region and --profile choose the AWS account and region of a deployed stack: add --stack <name>, ' +
          'or leave them out to operate the local runtime.',
      );
    }
    return localTarget(options.url ?? defaultLocalUrl(env), options.timeout);
  }
  const stack = await openStackOf({ ...options, stack: options.stack });
  const api = new OpsApi(
    new ApiTransport({
      baseUrl: stack.readApiUrl,
      timeoutSeconds: options.timeout,
      signer: stack.signer,
      region: stack.apiRegion,
      ...(options.profile === undefined ? {} : { profile: options.profile }),
    }),
  );
  return {
    name: `stack ${stack.stack} in ${stack.region}`,
    local: false,
    api,
    reconcile: async (request, onStep) => {
      const step = `reconcile function of ${stack.stack}`;
      onStep?.({ done: 0, total: 1, step, detail: 'invoked' });
      const planned = await stack.reconcile(request, (elapsed) =>
        onStep?.({ done: 0, total: 1, step, detail: `planning for ${elapsed} s` }),
      );
      onStep?.({ done: 1, total: 1, step, detail: `planned run ${planned.runId}` });
      return {
        kind: 'run',
        run: await followRun(api, planned.runId, onStep, { stackName: stack.stack }),
      };
    },
  };
}

/** Seconds between reads of a run being followed. */
const FOLLOW_INTERVAL_SECONDS = 2;

/**
 * How long a followed run may go without an item ending before the CLI stops waiting. A run whose workers run
 * ends items well within it (a worker may run 15 minutes at most); one that ends none for longer has a worker
 * that failed or was stopped, whose item waits for its message to come back (the work queue's visibility timeout)
 * or for the work DLQ's consumer. The run still completes; the CLI only stops following it.
 */
export const FOLLOW_STALL_MINUTES = 20;

/** A followed run ended no item for FOLLOW_STALL_MINUTES: the CLI stops waiting; the run goes on without it. */
export class RunStalledError extends UnavailableError {
  constructor(runId: string, ended: number, planned: number, minutes: number, stackName: string) {
    super(
      'run_stalled',
      `Run ${runId} ended no item in ${minutes} minutes (${ended} of ${planned} ended), so the CLI stopped ` +
        'following it; the run itself goes on. Look at ' +
        `it with "paritysync --stack ${stackName} reconcile runs ${runId}", and at the ReconcileWork queue and its ` +
        'dead-letter queue on the dashboard.',
    );
  }
}

export interface FollowOptions {
  readonly stackName: string;
  /** @default FOLLOW_STALL_MINUTES */
  readonly stallMinutes?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default a timer */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Reads the run until its workers complete it, reporting items ended of items planned. Ctrl-C stops the wait,
 * and so does a run that ends no item for `stallMinutes`.
 */
export async function followRun(
  api: Pick<OpsApi, 'getReconcileRun'>,
  runId: string,
  onStep: ((step: ReconcileStep) => void) | undefined,
  options: FollowOptions,
): Promise<ReconcileRunDetailView> {
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? sleep;
  const stallMinutes = options.stallMinutes ?? FOLLOW_STALL_MINUTES;
  let lastEnded = -1;
  let progressAt = now();
  for (;;) {
    const run = await api.getReconcileRun(runId);
    const ended = run.items.done + run.items.failed;
    onStep?.({
      done: ended,
      total: Math.max(1, run.items.planned),
      step: `run ${runId}`,
      detail: run.status === 'complete' ? 'complete' : `${run.items.failed} failed so far`,
    });
    if (run.status === 'complete') return run;
    if (ended !== lastEnded) {
      lastEnded = ended;
      progressAt = now();
    } else if (now() - progressAt >= stallMinutes * 60_000) {
      throw new RunStalledError(runId, ended, run.items.planned, stallMinutes, options.stackName);
    }
    await wait(FOLLOW_INTERVAL_SECONDS * 1000);
  }
}

function localTarget(url: string, timeoutSeconds: number): Target {
  const transport = new ApiTransport({ baseUrl: url, timeoutSeconds });
  return {
    name: `the local runtime at ${url}`,
    local: true,
    api: new OpsApi(transport),
    async reconcile(request, onStep) {
      try {
        const report = await reconcileNow(url, request, {
          ...(onStep ? { onStep } : {}),
          signal: AbortSignal.timeout(LOCAL_RECONCILE_TIMEOUT_SECONDS * 1000),
        });
        return { kind: 'report', report };
      } catch (error) {
        if (error instanceof Error && error.name === 'TimeoutError') {
          throw new TimedOutError(
            `The local runtime at ${url}`,
            LOCAL_RECONCILE_TIMEOUT_SECONDS,
            'Its log says where the run stopped.',
          );
        }
        if (
          error instanceof Error &&
          (error.cause as { code?: string } | undefined)?.code === 'ECONNREFUSED'
        ) {
          throw new NothingListeningError(url);
        }
        throw error;
      }
    },
  };
}
