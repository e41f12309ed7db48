/**
 * The one description of ParitySync's tables and queues. The CDK constructs build AWS resources from it and
 * the local runtime creates the same tables and queues in the emulators from it, so the two cannot drift.
 * Pure data: imported by Lambda bundles, so it must not import aws-cdk-lib.
 */

export type AttributeType = 'S' | 'N';

export interface TableDefinition {
  /** Construct id in the stack, and the table name locally (prefixed). */
  readonly id: string;
  readonly partitionKey: { readonly name: string; readonly type: AttributeType };
  readonly sortKey?: { readonly name: string; readonly type: AttributeType };
  readonly timeToLiveAttribute?: string;
}

export interface QueueDefinition {
  readonly id: string;
  /** Bytes. Set explicitly: SQS's default of 256 KiB is below the largest body the edge accepts. */
  readonly maximumMessageSizeBytes: number;
  readonly retentionSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the DLQ; absent for a DLQ itself. */
  readonly maxReceiveCount?: number;
  readonly deadLetterQueue?: string;
}

export const DELIVERY_LEDGER: TableDefinition = {
  id: 'DeliveryLedger',
  partitionKey: { name: 'pk', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
};

const FOURTEEN_DAYS = 14 * 24 * 3600;

export const EVENTS_DLQ: QueueDefinition = {
  id: 'EventsDlq',
  maximumMessageSizeBytes: 1_048_576,
  retentionSeconds: FOURTEEN_DAYS,
  visibilityTimeoutSeconds: 30,
};

export const EVENTS_QUEUE: QueueDefinition = {
  id: 'Events',
  maximumMessageSizeBytes: 1_048_576,
  // Four days of retention covers a long weekend of consumer outage before anything expires.
  retentionSeconds: 4 * 24 * 3600,
  // At least six times the consumer's timeout, as AWS recommends for Lambda event sources.
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 5,
  deadLetterQueue: EVENTS_DLQ.id,
};

export const TABLES: readonly TableDefinition[] = [DELIVERY_LEDGER];
/** Dead-letter queues first, so that a queue's redrive target exists when it is created. */
export const QUEUES: readonly QueueDefinition[] = [EVENTS_DLQ, EVENTS_QUEUE];

/** Names used in the local runtime; in AWS, CloudFormation names the resources. */
export function localName(definition: { readonly id: string }, prefix = 'paritysync'): string {
  return `${prefix}-${definition.id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}
