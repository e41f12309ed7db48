import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { type PlannedRun, type PlannerDependencies, planRun } from './fanout';
import { parseInvocation, parsePlanInvocation } from './invocation';
import { type MetricPoint, reconcileMetrics } from './metrics';
import type { ReconcileRuntime } from './runtime';
import { type ReconcileReport, ReconciliationFailedError, reconcile } from './service';

/**
 * The Lambda entry: parse the invocation, run one reconciliation, log its summary, emit its metrics and return
 * the report. A run that failed for a reason other than a provider's is logged, measured and rethrown, so the
 * invocation fails and the schedule's retries and dead-letter queue see it.
 */
/** The part of Powertools Metrics the function uses, so that a test can pass a recorder. */
export interface MetricsSink {
  singleMetric(): {
    addDimension(name: string, value: string): unknown;
    addMetric(name: string, unit: MetricPoint['unit'], value: number): unknown;
  };
  publishStoredMetrics(): unknown;
}

export function createReconcileFunction(
  runtime: ReconcileRuntime,
  logger: Pick<Logger, 'info' | 'error'>,
  metrics: MetricsSink,
): (payload: unknown) => Promise<ReconcileReport> {
  return async (payload) => {
    const request = parseInvocation(payload);
    try {
      const report = await reconcile(request, runtime());
      record(report);
      return report;
    } catch (error) {
      if (error instanceof ReconciliationFailedError) {
        record(error.report);
        logger.error('Reconciliation failed', { error: error.message, failures: error.failures });
      }
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  };

  function record(report: ReconcileReport): void {
    recordReconcileReport(report, logger, metrics);
  }
}

/**
 * Emits a run's metrics (a single metric per point, with its dimensions) and logs its summary: the serial run's
 * function and the worker that completes a fanned-out run alike. The caller publishes.
 */
export function recordReconcileReport(
  report: ReconcileReport,
  logger: Pick<Logger, 'info'>,
  metrics: Pick<MetricsSink, 'singleMetric'>,
): void {
  for (const point of reconcileMetrics(report)) {
    const single = metrics.singleMetric();
    for (const [name, value] of Object.entries(point.dimensions)) single.addDimension(name, value);
    single.addMetric(point.name, point.unit, point.value);
  }
  // Ids and counts only: nothing here can carry guest data or a token.
  logger.info('Reconciliation finished', {
    dryRun: report.dryRun,
    sources: report.sources.map((source) =>
      source.outcome === 'failed'
        ? {
            sourceId: source.sourceId,
            propertyId: source.propertyId,
            outcome: source.outcome,
            error: source.error,
            message: source.message,
          }
        : {
            sourceId: source.sourceId,
            propertyId: source.propertyId,
            outcome: source.outcome,
            status: source.status,
            fullPass: source.fullPass,
            nightsPolled: source.nightsPolled,
            driftPercent: source.drift.overall.driftPercent,
            silentMisses: source.drift.overall.silentMisses,
            correctedGroups: source.correctedGroups,
            unmappedIds: source.unmapped.ids,
            circuit: source.circuit,
          },
    ),
    parity: report.parity,
  });
}

/** What a scheduled run's idempotency record keeps: small enough for a DynamoDB item however many sources. */
export interface ScheduledRunSummary {
  readonly eventId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly sources: number;
  readonly failedSources: number;
}

/** A run's idempotency record outlives any redelivery EventBridge makes of its event. */
const SCHEDULED_RUN_RECORD_SECONDS = 24 * 3600;

/** The summary a scheduled serial run's idempotency record keeps. */
export function reportSummary(eventId: string, report: ReconcileReport): ScheduledRunSummary {
  return {
    eventId,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    sources: report.sources.length,
    failedSources: report.sources.filter((source) => source.outcome === 'failed').length,
  };
}

/**
 * EventBridge delivers a scheduled event at least once: a scheduled invocation carrying the event's id runs at
 * most once per id (Powertools idempotency), and a redelivery gets the first run's summary back. A run that
 * fails leaves no record, so the schedule's retry runs it again. Manual invocations, which carry no event id,
 * always run and return the full result.
 */
export function onceForScheduledEvent<R, S extends object>(
  run: (payload: unknown) => Promise<R>,
  persistenceStore: BasePersistenceLayer,
  summarize: (eventId: string, result: R) => S,
): (payload: unknown, context?: Context) => Promise<R | S> {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'eventId',
    expiresAfterSeconds: SCHEDULED_RUN_RECORD_SECONDS,
  });
  const scheduledRun = makeIdempotent(
    async (payload: { readonly eventId: string }): Promise<S> =>
      summarize(payload.eventId, await run(payload)),
    { persistenceStore, config },
  );
  return async (payload, context) => {
    if (!isScheduledEvent(payload)) return run(payload);
    // Lets Powertools expire an in-progress record when the invocation times out instead of holding it.
    if (context !== undefined) config.registerLambdaContext(context);
    return scheduledRun(payload);
  };
}

/**
 * The scheduled function of a fanned-out reconciliation: parses the invocation and plans the run (see
 * fanout.ts), logging what it planned. A refused request (unknown source, a run in progress) is thrown.
 */
export function createPlanFunction(
  planner: () => PlannerDependencies,
  logger: Pick<Logger, 'info'>,
): (payload: unknown) => Promise<PlannedRun> {
  return async (payload) => {
    const planned = await planRun(parsePlanInvocation(payload), planner());
    logger.info('Reconciliation planned', { ...planned });
    return planned;
  };
}

function isScheduledEvent(
  payload: unknown,
): payload is { readonly trigger: 'schedule'; readonly eventId: string } {
  if (typeof payload !== 'object' || payload === null) return false;
  const { trigger, eventId } = payload as { trigger?: unknown; eventId?: unknown };
  return trigger === 'schedule' && typeof eventId === 'string' && eventId !== '';
}
