import { environmentReader } from '../config/bootstrap';
import {
  ARI_STATE,
  MAPPINGS,
  PARITY_FINDINGS,
  RECONCILE_AUDIT,
  RECONCILE_CHECKPOINTS,
  RECONCILE_RUN_LOG,
  RECONCILE_RUNS,
  RECONCILE_WORK,
} from '../shared/topology';

/**
 * The reconciliation worker's tables, which the planner's environment shares so that a manual run can be
 * followed: it reads and corrects room nights and reads mappings; it never sees the ledger, reservations or
 * guests.
 */
const WORKER_TABLES = {
  ari: ARI_STATE,
  mappings: MAPPINGS,
  checkpoints: RECONCILE_CHECKPOINTS,
  audit: RECONCILE_AUDIT,
  parity: PARITY_FINDINGS,
  runLog: RECONCILE_RUN_LOG,
};

/**
 * The scheduled (planning) function's environment, validated once at cold start: the run log it records the run
 * in, the idempotency records of scheduled events, and the work queue it sends the run's items to.
 */
export const readReconcileEnvironment = environmentReader('reconcile', 'reconciliation', {
  tables: { ...WORKER_TABLES, runs: RECONCILE_RUNS },
  queues: { work: RECONCILE_WORK },
});

export type ReconcileEnvironment = ReturnType<typeof readReconcileEnvironment>;

/** The reconciliation worker's environment: its tables, and the work queue a run's parity items go to. */
export const readReconcileWorkerEnvironment = environmentReader('reconcile', 'reconciliation worker', {
  tables: WORKER_TABLES,
  queues: { work: RECONCILE_WORK },
});
