import type { Logger } from '@aws-lambda-powertools/logger';
import { parseInvocation } from './invocation';
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
}
