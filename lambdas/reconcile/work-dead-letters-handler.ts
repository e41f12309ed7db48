import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { bootstrapTracedFunction } from '../config/bootstrap-tracing';
import { SqsWorkQueue } from '../queue/sqs-work-queue';
import { systemClock } from '../shared/clock';
import { DynamoDbReconcileRunStore } from '../state/dynamodb-reconcile-runs';
import { readReconcileWorkDeadLettersEnvironment } from './env';
import type { WorkMessage } from './fanout';
import { recordReconcileReport } from './function';
import { createWorkDeadLetterConsumer } from './work-dead-letters';

// Runs once per cold start.
const fn = bootstrapTracedFunction('reconcile', readReconcileWorkDeadLettersEnvironment);
const { config, environment } = fn;

/** The reconciliation work DLQ's event source target: ends each dead-lettered item in its run. */
export const handler = createWorkDeadLetterConsumer(
  {
    runs: new DynamoDbReconcileRunStore(fn.client(DynamoDBClient), environment.tables.runLog, {
      retentionDays: config.reconciliation.auditRetentionDays,
    }),
    work: new SqsWorkQueue<WorkMessage>(fn.client(SQSClient), environment.queues.work),
    clock: systemClock,
    // The run's last item ended here: its metrics and summary are this function's to emit, once.
    onComplete: (report) => recordReconcileReport(report, fn.logger, fn.metrics),
  },
  fn.logger,
  fn.metrics,
);
