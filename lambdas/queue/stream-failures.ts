import * as z from 'zod/mini';

/**
 * What a DynamoDB stream event source mapping sends its on-failure destination for a batch it gave up on: not the
 * records, only where they were in the stream (shard and sequence range), when they arrived and why Lambda gave up.
 * The local runtime's stream poller writes the same shape, so that the operations tools read both alike. Unknown
 * fields are kept out of the schema, not refused: Lambda may add some.
 */
export const StreamBatchFailureSchema = z.object({
  requestContext: z.object({
    /** RetryAttemptsExhausted, RecordAgeExceeded, ... */
    condition: z.string(),
    approximateInvokeCount: z.optional(z.number()),
    requestId: z.optional(z.string()),
    functionArn: z.optional(z.string()),
  }),
  responseContext: z.optional(
    z.object({
      statusCode: z.optional(z.number()),
      executedVersion: z.optional(z.string()),
      /** Set when the last invocation failed (Unhandled, Handled); absent when it answered with failed records. */
      functionError: z.optional(z.string()),
    }),
  ),
  version: z.optional(z.string()),
  /** When Lambda gave up. */
  timestamp: z.optional(z.string()),
  DDBStreamBatchInfo: z.object({
    shardId: z.string(),
    startSequenceNumber: z.string(),
    endSequenceNumber: z.string(),
    approximateArrivalOfFirstRecord: z.optional(z.string()),
    approximateArrivalOfLastRecord: z.optional(z.string()),
    batchSize: z.number(),
    streamArn: z.optional(z.string()),
  }),
});

export type StreamBatchFailure = z.infer<typeof StreamBatchFailureSchema>;

/** A dead-lettered message's stream batch, or undefined when its body is not one. */
export function parseStreamBatchFailure(body: string): StreamBatchFailure | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = z.safeParse(StreamBatchFailureSchema, json);
  return parsed.success ? parsed.data : undefined;
}
