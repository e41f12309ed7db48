import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createWorkConsumer } from '../queue/work-consumer';
import { RECONCILE_WORK_METRICS } from '../shared/metric-names';
import { endDeadLetteredItem, type ItemEndDependencies, type WorkMessage, WorkMessageSchema } from './fanout';
import type { MetricsSink } from './function';

/**
 * The work DLQ's consumer: ends the item of each dead-lettered message (see `endDeadLetteredItem`), so that the
 * run its worker never ended completes. A message whose item a worker still holds, or that the run log could not
 * take, is reported failed alone and comes back after the DLQ's visibility timeout; one that ended is deleted.
 */
export function createWorkDeadLetterConsumer(
  deps: ItemEndDependencies,
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
  metrics: Pick<MetricsSink, 'singleMetric'>,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  return createWorkConsumer(
    {
      what: 'dead-lettered reconciliation work item',
      schema: WorkMessageSchema,
      fieldsOf: fieldsOf,
      handle: async (message) => {
        let outcome: Awaited<ReturnType<typeof endDeadLetteredItem>>;
        try {
          outcome = await endDeadLetteredItem(message, deps);
        } catch (error) {
          metrics.singleMetric().addMetric(RECONCILE_WORK_METRICS.deadLetterNotEnded, 'Count', 1);
          throw error;
        }
        // Every dead-lettered item counts, ended here or before: each one's worker failed on every receive.
        metrics.singleMetric().addMetric(RECONCILE_WORK_METRICS.deadLettered, 'Count', 1);
        return outcome;
      },
    },
    logger,
  );
}

/** Ids only: a work item carries no guest data. */
function fieldsOf(message: WorkMessage): Record<string, unknown> {
  const { runId, itemId, kind, propertyId } = message;
  return {
    runId,
    itemId,
    kind,
    ...(message.kind === 'drift' ? { sourceId: message.sourceId } : {}),
    ...(propertyId === undefined ? {} : { propertyId }),
  };
}
