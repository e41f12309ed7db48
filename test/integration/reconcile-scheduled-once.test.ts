import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { onceForScheduledEvent, reportSummary } from '../../lambdas/reconcile/function';
import type { ReconcileReport } from '../../lambdas/reconcile/service';
import { RECONCILE_RUNS } from '../../lambdas/shared/topology';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

let topology: IsolatedTopology;

beforeAll(async () => {
  topology = await provisionIsolated();
});

/** A run that counts itself and reports `sources` sources, the last `failed` of them failed. */
function countingRun(options: { fail?: boolean } = {}) {
  const calls: unknown[] = [];
  const run = async (payload: unknown): Promise<ReconcileReport> => {
    calls.push(payload);
    if (options.fail) throw new Error('DynamoDB unavailable');
    return {
      startedAt: '2026-12-03T10:00:00.000Z',
      finishedAt: '2026-12-03T10:00:05.000Z',
      dryRun: false,
      sources: [
        { sourceId: 'cm', outcome: 'failed', error: 'provider_unavailable', message: 'x' },
      ] as unknown as ReconcileReport['sources'],
      parity: [],
    };
  };
  return { run, calls };
}

function persistence() {
  const tableName = topology.tables[RECONCILE_RUNS.id];
  if (tableName === undefined) throw new Error('the topology has no reconcile runs table');
  return new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: topology.dynamodb });
}

describe('a scheduled reconciliation, against DynamoDB Local', () => {
  it('runs once per EventBridge event, and a redelivery gets the first run’s summary', async () => {
    const { run, calls } = countingRun();
    const handler = onceForScheduledEvent(run, persistence(), reportSummary);
    const event = { trigger: 'schedule', eventId: `evt-${topology.prefix}-1` };

    const first = await handler(event);
    const redelivered = await handler({ ...event });

    expect(calls).toHaveLength(1);
    expect(first).toEqual({
      eventId: event.eventId,
      startedAt: '2026-12-03T10:00:00.000Z',
      finishedAt: '2026-12-03T10:00:05.000Z',
      sources: 1,
      failedSources: 1,
    });
    expect(redelivered).toEqual(first);

    await handler({ trigger: 'schedule', eventId: `evt-${topology.prefix}-2` });
    expect(calls).toHaveLength(2);
  });

  it('leaves no record when the run fails, so the schedule’s retry runs it again', async () => {
    const failing = countingRun({ fail: true });
    const event = { trigger: 'schedule', eventId: `evt-${topology.prefix}-fails` };
    await expect(onceForScheduledEvent(failing.run, persistence(), reportSummary)(event)).rejects.toThrow(
      'DynamoDB unavailable',
    );

    const healthy = countingRun();
    const summary = await onceForScheduledEvent(healthy.run, persistence(), reportSummary)(event);
    expect(healthy.calls).toHaveLength(1);
    expect(summary).toMatchObject({ eventId: event.eventId, sources: 1 });
  });

  it('always runs a manual invocation, which carries no event id, and returns its full report', async () => {
    const { run, calls } = countingRun();
    const handler = onceForScheduledEvent(run, persistence(), reportSummary);
    const first = await handler({ sourceIds: ['cm'] });
    await handler({ sourceIds: ['cm'] });
    expect(calls).toHaveLength(2);
    expect(first).toMatchObject({ dryRun: false, parity: [] });
  });
});
