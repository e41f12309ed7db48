import { describe, expect, it } from 'vitest';
import type { DriftStats } from '../../lambdas/reconcile/drift';
import { reconcileMetrics } from '../../lambdas/reconcile/metrics';
import type { ReconcileReport, SourceResult } from '../../lambdas/reconcile/service';
import type { ParityCounts } from '../../lambdas/state/parity';

function stats(compared: number, mismatched: number, silentMisses: number): DriftStats {
  return {
    compared,
    mismatched,
    driftPercent: compared === 0 ? 0 : (mismatched * 100) / compared,
    silentMisses,
    classes: {
      rate: { compared, mismatched },
      availability: { compared: 0, mismatched: 0 },
      restrictions: { compared: 0, mismatched: 0 },
    },
  };
}

function reconciled(overrides: Partial<Extract<SourceResult, { outcome: 'reconciled' }>> = {}): SourceResult {
  return {
    outcome: 'reconciled',
    circuit: 'closed',
    runId: 'run-1',
    sourceId: 'ota-a',
    status: 'complete',
    fullPass: true,
    resumed: false,
    updatedAfter: '1970-01-01T00:00:00.000Z',
    startedAt: '2026-05-02T10:00:00.000Z',
    finishedAt: '2026-05-02T10:01:00.000Z',
    pages: 4,
    nightsPolled: 700,
    malformed: 3,
    mapped: 690,
    unmapped: {
      nights: 7,
      property: 0,
      roomType: 0,
      ratePlan: 7,
      ids: { property: [], roomType: [], ratePlan: ['CORP'] },
    },
    requests: 9,
    throttled: 2,
    retries: 3,
    drift: { overall: stats(800, 6, 5), properties: [] },
    correctedGroups: 5,
    skippedCorrections: 1,
    checkpoint: { watermark: '2026-05-02T09:59:00.000Z' },
    ...overrides,
  };
}

function report(sources: SourceResult[], parity: ReconcileReport['parity'] = []): ReconcileReport {
  return {
    startedAt: '2026-05-02T10:00:00.000Z',
    finishedAt: '2026-05-02T10:02:00.000Z',
    dryRun: false,
    sources,
    parity,
  };
}

const counts = (overrides: Partial<ParityCounts>): ParityCounts => ({
  nightsChecked: 0,
  comparisons: 0,
  violations: 0,
  currencyMismatches: 0,
  withoutTruthRate: 0,
  unconfigured: 0,
  ...overrides,
});

