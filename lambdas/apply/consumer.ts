import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { CanonicalEvent } from '../domain/canonical';
import { REDRIVE_MARK, REPLAY_ATTRIBUTE } from '../queue/ports';
import { APPLY_METRICS, METRIC_DIMENSIONS } from '../shared/metric-names';
import type { HoldReader } from '../state/ports';
import { type ApplyDependencies, type ApplyOutcome, type ApplySignal, applyEvent } from './apply';
import { parseCanonicalMessage } from './canonical-schema';
import { BatchHoldView } from './holds';

export interface ConsumerDependencies extends Omit<ApplyDependencies, 'holds'> {
  /** The events queue's receives before SQS moves a message to the DLQ (lambdas/shared/topology.ts). */
  readonly maxReceiveCount: number;
  /** Where the holds on sources are kept; each batch reads a source's hold once (BatchHoldView). */
  readonly holdStore: HoldReader;
}

export type SqsBatchHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

const OUTCOME_METRICS: Readonly<Record<ApplyOutcome['status'], string>> = {
  applied: APPLY_METRICS.applied,
  rejected: APPLY_METRICS.rejected,
  parked: APPLY_METRICS.parked,
  skipped: APPLY_METRICS.skipped,
};

/**
 * The SQS consumer: applies each record's canonical event and reports the records that failed, so that SQS
 * redelivers only those (partial batch response). One structured log line per record, with ids, outcome and
 * timings; never the event's `data`. Transient errors fail the record; SQS retries it, and after the queue's
 * maxReceiveCount moves it to the DLQ, by which time the ledger entry's `lastError` says why.
 */
