import * as z from 'zod/mini';
import { type FunctionEnvironment, functionEnvFields, functionEnvironment } from '../config/bootstrap';
import { type TableNames, tableEnvFields, tableNames, validateEnvironment } from '../config/environment';
import {
  ARI_STATE,
  MAPPINGS,
  PARITY_FINDINGS,
  RECONCILE_AUDIT,
  RECONCILE_CHECKPOINTS,
  RECONCILE_RUNS,
} from '../shared/topology';

/** It reads and corrects room nights and reads mappings; it never sees the ledger, the queues, reservations or guests. */
const RECONCILE_TABLES = {
  ari: ARI_STATE,
  mappings: MAPPINGS,
  checkpoints: RECONCILE_CHECKPOINTS,
  audit: RECONCILE_AUDIT,
  parity: PARITY_FINDINGS,
  runs: RECONCILE_RUNS,
};

/** The reconciliation function's environment, validated once at cold start. */
const ReconcileEnvSchema = z.object({
  ...functionEnvFields('reconcile'),
  ...tableEnvFields(RECONCILE_TABLES),
});

export interface ReconcileEnvironment extends FunctionEnvironment {
  readonly tables: TableNames<typeof RECONCILE_TABLES>;
}

export function readReconcileEnvironment(env: NodeJS.ProcessEnv = process.env): ReconcileEnvironment {
  const data = validateEnvironment(ReconcileEnvSchema, env, 'reconciliation');
  return { ...functionEnvironment(data), tables: tableNames(RECONCILE_TABLES, data) };
}
