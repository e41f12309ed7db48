import { METRIC_DIMENSIONS, RECONCILE_METRICS } from '../shared/metric-names';
import type { ReconcileReport } from './service';

export interface MetricPoint {
  readonly name: string;
  readonly unit: 'Count' | 'Percent';
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

/**
 * The run's metrics, one point per source or property and figure. Every figure is emitted even when zero, so a
 * dashboard line and an alarm see a datapoint each run instead of "missing data" that could mean either.
 */
export function reconcileMetrics(report: ReconcileReport): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const result of report.sources) {
    const dimensions = { [METRIC_DIMENSIONS.source]: result.sourceId };
    const count = (name: string, value: number) => points.push({ name, unit: 'Count', value, dimensions });
    points.push({
      name: RECONCILE_METRICS.runs,
      unit: 'Count',
      value: 1,
      dimensions: { ...dimensions, [METRIC_DIMENSIONS.outcome]: result.outcome },
    });
    count(RECONCILE_METRICS.circuitOpen, result.circuit === 'closed' ? 0 : 1);
    if (result.outcome === 'failed') {
      points.push({
        name: RECONCILE_METRICS.failures,
        unit: 'Count',
        value: 1,
        dimensions: { ...dimensions, [METRIC_DIMENSIONS.reason]: result.error },
      });
      continue;
    }
    const { overall } = result.drift;
    points.push({
      name: RECONCILE_METRICS.driftPercent,
      unit: 'Percent',
      value: overall.driftPercent,
      dimensions,
    });
    count(RECONCILE_METRICS.comparedFields, overall.compared);
    count(RECONCILE_METRICS.mismatchedFields, overall.mismatched);
    count(RECONCILE_METRICS.silentMisses, overall.silentMisses);
    count(RECONCILE_METRICS.correctedFields, result.correctedGroups);
    count(RECONCILE_METRICS.nightsPolled, result.nightsPolled);
    count(RECONCILE_METRICS.nightsSkipped, result.malformed + result.unmapped.nights);
    count(RECONCILE_METRICS.pages, result.pages);
    count(RECONCILE_METRICS.requests, result.requests);
    count(RECONCILE_METRICS.throttled, result.throttled);
    count(RECONCILE_METRICS.retries, result.retries);
    count(RECONCILE_METRICS.budgetExhausted, result.status === 'budget_exhausted' ? 1 : 0);
  }
  for (const result of report.parity) {
    const dimensions = { [METRIC_DIMENSIONS.property]: result.propertyId };
    const count = (name: string, value: number) => points.push({ name, unit: 'Count', value, dimensions });
    count(RECONCILE_METRICS.parityViolations, result.counts.violations);
    count(RECONCILE_METRICS.parityCurrencyMismatches, result.counts.currencyMismatches);
    count(RECONCILE_METRICS.parityNightsChecked, result.counts.nightsChecked);
  }
  return points;
}
