import * as z from 'zod/mini';
import { type FunctionEnvironment, functionEnvFields, functionEnvironment } from '../config/bootstrap';
import { TableNameSchema, validateEnvironment } from '../config/environment';
import { METRIC_SERVICES } from '../shared/metric-names';

/**
 * The reconciliation function's environment, validated once at cold start. It reads and corrects room nights
 * and reads mappings; it never sees the ledger, the queues, reservations or guests.
 */
const ReconcileEnvSchema = z.object({
  ...functionEnvFields(METRIC_SERVICES.reconcile),
  ARI_TABLE_NAME: TableNameSchema,
  MAPPINGS_TABLE_NAME: TableNameSchema,
  CHECKPOINTS_TABLE_NAME: TableNameSchema,
  AUDIT_TABLE_NAME: TableNameSchema,
  PARITY_TABLE_NAME: TableNameSchema,
});

export interface ReconcileEnvironment extends FunctionEnvironment {
  readonly tables: {
    readonly ari: string;
    readonly mappings: string;
    readonly checkpoints: string;
    readonly audit: string;
    readonly parity: string;
  };
}

export function readReconcileEnvironment(env: NodeJS.ProcessEnv = process.env): ReconcileEnvironment {
  const data = validateEnvironment(ReconcileEnvSchema, env, 'reconciliation');
  return {
    ...functionEnvironment(data),
    tables: {
      ari: data.ARI_TABLE_NAME,
      mappings: data.MAPPINGS_TABLE_NAME,
      checkpoints: data.CHECKPOINTS_TABLE_NAME,
      audit: data.AUDIT_TABLE_NAME,
      parity: data.PARITY_TABLE_NAME,
    },
  };
}
