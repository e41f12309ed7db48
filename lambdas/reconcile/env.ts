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
 * The scheduled (planning) function's environment, validated once at cold start: the run log it records the run
 * in, the idempotency records of scheduled events, and the work queue it sends the run's items to. It never
 * reads room nights itself.
 */
export const readReconcileEnvironment = environmentReader('reconcile', 'reconciliation', {
  tables: { runLog: RECONCILE_RUN_LOG, runs: RECONCILE_RUNS },
  queues: { work: RECONCILE_WORK },
});

export type ReconcileEnvironment = ReturnType<typeof readReconcileEnvironment>;

/**
 * The reconciliation worker's environment: it reads and corrects room nights and reads mappings, keeps
 * checkpoints, the audit, parity findings and the run log, and sends a run's parity items to the work queue. It
 * never sees the ledger, reservations or guests.
 */
export const readReconcileWorkerEnvironment = environmentReader('reconcile', 'reconciliation worker', {
  tables: {
    ari: ARI_STATE,
    mappings: MAPPINGS,
    checkpoints: RECONCILE_CHECKPOINTS,
    audit: RECONCILE_AUDIT,
    parity: PARITY_FINDINGS,
    runLog: RECONCILE_RUN_LOG,
  },
  queues: { work: RECONCILE_WORK },
});

/**
 * The work DLQ's consumer's environment: the run log, where it ends a dead-lettered item, and the work queue, to
 * which the end of a run's last drift item sends its parity items. It reads no room night and polls no provider.
 */
export const readReconcileWorkDeadLettersEnvironment = environmentReader(
  'reconcile',
  'reconciliation work dead-letter consumer',
  { tables: { runLog: RECONCILE_RUN_LOG }, queues: { work: RECONCILE_WORK } },
);
