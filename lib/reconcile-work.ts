import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ParitySyncConfig } from '../lambdas/config/schema';
import { METRIC_SERVICES } from '../lambdas/shared/metric-names';
import { type QueueConsumer, RECONCILE_WORK, RECONCILE_WORK_DLQ } from '../lambdas/shared/topology';
import { consumeQueue } from './apply-pipeline';
import { DEAD_LETTER_INSPECT_ACTIONS, queueProps } from './event-queues';
import { ParitySyncFunction } from './paritysync-function';

/** AWS's advice for a Lambda event source: the queue hides a message for six times the consumer's timeout. */
const VISIBILITY_TO_TIMEOUT_RATIO = 6;

export interface ReconcileWorkProps {
  readonly config: ParitySyncConfig;
  /** The worker's timeout: one item's polling budget plus the margin to save and record it. */
  readonly timeout: Duration;
  /** The worker's environment: the tables it reads and writes (the work queue's URL is added here). */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention?: logs.RetentionDays;
  /** Encrypts the worker's logs, as the reconcile function's. */
  readonly logEncryptionKey?: kms.IKey;
  /** Keep the queues when the stack is deleted. @default true */
  readonly retain?: boolean;
  /** X-Ray tracing of the worker. @default true */
  readonly tracing?: boolean;
  /** The worker's handler module. @default lambdas/reconcile/worker-handler.ts */
  readonly entry?: string;
  /** The DLQ consumer's environment: the run log it ends items in (the work queue's URL is added here). */
  readonly deadLetterEnvironment: Readonly<Record<string, string>>;
  /** The DLQ consumer's handler module. @default lambdas/reconcile/work-dead-letters-handler.ts */
  readonly deadLetterEntry?: string;
}

/**
 * A reconciliation run's work: the queue (with its DLQ) that the scheduled function plans work items onto, and
 * the worker that takes them one per invocation, as many at once as `reconciliation.workers` (the event source's
 * maximum concurrency). A worker that fails before it ends its item leaves the message for a redelivery; one whose
 * receives ran out ends the item as failed on the last. Every message whose receives ran out reaches the DLQ, and
 * the DLQ's consumer ends its item as failed if nothing did (Lambda stopped the worker on every receive), so that
 * the run completes.
 */
export class ReconcileWork extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: ParitySyncFunction;
  /** Ends the items of the messages that reach the DLQ. */
  readonly deadLetterFunction: ParitySyncFunction;

  constructor(scope: Construct, id: string, props: ReconcileWorkProps) {
    super(scope, id);
    const retain = props.retain ?? true;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const required = VISIBILITY_TO_TIMEOUT_RATIO * props.timeout.toSeconds();
    if (RECONCILE_WORK.visibilityTimeoutSeconds < required) {
      throw new Error(
        `The reconciliation work queue's visibility timeout (${RECONCILE_WORK.visibilityTimeoutSeconds} s, ` +
          `lambdas/shared/topology.ts ${RECONCILE_WORK.id}.visibilityTimeoutSeconds) must be at least ` +
          `${VISIBILITY_TO_TIMEOUT_RATIO} times the worker's timeout (${props.timeout.toSeconds()} s), i.e. ` +
          `${required} s: raise it, or lower reconciliation.budgetSeconds.`,
      );
    }

    this.deadLetterQueue = new sqs.Queue(this, RECONCILE_WORK_DLQ.id, {
      ...queueProps(RECONCILE_WORK_DLQ),
      removalPolicy,
    });
    this.queue = new sqs.Queue(this, RECONCILE_WORK.id, {
      ...queueProps(RECONCILE_WORK),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: RECONCILE_WORK.maxReceiveCount ?? 5 },
      removalPolicy,
    });

    // Both functions log, trace and are kept as the reconcile function is.
    const common = {
      config: props.config,
      serviceName: METRIC_SERVICES.reconcile,
      logRetention: props.logRetention,
      ...(props.logEncryptionKey ? { logEncryptionKey: props.logEncryptionKey } : {}),
      retain,
      ...(props.tracing === undefined ? {} : { tracing: props.tracing }),
    };
    this.function = new ParitySyncFunction(this, 'Worker', {
      entry: props.entry ?? path.join(__dirname, '..', 'lambdas', 'reconcile', 'worker-handler.ts'),
      memorySize: 1024,
      timeout: props.timeout,
      environment: { ...props.environment, [RECONCILE_WORK.environmentName]: this.queue.queueUrl },
      ...common,
    });
    consumeQueue(this.function, this.queue, {
      // One item per invocation: an item may use the whole timeout, and a failure retries that item alone.
      batchSize: 1,
      maxConcurrency: props.config.reconciliation.workers,
    });
    // A run's parity items follow its drift items: the worker that ends the last one sends them.
    this.grantSend(this.function);

    const consumer = deadLetterConsumer();
    this.deadLetterFunction = new ParitySyncFunction(this, 'DeadLetters', {
      entry:
        props.deadLetterEntry ??
        path.join(__dirname, '..', 'lambdas', 'reconcile', 'work-dead-letters-handler.ts'),
      memorySize: 512,
      timeout: Duration.seconds(consumer.timeoutSeconds),
      environment: { ...props.deadLetterEnvironment, [RECONCILE_WORK.environmentName]: this.queue.queueUrl },
      ...common,
    });
    consumeQueue(this.deadLetterFunction, this.deadLetterQueue, {
      batchSize: consumer.batchSize,
      maxConcurrency: consumer.maxConcurrency,
    });
    // Ending a run's last drift item sends its parity items, whoever ends it.
    this.grantSend(this.deadLetterFunction);
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This is the dead-letter queue of reconciliation work; its consumer ends each item in it as failed in ' +
        'its run, and the next run does the same work again',
    });
  }

  /** Sending work items: the planner's, and the worker's for a run's parity items. */
  grantSend(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grant(grantee, 'sqs:SendMessage');
  }

  /** Looking at the work items whose receives ran out (the DLQ's consumer deletes each once it ended it). */
  grantDeadLetterInspect(grantee: iam.IGrantable): iam.Grant {
    return this.deadLetterQueue.grant(grantee, ...DEAD_LETTER_INSPECT_ACTIONS);
  }
}

/** The DLQ's consumer as the topology declares it, which the local runtime polls with too. */
function deadLetterConsumer(): QueueConsumer {
  const { consumer } = RECONCILE_WORK_DLQ;
  if (consumer === undefined) {
    throw new Error(
      `The reconciliation work dead-letter queue declares no consumer (lambdas/shared/topology.ts ` +
        `${RECONCILE_WORK_DLQ.id}.consumer): without one, a work item whose worker Lambda stopped on every receive ` +
        'holds its run open. Declare its batch size, concurrency and timeout there.',
    );
  }
  return consumer;
}
