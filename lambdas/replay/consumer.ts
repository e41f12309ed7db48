import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { createWorkConsumer } from '../queue/work-consumer';
import { type ReplayWorkerDependencies, replayStep } from './worker';

export interface ReplayConsumerDependencies extends ReplayWorkerDependencies {
  /** The work queue's receives before SQS moves a message to its DLQ (lambdas/shared/topology.ts). */
  readonly maxReceiveCount: number;
}

const WorkMessageSchema = z.strictObject({ jobId: z.string().check(z.minLength(1), z.maxLength(128)) });

/**
 * The work queue's consumer: one page of a job per message. A page that fails is retried by SQS; on the last
 * allowed receive the job is marked failed with why, so that nobody waits for a job whose work went to the DLQ.
 */
export function createReplayConsumer(
  deps: ReplayConsumerDependencies,
  logger: Logger,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  return createWorkConsumer(
    {
      what: 'replay page',
      schema: WorkMessageSchema,
      maxReceiveCount: deps.maxReceiveCount,
      fieldsOf: ({ jobId }) => ({ jobId }),
      handle: ({ jobId }) => replayStep(jobId, deps),
      giveUp: ({ jobId }, receives, description) =>
        deps.jobs.fail(
          jobId,
          `page failed ${receives} times: ${description}`,
          deps.clock.now().toISOString(),
        ),
    },
    logger,
  );
}
