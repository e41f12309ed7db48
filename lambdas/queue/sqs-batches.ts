import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** SQS's most entries per receive, send, delete or visibility batch. */
export const SQS_BATCH_SIZE = 10;

/** The items, SQS_BATCH_SIZE at a time, in order. */
export function* batches<T>(items: readonly T[]): Generator<T[]> {
  for (let start = 0; start < items.length; start += SQS_BATCH_SIZE) {
    yield items.slice(start, start + SQS_BATCH_SIZE);
  }
}

/**
 * Sends a message per item, SQS_BATCH_SIZE per SendMessageBatch. An entry SQS refuses does not stop the others:
 * the answer names each refused item (by `label`, given the item and its position among all) with SQS's reason,
 * once every batch was tried, and the caller decides what sending them again means.
 */
export async function sendInBatches<T>(
  client: SQSClient,
  queueUrl: string,
  items: readonly T[],
  entry: (item: T) => Omit<SendMessageBatchRequestEntry, 'Id'>,
  label: (item: T | undefined, position: number) => string,
): Promise<string[]> {
  const refused: string[] = [];
  let start = 0;
  for (const batch of batches(items)) {
    const { Failed = [] } = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        // Known by its position in the batch, in the answer too.
        Entries: batch.map((item, index) => ({ Id: String(index), ...entry(item) })),
      }),
    );
    for (const failure of Failed) {
      const index = Number(failure.Id);
      refused.push(
        `${label(batch[index], start + index)} (${failure.Code ?? 'error'}: ${failure.Message ?? ''})`,
      );
    }
    start += batch.length;
  }
  return refused;
}
