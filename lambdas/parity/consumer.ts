import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { RoomNightKey } from '../domain/state';
import { roomNightKeyOfItem } from '../state/dynamodb-ari-store';
import {
  checkChangedNights,
  nightId,
  type ParityOnChangeDependencies,
  type ParityOnChangeSettings,
} from './on-change';

/**
 * Handles a batch of the ARI table's stream records: each changed night is checked once, however many of its
 * channels changed. The records of a night that failed, and of a record whose key is not a room night's, are
 * reported by sequence number; Lambda resumes the shard from the lowest of them, so a retry re-checks some nights
 * that passed, which is harmless: a check only ever writes what the night's current state says.
 */
export function createParityConsumer(
  deps: ParityOnChangeDependencies,
  settings: ParityOnChangeSettings,
  logger: Pick<Logger, 'error'>,
): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  return async (event) => {
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
    const { failures } = await checkChangedNights(
      [...changed.values()].map((entry) => entry.key),
      deps,
      settings,
    );
    for (const [id, error] of failures) {
      const entry = changed.get(id);
      logger.error('Parity check of a changed night failed', { night: entry?.key, error });
      failed.push(...(entry?.records ?? []));
    }
    return {
      batchItemFailures: failed.flatMap((record) => {
        const sequenceNumber = record.dynamodb?.SequenceNumber;
        return sequenceNumber === undefined ? [] : [{ itemIdentifier: sequenceNumber }];
      }),
    };
  };
}
