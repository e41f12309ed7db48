import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { abandonWorkItem, runWorkItem, type WorkerDependencies, WorkMessageSchema } from './fanout';

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
  const processRecord = async (record: SQSRecord): Promise<void> => {
    const parsed = z.safeParse(WorkMessageSchema, safeJson(record.body));
    if (!parsed.success) {
      // Nothing sends such a message but an operator by hand: retrying cannot make it readable.
      logger.error('unreadable reconciliation work message', { messageId: record.messageId });
      return;
    }
    const message = parsed.data;
    const item = { runId: message.runId, itemId: message.itemId };
    try {
      const outcome = await runWorkItem(message, deps);
      logger.info('reconciliation work item', { ...item, ...outcome });
    } catch (error) {
      const description = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const receives = Number(record.attributes?.ApproximateReceiveCount) || 1;
      if (receives >= deps.maxReceiveCount) {
        await abandonWorkItem(message, `failed ${receives} times: ${description}`, deps);
      }
      logger.warn('reconciliation work item failed', { ...item, receives, error: description });
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