export function createConsumer(
  deps: ConsumerDependencies,
  logger: Logger,
  metrics: Metrics,
): SqsBatchHandler {
  const applyDeps: Omit<ApplyDependencies, 'holds'> = {
    ...deps,
    signal: (signal) => {
      recordSignal(signal, logger, metrics);
      deps.signal?.(signal);
    },
  };

  const processRecord = async (record: SQSRecord, holds: BatchHoldView): Promise<void> => {
    const started = deps.clock.now().getTime();
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount) || 1;
    if (receiveCount > 1) metrics.addMetric(APPLY_METRICS.retrySaturation, MetricUnit.Count, 1);
    const base = { messageId: record.messageId, receiveCount };

    const parsed = parseCanonicalMessage(record.body);
    if (!parsed.ok) {
      const eventId = parsed.eventId ?? record.messageAttributes?.eventId?.stringValue;
      // The queue sends the source as an attribute; a body that cannot be read may not name it.
      const sourceId = record.messageAttributes?.sourceId?.stringValue;
      const reason = `${parsed.code}: ${parsed.problems.join('; ')}`;
      // Settled before acknowledging: if the ledger is unreachable the record fails and is tried again.
      if (eventId && sourceId) {
        await deps.ledger.settle({ eventId, sourceId }, 'rejected', deps.clock.now().toISOString(), reason);
      }
      metrics.addMetric(OUTCOME_METRICS.rejected, MetricUnit.Count, 1);
      if (parsed.code === 'not_applicable')
        metrics.addMetric(APPLY_METRICS.contractViolations, MetricUnit.Count, 1);
      logger.error('event', {
        ...base,
        correlation_id: eventId,
        outcome: 'rejected',
        error: parsed.code,
        problems: parsed.problems,
        latencyMs: deps.clock.now().getTime() - started,
      });
      return;
    }

    const { event } = parsed;
    const common = () => {
      const now = deps.clock.now().getTime();
      return {
        ...base,
        correlation_id: event.eventId,
        sourceId: event.sourceId,
        kind: event.kind,
        type: event.type,
        latencyMs: now - started,
        lagMs: now - Date.parse(event.occurredAt),
      };
    };
    try {
      // A replay job sent it again on purpose (the attribute is its id): apply runs again, settled or not, once
      // per job. A redrive's mark (`redrive`) changes nothing here: a dead-lettered entry is not settled, and one
      // applied or rejected meanwhile keeps its outcome.
      const replay = replayJobOf(record.messageAttributes?.[REPLAY_ATTRIBUTE]?.stringValue);
      const outcome = await applyEvent(
        event,
        { ...applyDeps, holds },
        replay === undefined ? {} : { replay },
      );
      const fields = common();
      metrics.addMetric(OUTCOME_METRICS[outcome.status], MetricUnit.Count, 1);
      if (outcome.status === 'applied')
        metrics.addMetric(APPLY_METRICS.lag, MetricUnit.Milliseconds, fields.lagMs);
      logger.info('event', {
        ...fields,
        outcome: outcome.status,
        ...(replay === undefined ? {} : { replay }),
        ...outcomeFields(outcome),
      });
    } catch (error) {
      await noteFailure(event, receiveCount, error);
      throw error;
    }

    async function noteFailure(failed: CanonicalEvent, attempt: number, error: unknown): Promise<void> {
      metrics.addMetric(APPLY_METRICS.failures, MetricUnit.Count, 1);
      const description = describeError(error);
      const final = attempt >= deps.maxReceiveCount;
      const reason = final
        ? `dead-lettered after ${attempt} receives: ${description}`
        : `receive ${attempt} of ${deps.maxReceiveCount} failed: ${description}`;
      const at = deps.clock.now().toISOString();
      // SQS moves the message to the DLQ after this receive: the entry says so, rather than still `enqueued`.
      const recording = final
        ? deps.ledger.deadLetter(failed, reason, at)
        : deps.ledger.note(failed.eventId, reason, at);
      const noted = await recording.then(
        () => true,
        (noteError: unknown) => {
          logger.warn('could not record the failure on the ledger entry', {
            correlation_id: failed.eventId,
            error: describeError(noteError),
          });
          return false;
        },
      );
      const log = final ? logger.error.bind(logger) : logger.warn.bind(logger);
      log('event', {
        ...common(),
        outcome: final ? 'dead_lettered' : 'retrying',
        error: description,
        reason,
        ledgerNoted: noted,
      });
    }
  };

  /**
   * Events parked for a hold that ended during the batch go back on the queue. Should that fail, they wait in
   * review under their hold key, and the next resume of the source releases them.
   */
  async function releaseIfResumed(holds: BatchHoldView): Promise<void> {
    try {
      const released = await holds.releaseIfResumed(deps.requeue);
      if (released > 0) logger.info('released events held while their source was resumed', { released });
    } catch (error) {
      logger.error('could not release events held while their source was resumed', {
        error: describeError(error),
      });
    }
  }

  return async (event, context) => {
    // A processor per invocation: it holds the batch's results, and a local runtime may run batches concurrently.
    const processor = new BatchProcessor(EventType.SQS);
    const holds = new BatchHoldView(deps.holdStore);
    if (context) logger.addContext(context);
    try {
      const response = await processPartialResponse(
        event,
        (record: SQSRecord) => processRecord(record, holds),
        processor,
        {
          ...(context ? { context } : {}),
          // Every record failing is still a partial response listing them all, rather than an invocation error.
          throwOnFullBatchFailure: false,
        },
      );
      await releaseIfResumed(holds);
      return response;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/** Why the outcome is what it is, in codes and ids only: reasons naming external ids stay in the ledger. */
function outcomeFields(outcome: ApplyOutcome): Record<string, unknown> {
  switch (outcome.status) {
    case 'applied': {
      const { roomNights, written } = outcome.detail;
      return {
        ...(typeof roomNights === 'number' ? { roomNights } : {}),
        ...(written !== undefined && typeof written === 'object' ? { written } : {}),
      };
    }
    case 'rejected':
      return { reason: outcome.reason };
    case 'parked':
      return { waitingForEntity: outcome.waitingFor.split('|')[0] };
    case 'skipped':
      return { reason: outcome.reason };
  }
}

function recordSignal(signal: ApplySignal, logger: Logger, metrics: Metrics): void {
  switch (signal.kind) {
    case 'service_notice': {
      logger.warn('service notice', { sourceId: signal.sourceId, notice: signal.notice });
      const single = metrics.singleMetric();
      single.addDimension(METRIC_DIMENSIONS.notice, signal.notice);
      single.addMetric(APPLY_METRICS.serviceNotices, MetricUnit.Count, 1);
      return;
    }
    case 'inventory_capped':
      metrics.addMetric(APPLY_METRICS.inventoryCapped, MetricUnit.Count, 1);
      return;
    case 'parked_released':
      metrics.addMetric(APPLY_METRICS.parkedReleased, MetricUnit.Count, signal.count);
      return;
  }
}

/** Error name and message only: stacks add nothing for operators, and SDK errors can embed request details. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The replay job a message's replay attribute names; a redrive's mark names none. */
function replayJobOf(mark: string | undefined): string | undefined {
  return mark === undefined || mark === REDRIVE_MARK ? undefined : mark;
}
