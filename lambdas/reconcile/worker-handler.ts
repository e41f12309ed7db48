import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { secretResolver } from '../config/bootstrap-secrets';
import { bootstrapTracedFunction } from '../config/bootstrap-tracing';
import { RECONCILE_TIMEOUT_MARGIN_SECONDS } from '../config/schema';
import { SqsWorkQueue } from '../queue/sqs-work-queue';
import { RECONCILE_WORK } from '../shared/topology';
import { DynamoDbReconcileRunStore } from '../state/dynamodb-reconcile-runs';
import { readReconcileWorkerEnvironment } from './env';
import type { WorkerDependencies, WorkMessage } from './fanout';
import { recordReconcileReport } from './function';
import { createReconcileRuntime } from './runtime';
import { createReconcileWorker } from './worker';

/** Tokens are re-read after this long, so a rotated token is picked up without a deploy. */
const TOKEN_CACHE_SECONDS = 300;

// Runs once per cold start.
const fn = bootstrapTracedFunction('reconcile', readReconcileWorkerEnvironment);
const { config, environment } = fn;
const dynamodb = fn.client(DynamoDBClient);

/** Shared by every item this container takes: polling clients (breakers) live as long as it. */
export const reconcileWorkerRuntime = createReconcileRuntime({
  config,
  tables: environment.tables,
  dynamodb,
  // Workers poll one provider at once: its quota is kept where all of them see it.
  sharedRateLimits: true,
  secrets: secretResolver(
    'reconcile',
    config.sources.flatMap((source) => (source.polling ? [source.polling.token] : [])),
    TOKEN_CACHE_SECONDS,
  ),
});

const { budgetSeconds, auditRetentionDays } = config.reconciliation;

/**
 * The worker over this container's dependencies; `onProgress` hears each drift item's pages (the local runtime
 * streams them to whoever follows the run).
 */
export function createWorkerHandler(onProgress?: WorkerDependencies['onProgress']) {
  return createReconcileWorker(
    {
      ...(onProgress ? { onProgress } : {}),
      runtime: reconcileWorkerRuntime,
      work: new SqsWorkQueue<WorkMessage>(fn.client(SQSClient), environment.queues.work),
      runs: new DynamoDbReconcileRunStore(dynamodb, environment.tables.runLog, {
        retentionDays: auditRetentionDays,
      }),
      budgetMs: budgetSeconds * 1000,
      // The worker's whole timeout: a live worker's claim never runs out under it.
      leaseMs: (budgetSeconds + RECONCILE_TIMEOUT_MARGIN_SECONDS) * 1000,
      maxReceiveCount: RECONCILE_WORK.maxReceiveCount ?? 1,
      onComplete: (report) => {
        recordReconcileReport(report, fn.logger, fn.metrics);
        fn.metrics.publishStoredMetrics();
      },
    },
    fn.logger,
  );
}

export const handler = createWorkerHandler();
