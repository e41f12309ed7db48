import { randomUUID } from 'node:crypto';
import { BatchWriteItemCommand, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { RECONCILE_RUN_LOG } from '../../lambdas/shared/topology';
import { DynamoDbReconcileRunStore } from '../../lambdas/state/dynamodb-reconcile-runs';
import type { WorkItem } from '../../lambdas/state/reconcile-runs';
import { InMemoryReconcileRunStore } from '../fakes/reconcile-runs-memory';
import { planOf, reconcileRunStoreContract } from '../ports/reconcile-run-store.contract';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

// The run log's contract against DynamoDB Local and against the in-memory fake the unit tests use.

let topology: IsolatedTopology;

beforeAll(async () => {
  topology = await provisionIsolated();
});

reconcileRunStoreContract('DynamoDbReconcileRunStore', () => {
  const table = topology.tables[RECONCILE_RUN_LOG.id];
  if (table === undefined) throw new Error('the run log table was not provisioned');
  return new DynamoDbReconcileRunStore(topology.dynamodb, table, { retentionDays: 90 });
});
reconcileRunStoreContract('InMemoryReconcileRunStore', () => new InMemoryReconcileRunStore());

describe('DynamoDbReconcileRunStore under throttling', () => {
  it('tries a run’s source rows eight times while DynamoDB leaves them unprocessed, then says what to do', async () => {
    const table = topology.tables[RECONCILE_RUN_LOG.id] ?? '';
    let batchCalls = 0;
    // Every BatchWriteItem comes back with all its items unprocessed, as a throttled table answers.
    const throttled = {
      send: (command: unknown) => {
        if (command instanceof BatchWriteItemCommand) {
          batchCalls++;
          return Promise.resolve({ UnprocessedItems: command.input.RequestItems });
        }
        return topology.dynamodb.send(command as never);
      },
    } as unknown as DynamoDBClient;
    const store = new DynamoDbReconcileRunStore(throttled, table, { retentionDays: 90 });
    const runId = `r-${randomUUID()}`;
    await expect(
      store.create({
        runId,
        startedAt: '2026-06-01T12:00:00.000Z',
        trigger: 'manual',
        dryRun: false,
        thresholdPercent: 5,
        items: [{ kind: 'drift', runId, itemId: 'drift/cm', sourceId: 'cm' }],
      }),
    ).rejects.toThrow(/unprocessed after 8 attempts .*Planning the run again is safe/);
    expect(batchCalls).toBe(8);
  });
});

describe('DynamoDbReconcileRunStore items', () => {
  it('gives an item ended without a claim the retention of a claimed one', async () => {
    const table = topology.tables[RECONCILE_RUN_LOG.id] ?? '';
    const store = new DynamoDbReconcileRunStore(topology.dynamodb, table, { retentionDays: 90 });
    const plan = planOf();
    await store.create(plan);
    const [item] = plan.items as [WorkItem];
    const finishedAt = '2026-06-01T13:00:00.000Z';
    // Dead-lettered before any worker claimed it: the end writes the item's first row.
    expect(
      await store.abandon(item, { status: 'failed', error: 'dead_lettered', message: 'gone', finishedAt }),
    ).toBe(true);
    const { Items = [] } = await topology.dynamodb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :item)',
        ExpressionAttributeValues: { ':pk': { S: `run#${plan.runId}` }, ':item': { S: 'item#' } },
      }),
    );
    expect(Items.map((row) => row.expiresAt?.N)).toEqual([
      String(Date.parse(finishedAt) / 1000 + 90 * 86_400),
    ]);
  });
});
