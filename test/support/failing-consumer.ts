import type { SQSBatchResponse } from 'aws-lambda';
import type { SqsConsumer } from '../../local/poller';

/**
 * The consumer, except that the records whose body `fails` picks are reported failed without it seeing them: SQS
 * receives them again until their receives run out and it moves them to the dead-letter queue.
 */
export function failingRecords(consumer: SqsConsumer, fails: (body: string) => boolean): SqsConsumer {
  return async (event, context) => {
    const passed = event.Records.filter((record) => !fails(record.body));
    const failed = event.Records.filter((record) => fails(record.body));
    const response: SQSBatchResponse =
      passed.length > 0
        ? ((await consumer({ Records: passed }, context)) ?? { batchItemFailures: [] })
        : { batchItemFailures: [] };
    return {
      batchItemFailures: [
        ...response.batchItemFailures,
        ...failed.map((record) => ({ itemIdentifier: record.messageId })),
      ],
    };
  };
}
