import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createWorkConsumer } from '../queue/work-consumer';
import {
  abandonWorkItem,
  runWorkItem,
  type WorkerDependencies,
  WorkItemNotEndedError,
  WorkMessageSchema,
} from './fanout';

export interface ReconcileWorkerDependencies extends WorkerDependencies {
  /** The work queue's receives before SQS moves a message to its DLQ (lambdas/shared/topology.ts). */
  readonly maxReceiveCount: number;
}

/**
 * The work queue's consumer: one work item per message (see fanout.ts). An item whose run log could not be
 * reached is retried by SQS; on the last allowed receive it is ended as failed, so that its run still completes.
 */
export function createReconcileWorker(
  deps: ReconcileWorkerDependencies,
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  return createWorkConsumer(
    {
      what: 'reconciliation work item',
      schema: WorkMessageSchema,
      maxReceiveCount: deps.maxReceiveCount,
      fieldsOf: ({ runId, itemId }) => ({ runId, itemId }),
      handle: (message) => runWorkItem(message, deps),
      giveUp: (message, receives, description, error) =>
        abandonWorkItem(
          message,
          { error: 'receives_exhausted', message: `failed ${receives} times: ${description}` },
          { ...deps, clock: deps.runtime().clock },
          error instanceof WorkItemNotEndedError ? error.attempt : undefined,
        ),
    },
    logger,
  );
}
