import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { RoomNightKey } from '../domain/state';
import { PARITY_METRICS } from '../shared/metric-names';
import { roomNightKeyOfItem } from '../state/dynamodb-ari-store';
import {
  checkChangedNights,
  type NightOutcome,
  nightId,
  type ParityOnChangeDependencies,
  type ParityOnChangeSettings,
} from './on-change';

/** What the consumer needs of Powertools' Metrics. */
export interface ParityMetrics {
  addMetric(name: string, unit: typeof MetricUnit.Count, value: number): unknown;
  publishStoredMetrics(): void;
}

/**
 * Handles a batch of the ARI table's stream records: each changed night is checked once, however many of its
 * channels changed. The records of a night that failed, and of a record whose key is not a room night's, are
 * reported by sequence number; Lambda resumes the shard from the lowest of them, so a retry re-checks some nights
 * that passed, which is harmless: a check only ever writes what the night's current state says.
 *
 * With `metrics`, each batch publishes the nights it checked, flagged, cleared and failed on (PARITY_METRICS).
 */
export function createParityConsumer(
  deps: ParityOnChangeDependencies,
  settings: ParityOnChangeSettings,
  logger: Pick<Logger, 'error'>,
  metrics?: ParityMetrics,
): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  return async (event) => {
    try {
      const { response, outcomes, failures } = await checkBatch(event, deps, settings, logger);
      if (metrics !== undefined) recordOutcomes(metrics, outcomes, failures);
      return response;
    } finally {
      metrics?.publishStoredMetrics();
    }
  };
}

async function checkBatch(
  event: DynamoDBStreamEvent,
  deps: ParityOnChangeDependencies,
  settings: ParityOnChangeSettings,
  logger: Pick<Logger, 'error'>,
): Promise<{
  response: DynamoDBBatchResponse;
  outcomes: ReadonlyMap<string, NightOutcome>;
  failures: number;
}> {
  const failed: DynamoDBRecord[] = [];
  const changed = new Map<string, { key: RoomNightKey; records: DynamoDBRecord[] }>();
  for (const record of event.Records) {
    const keys = record.dynamodb?.Keys;
    try {
      const key = roomNightKeyOfItem(keys?.pk?.S, keys?.sk?.S);
      const id = nightId(key);
      const entry = changed.get(id) ?? { key, records: [] };
      entry.records.push(record);
      changed.set(id, entry);
    } catch (error) {
      logger.error('Stream record names no room night', { eventID: record.eventID, error });
      failed.push(record);
    }
  }
  const { outcomes, failures } = await checkChangedNights(
    [...changed.values()].map((entry) => entry.key),
    deps,
    settings,
  );
  for (const [id, error] of failures) {
    const entry = changed.get(id);
    logger.error('Parity check of a changed night failed', { night: entry?.key, error });
    failed.push(...(entry?.records ?? []));
  }
  const response = {
    batchItemFailures: failed.flatMap((record) => {
      const sequenceNumber = record.dynamodb?.SequenceNumber;
      return sequenceNumber === undefined ? [] : [{ itemIdentifier: sequenceNumber }];
    }),
  };
  return { response, outcomes, failures: failures.size };
}

function recordOutcomes(
  metrics: ParityMetrics,
  outcomes: ReadonlyMap<string, NightOutcome>,
  failures: number,
): void {
  const count = (...kinds: NightOutcome[]) =>
    [...outcomes.values()].filter((outcome) => kinds.includes(outcome)).length;
  metrics.addMetric(
    PARITY_METRICS.nightsChecked,
    MetricUnit.Count,
    count('without_truth_rate', 'clean', 'flagged', 'cleared'),
  );
  metrics.addMetric(PARITY_METRICS.nightsFlagged, MetricUnit.Count, count('flagged'));
  metrics.addMetric(PARITY_METRICS.nightsCleared, MetricUnit.Count, count('cleared'));
  metrics.addMetric(PARITY_METRICS.checkFailures, MetricUnit.Count, failures);
}
