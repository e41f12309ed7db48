import { beforeAll } from 'vitest';
import { RECONCILE_RUN_LOG } from '../../lambdas/shared/topology';
import { DynamoDbReconcileRunStore } from '../../lambdas/state/dynamodb-reconcile-runs';
import { InMemoryReconcileRunStore } from '../fakes/reconcile-runs-memory';
import { reconcileRunStoreContract } from '../ports/reconcile-run-store.contract';
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
