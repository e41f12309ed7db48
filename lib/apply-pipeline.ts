import { Duration, Validations } from 'aws-cdk-lib';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ParitySyncConfig } from '../lambdas/config/schema';
import { DELIVERY_LEDGER, EVENTS_QUEUE } from '../lambdas/shared/topology';
import type { DeliveryLedger } from './delivery-ledger';
import type { EventQueues } from './event-queues';
import { hostedFunctionProps, ParitySyncFunction } from './paritysync-function';
import type { StateTables } from './state-tables';

/** The consumer's timeout. The events queue's visibility timeout in the topology is sized from it. */
export const APPLY_TIMEOUT = Duration.seconds(30);

/**
 * AWS's rule for Lambda SQS event sources: a visibility timeout of at least six times the function timeout,
 * so that a batch retried after throttling is not delivered a second time while still being processed.
 */
export const VISIBILITY_TO_TIMEOUT_RATIO = 6;

/** Throws at synth when the queue's visibility timeout no longer covers the consumer's retries. */
export function assertVisibilityCoversTimeout(visibilityTimeoutSeconds: number, timeout: Duration): void {
  const timeoutSeconds = timeout.toSeconds();
  const required = VISIBILITY_TO_TIMEOUT_RATIO * timeoutSeconds;
  if (visibilityTimeoutSeconds < required) {
    throw new Error(
      `The events queue's visibility timeout (${visibilityTimeoutSeconds} s, lambdas/shared/topology.ts ` +
        `${EVENTS_QUEUE.id}.visibilityTimeoutSeconds) must be at least ${VISIBILITY_TO_TIMEOUT_RATIO} times the ` +
        `apply consumer's timeout (${timeoutSeconds} s), i.e. at least ${required} s. Raise the visibility ` +
        'timeout or lower the consumer timeout so that the two change together.',
    );
  }
}

/**
 * Makes `queue` the event source of `fn`. Failed messages are reported one by one: one failed message must not
 * send its whole batch back for another attempt. The checks an SQS event source cannot meet are acknowledged
 * here, beside the event source that answers them.
 */
export function consumeQueue(
  fn: ParitySyncFunction,
  queue: sqs.IQueue,
  props: Omit<lambdaEventSources.SqsEventSourceProps, 'reportBatchItemFailures'> & {
    readonly maxConcurrency: number;
  },
): lambdaEventSources.SqsEventSource {
  const eventSource = new lambdaEventSources.SqsEventSource(queue, {
    ...props,
    reportBatchItemFailures: true,
  });
  fn.addEventSource(eventSource);
  const acknowledge = (id: string, reason: string) => Validations.of(fn).acknowledge({ id, reason });
  acknowledge(
    'Serverless-LambdaEventSourceMappingDestination',
    "SQS event sources take no on-failure destination: a message that keeps failing moves to the queue's " +
      'dead-letter queue after maxReceiveCount receives',
  );
  acknowledge(
    'NIST.800.53.R5-LambdaConcurrency',
    `Bounded by the event source's maximum concurrency (${props.maxConcurrency}), not a reservation`,
  );
  return eventSource;
}

export interface ApplyPipelineProps {
  /** The validated configuration, compiled into the consumer (mapping seeds, property settings). */
  readonly config: ParitySyncConfig;
  readonly state: StateTables;
  readonly ledger: DeliveryLedger;
  readonly queues: EventQueues;
  /**
   * Messages per invocation (1-10 with a batching window of at most 1 s; up to 10,000 with a longer one).
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * How long Lambda gathers messages before invoking with a partial batch.
   * @default Duration.seconds(1)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Concurrent consumer invocations the event source may run (2-1000). Caps the write rate to the state tables
   * and leaves account concurrency for the ingest edge.
   * @default 5
   */
  readonly maxConcurrency?: number;
  /**
   * The consumer's timeout; the events queue's visibility timeout must be at least six times as long.
   * @default APPLY_TIMEOUT (30 s)
   */
  readonly timeout?: Duration;
  /**
   * Retention of the consumer's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Keep the log group when the stack is deleted. Set `false` only for throw-away development stacks.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * X-Ray tracing of the function.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * The consumer's handler module (must export `handler`).
   * @default lambdas/apply/handler.ts in this project
   */
  readonly entry?: string;
}

/**
 * Turns queued canonical events into state: an SQS event source feeds batches to the consumer, which applies
 * each event, settles its ledger entry and reports the messages it could not apply, so that only those are
 * retried (and, after the queue's maxReceiveCount, moved to the DLQ).
 */
export class ApplyPipeline extends Construct {
  readonly function: ParitySyncFunction;
  readonly eventSource: lambdaEventSources.SqsEventSource;

  constructor(scope: Construct, id: string, props: ApplyPipelineProps) {
    super(scope, id);
    const timeout = props.timeout ?? APPLY_TIMEOUT;
    assertVisibilityCoversTimeout(EVENTS_QUEUE.visibilityTimeoutSeconds, timeout);

    this.function = new ParitySyncFunction(this, 'Function', {
      ...hostedFunctionProps(props, 'apply'),
      logEncryptionKey: props.state.personalDataKey,
      memorySize: 512,
      timeout,
      environment: {
        [DELIVERY_LEDGER.environmentName]: props.ledger.table.tableName,
        ...props.state.environment(),
        [EVENTS_QUEUE.environmentName]: props.queues.queue.queueUrl,
      },
    });

    props.state.grant(this.function, 'apply');
    props.ledger.grant(this.function, 'settle');
    // Parked events go back on the queue when the mapping they wait for arrives in a mapping event.
    props.queues.grantRequeue(this.function);

    this.eventSource = consumeQueue(this.function, props.queues.queue, {
      batchSize: props.batchSize ?? 10,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      maxConcurrency: props.maxConcurrency ?? 5,
    });
  }
}
