import { environmentReader } from '../config/bootstrap';
import {
  ARI_STATE,
  MAPPINGS,
  PARITY_FINDINGS,
  RECONCILE_AUDIT,
  RECONCILE_CHECKPOINTS,
  RECONCILE_RUNS,
} from '../shared/topology';

/**
 * The reconciliation function's environment, validated once at cold start. It reads and corrects room nights
 * and reads mappings; it never sees the ledger, the queues, reservations or guests.
 */
export const readReconcileEnvironment = environmentReader('reconcile', 'reconciliation', {
  tables: {
    ari: ARI_STATE,
    mappings: MAPPINGS,
    checkpoints: RECONCILE_CHECKPOINTS,
    audit: RECONCILE_AUDIT,
    parity: PARITY_FINDINGS,
    runs: RECONCILE_RUNS,
  },
});

export type ReconcileEnvironment = ReturnType<typeof readReconcileEnvironment>;
