import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';

export interface WorkConsumerOptions<M> {
  /** Names a message in the logs: `<what>`, `<what> failed`, `unreadable <what> message`. */
  readonly what: string;
  readonly schema: z.ZodMiniType<M>;
  /**
   * The work queue's receives before SQS moves a message to its DLQ (lambdas/shared/topology.ts); absent for a
   * queue with no DLQ (a DLQ itself), whose failed messages come back until they expire.
   */
  readonly maxReceiveCount?: number;
  /** Ids and counts that name the message in every log line: never its whole body. */
  readonly fieldsOf: (message: M) => Record<string, unknown>;
  /** Does one message's work and answers what to log; throws to have SQS deliver the message again. */
  readonly handle: (message: M) => Promise<object>;
  /**
   * Called on the last allowed receive of a message whose work failed, before SQS moves it to the DLQ, so that
   * whoever waits on that work (a job, a run) learns it ended. Never called without `maxReceiveCount`.
   */
  readonly giveUp?: (message: M, receives: number, description: string, error: unknown) => Promise<unknown>;
}

/**
 * A work queue's consumer: one message at a time, each failure reported to SQS alone (partial batch response),
 * and a message no retry can make readable dropped with an error log rather than retried into the DLQ.
 */
export function createWorkConsumer<M>(
  options: WorkConsumerOptions<M>,
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const processRecord = async (record: SQSRecord): Promise<void> => {
    const parsed = z.safeParse(options.schema, safeJson(record.body));
    if (!parsed.success) {
      // Nothing sends such a message but an operator by hand: retrying cannot make it readable.
      logger.error(`unreadable ${options.what} message`, { messageId: record.messageId });
      return;
    }
    const message = parsed.data;
    const fields = options.fieldsOf(message);
    try {
      logger.info(options.what, { ...fields, ...(await options.handle(message)) });
    } catch (error) {
      const description = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const receives = Number(record.attributes?.ApproximateReceiveCount) || 1;
      const { maxReceiveCount, giveUp } = options;
      if (giveUp && maxReceiveCount !== undefined && receives >= maxReceiveCount) {
        await giveUp(message, receives, description, error);
      }
      logger.warn(`${options.what} failed`, { ...fields, receives, error: description });
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
