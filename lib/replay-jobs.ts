import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ParitySyncConfig } from '../lambdas/config/schema';
import {
  CONTROLS,
  DELIVERY_LEDGER,
  EVENTS_QUEUE,
  OPERATION_REQUESTS,
  REPLAY_DLQ,
  REPLAY_QUEUE,
} from '../lambdas/shared/topology';
import { assertVisibilityCoversTimeout, consumeQueue } from './apply-pipeline';
import type { DeliveryLedger } from './delivery-ledger';
import { DEAD_LETTER_INSPECT_ACTIONS, type EventQueues, queueProps } from './event-queues';
import { hostedFunctionProps, ParitySyncFunction } from './paritysync-function';
import type { StateTables } from './state-tables';
import { grantExactly, topologyTable } from './topology-table';

/** The worker's timeout: one page of reads and sends. The work queue's visibility timeout is sized from it. */
export const REPLAY_TIMEOUT = Duration.seconds(60);

export interface ReplayJobsProps {
  readonly config: ParitySyncConfig;
  readonly ledger: DeliveryLedger;
  readonly state: StateTables;
  readonly queues: EventQueues;
  readonly logRetention?: logs.RetentionDays;
  /** Keep the queues and the requests table when the stack is deleted. @default true */
  readonly retain?: boolean;
  /** X-Ray tracing of the worker. @default true */
  readonly tracing?: boolean;
  /** The worker's handler module. @default lambdas/replay/handler.ts */
  readonly entry?: string;
}

/**
 * Replay jobs: the work queue (with its DLQ) whose messages each ask for one page of a job, the worker that reads
 * the page from the delivery log and sends its retained events back to the events queue, and the table in which
 * the read / admin API remembers the requests that start work (Powertools idempotency).
 */
export class ReplayJobs extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: ParitySyncFunction;
  readonly operationRequests: ReturnType<typeof topologyTable>;

  constructor(scope: Construct, id: string, props: ReplayJobsProps) {
    super(scope, id);
    const retain = props.retain ?? true;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    assertVisibilityCoversTimeout(REPLAY_QUEUE.visibilityTimeoutSeconds, REPLAY_TIMEOUT);

    this.deadLetterQueue = new sqs.Queue(this, REPLAY_DLQ.id, { ...queueProps(REPLAY_DLQ), removalPolicy });
    this.queue = new sqs.Queue(this, REPLAY_QUEUE.id, {
      ...queueProps(REPLAY_QUEUE),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: REPLAY_QUEUE.maxReceiveCount ?? 5 },
      removalPolicy,
    });
    this.operationRequests = topologyTable(this, OPERATION_REQUESTS, { retain });

    this.function = new ParitySyncFunction(this, 'Function', {
      ...hostedFunctionProps(props, 'replay'),
      logEncryptionKey: props.state.personalDataKey,
      metrics: false,
      memorySize: 256,
      timeout: REPLAY_TIMEOUT,
      environment: {
        [DELIVERY_LEDGER.environmentName]: props.ledger.table.tableName,
        [CONTROLS.environmentName]: props.state.controls.tableName,
        [EVENTS_QUEUE.environmentName]: props.queues.queue.queueUrl,
        [REPLAY_QUEUE.environmentName]: this.queue.queueUrl,
      },
    });
    // The log's indexes for the page, the table for each retained event; the job item; the events queue.
    props.ledger.grantReadLog(this.function);
    props.ledger.grant(this.function, 'read');
    this.grantJobs(this.function, props.state);
    props.queues.grantRequeue(this.function);
    this.grantStart(this.function);
    consumeQueue(this.function, this.queue, {
      // One page per invocation: a failure retries that page alone.
      batchSize: 1,
      maxConcurrency: 2,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This is the dead-letter queue of replay work; its job stays running until an operator looks, and ' +
        'a new replay request picks the work up again',
    });
  }

  /** Reading, creating and updating replay jobs in the Controls table. */
  grantJobs(grantee: iam.IGrantable, state: StateTables): iam.Grant {
    return grantExactly(
      grantee,
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      [state.controls.tableArn],
    );
  }

  /** Sending a work message: a job's first page (the read API) or its next (the worker). */
  grantStart(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grant(grantee, 'sqs:SendMessage');
  }

  /** Powertools idempotency records: created, read, completed, and deleted when the request failed. */
  grantOperationRequests(grantee: iam.IGrantable): iam.Grant {
    return grantExactly(
      grantee,
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      [this.operationRequests.tableArn],
    );
  }

  /** Looking at the work messages whose receives ran out. */
  grantDeadLetterInspect(grantee: iam.IGrantable): iam.Grant {
    return this.deadLetterQueue.grant(grantee, ...DEAD_LETTER_INSPECT_ACTIONS);
  }
}
