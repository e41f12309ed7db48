import * as z from 'zod/mini';
import {
  ConfigJsonSchema,
  MetricsNamespaceSchema,
  parseConfigJson,
  TableNameSchema,
  validateEnvironment,
} from '../config/environment';
import type { ParitySyncConfig } from '../config/schema';

/**
 * The reconciliation function's environment, validated once at cold start. It reads and corrects room nights
 * and reads mappings; it never sees the ledger, the queues, reservations or guests.
 */
const ReconcileEnvSchema = z.object({
  PARITYSYNC_CONFIG_JSON: ConfigJsonSchema,
  ARI_TABLE_NAME: TableNameSchema,
  MAPPINGS_TABLE_NAME: TableNameSchema,
  CHECKPOINTS_TABLE_NAME: TableNameSchema,
  AUDIT_TABLE_NAME: TableNameSchema,
  PARITY_TABLE_NAME: TableNameSchema,
  POWERTOOLS_METRICS_NAMESPACE: MetricsNamespaceSchema,
  POWERTOOLS_SERVICE_NAME: z._default(z.string(), 'paritysync-reconcile'),
});

export interface ReconcileEnvironment {
  readonly config: ParitySyncConfig;
  readonly metricsNamespace: string;
  readonly serviceName: string;
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
    config: parseConfigJson(data.PARITYSYNC_CONFIG_JSON),
    metricsNamespace: data.POWERTOOLS_METRICS_NAMESPACE,
    serviceName: data.POWERTOOLS_SERVICE_NAME,
    tables: {
      ari: data.ARI_TABLE_NAME,
      mappings: data.MAPPINGS_TABLE_NAME,
      checkpoints: data.CHECKPOINTS_TABLE_NAME,
      audit: data.AUDIT_TABLE_NAME,
      parity: data.PARITY_TABLE_NAME,
    },
  };
}
