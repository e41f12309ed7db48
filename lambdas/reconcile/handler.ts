import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { bootstrapTracedFunction } from '../config/bootstrap-tracing';
import { SqsWorkQueue } from '../queue/sqs-work-queue';
import { systemClock } from '../shared/clock';
import { DynamoDbReconcileRunStore } from '../state/dynamodb-reconcile-runs';
import { readReconcileEnvironment } from './env';
import type { PlannerDependencies, WorkMessage } from './fanout';
import { createPlanFunction, onceForScheduledEvent } from './function';

// Runs once per cold start.
const fn = bootstrapTracedFunction('reconcile', readReconcileEnvironment);
const { config, environment } = fn;
const dynamodb = fn.client(DynamoDBClient);

/** What the planner uses: the run log it records runs in and the work queue the workers take items from. */
export const reconcilePlanner: PlannerDependencies = {
  config,
  runs: new DynamoDbReconcileRunStore(dynamodb, environment.tables.runLog, {
    retentionDays: config.reconciliation.auditRetentionDays,
  }),
  work: new SqsWorkQueue<WorkMessage>(fn.client(SQSClient), environment.queues.work),
  clock: systemClock,
};

/** The schedule's target (and a manual invocation's): plans a run as work items; the workers do the work. */
export const handler = onceForScheduledEvent(
  createPlanFunction(() => reconcilePlanner, fn.logger),
  new DynamoDBPersistenceLayer({
    tableName: environment.tables.runs,
    awsSdkV3Client: dynamodb,
  }),
  (eventId, planned) => ({
    eventId,
    ...planned,
    scans: planned.outcome === 'planned' ? planned.scans.length : 0,
  }),
);