describe('reconcileMetrics', () => {
  it('emits every figure of a reconciled source under its source dimension', () => {
    const source = { source: 'ota-a' };
    expect(reconcileMetrics(report([reconciled()]))).toEqual([
      {
        name: 'ReconcileRuns',
        unit: 'Count',
        value: 1,
        dimensions: { source: 'ota-a', outcome: 'reconciled' },
      },
      { name: 'CircuitOpen', unit: 'Count', value: 0, dimensions: source },
      { name: 'DriftPercent', unit: 'Percent', value: 0.75, dimensions: source },
      { name: 'ComparedFields', unit: 'Count', value: 800, dimensions: source },
      { name: 'MismatchedFields', unit: 'Count', value: 6, dimensions: source },
      { name: 'SilentMisses', unit: 'Count', value: 5, dimensions: source },
      { name: 'CorrectedFields', unit: 'Count', value: 5, dimensions: source },
      { name: 'NightsPolled', unit: 'Count', value: 700, dimensions: source },
      // 3 malformed records and 7 unmapped nights.
      { name: 'NightsSkipped', unit: 'Count', value: 10, dimensions: source },
      { name: 'ReconcilePages', unit: 'Count', value: 4, dimensions: source },
      { name: 'ReconcileRequests', unit: 'Count', value: 9, dimensions: source },
      { name: 'ReconcileThrottled', unit: 'Count', value: 2, dimensions: source },
      { name: 'ReconcileRetries', unit: 'Count', value: 3, dimensions: source },
      { name: 'ReconcileBudgetExhausted', unit: 'Count', value: 0, dimensions: source },
    ]);
  });

  it('still emits zero figures of a quiet run, and counts a run stopped at its budget', () => {
    const quiet = reconciled({
      sourceId: 'cm',
      status: 'budget_exhausted',
      circuit: 'half-open',
      pages: 0,
      nightsPolled: 0,
      malformed: 0,
      mapped: 0,
      unmapped: {
        nights: 0,
        property: 0,
        roomType: 0,
        ratePlan: 0,
        ids: { property: [], roomType: [], ratePlan: [] },
      },
      requests: 0,
      throttled: 0,
      retries: 0,
      drift: { overall: stats(0, 0, 0), properties: [] },
      correctedGroups: 0,
    });
    const points = reconcileMetrics(report([quiet]));
    expect(points).toHaveLength(14);
    expect(points.every((point) => point.dimensions.source === 'cm')).toBe(true);
    const values = Object.fromEntries(points.map((point) => [point.name, point.value]));
    expect(values).toEqual({
      ReconcileRuns: 1,
      CircuitOpen: 1,
      DriftPercent: 0,
      ComparedFields: 0,
      MismatchedFields: 0,
      SilentMisses: 0,
      CorrectedFields: 0,
      NightsPolled: 0,
      NightsSkipped: 0,
      ReconcilePages: 0,
      ReconcileRequests: 0,
      ReconcileThrottled: 0,
      ReconcileRetries: 0,
      ReconcileBudgetExhausted: 1,
    });
  });

  it('emits a failed source as a run, its circuit and a failure with the reason, and no drift figures', () => {
    const failed: SourceResult = {
      outcome: 'failed',
      sourceId: 'ota-b',
      runId: 'run-2',
      error: 'circuit_open',
      message: 'Polling of source "ota-b" is paused',
      circuit: 'open',
    };
    expect(reconcileMetrics(report([failed]))).toEqual([
      { name: 'ReconcileRuns', unit: 'Count', value: 1, dimensions: { source: 'ota-b', outcome: 'failed' } },
      { name: 'CircuitOpen', unit: 'Count', value: 1, dimensions: { source: 'ota-b' } },
      {
        name: 'ReconcileFailures',
        unit: 'Count',
        value: 1,
        dimensions: { source: 'ota-b', reason: 'circuit_open' },
      },
    ]);
  });

  it('emits violations, currency mismatches and nights checked per parity property, zeros included', () => {
    const points = reconcileMetrics(
      report(
        [],
        [
          {
            propertyId: 'hotel-1',
            from: '2026-05-02',
            to: '2027-05-01',
            counts: counts({ nightsChecked: 40, comparisons: 80, violations: 3, currencyMismatches: 1 }),
          },
          { propertyId: 'hotel-2', from: '2026-05-02', to: '2027-05-01', counts: counts({}) },
        ],
      ),
    );
    expect(points).toEqual([
      { name: 'ParityViolations', unit: 'Count', value: 3, dimensions: { property: 'hotel-1' } },
      { name: 'ParityCurrencyMismatches', unit: 'Count', value: 1, dimensions: { property: 'hotel-1' } },
      { name: 'ParityNightsChecked', unit: 'Count', value: 40, dimensions: { property: 'hotel-1' } },
      { name: 'ParityViolations', unit: 'Count', value: 0, dimensions: { property: 'hotel-2' } },
      { name: 'ParityCurrencyMismatches', unit: 'Count', value: 0, dimensions: { property: 'hotel-2' } },
      { name: 'ParityNightsChecked', unit: 'Count', value: 0, dimensions: { property: 'hotel-2' } },
    ]);
  });

  it('emits nothing for a run with no sources and no parity properties', () => {
    expect(reconcileMetrics(report([]))).toEqual([]);
  });
});
