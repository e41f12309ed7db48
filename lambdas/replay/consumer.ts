import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
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
  const processRecord = async (record: SQSRecord): Promise<void> => {
    const parsed = z.safeParse(WorkMessageSchema, safeJson(record.body));
    if (!parsed.success) {
      // Nothing sends such a message but an operator by hand: retrying cannot make it readable.
      logger.error('unreadable replay work message', { messageId: record.messageId });
      return;
    }
    const { jobId } = parsed.data;
    try {
      const step = await replayStep(jobId, deps);
      logger.info('replay page', { jobId, ...step });
    } catch (error) {
      const description = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const receives = Number(record.attributes?.ApproximateReceiveCount) || 1;
      if (receives >= deps.maxReceiveCount) {
        await deps.jobs.fail(
          jobId,
          `page failed ${receives} times: ${description}`,
          deps.clock.now().toISOString(),
        );
      }
      logger.warn('replay page failed', { jobId, receives, error: description });
      throw error;
    }
  };

  return async (event, context) => {
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(event, processRecord, processor, {
      ...(context ? { context } : {}),
      throwOnFullBatchFailure: false,
    });
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
