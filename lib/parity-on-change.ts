import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ARI_STATE, PARITY_DLQ, PARITY_FINDINGS } from '../lambdas/shared/topology';
import { DEAD_LETTER_INSPECT_ACTIONS, queueProps } from './event-queues';
import { type HostedFunctionProps, hostedFunctionProps, ParitySyncFunction } from './paritysync-function';
import type { StateTables } from './state-tables';
import { grantExactly } from './topology-table';

export interface ParityOnChangeProps extends HostedFunctionProps {
  /** Holds the ARI table, whose stream drives the function, and the personal-data key its logs are encrypted with. */
  readonly state: StateTables;
  /** The parity findings table (the Reconciliation construct's), which the function writes as the sweep does. */
  readonly findings: dynamodb.ITableV2;
  /**
   * Stream records per invocation (1-10,000). Many records of one night are checked once.
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * How long Lambda gathers records before invoking with a partial batch: a bulk rate push then arrives as one batch.
   * @default Duration.seconds(1)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Concurrent batches per stream shard (1-10): the function's concurrency is at most shards × this factor. Records
   * of one item stay in order whatever the factor.
   * @default 2
   */
  readonly parallelizationFactor?: number;
  /**
   * Retries of a failing batch (each halved by bisect-on-error) before its records go to the dead-letter queue.
   * @default 3
   */
  readonly retryAttempts?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
}

/**
 * Parity on change: the ARI table's stream drives a function that re-checks each changed room night of the
 * properties with parity configured, within seconds of the change, so the scheduled sweep is only a safety net.
 * A failing batch is halved until the failing records stand alone (bisect on error, and the function reports the
 * records it failed on); what still fails after the retries goes to a dead-letter queue as the stream position it
 * was at, for an operator to look at, and the shard moves on.
 */
export class ParityOnChange extends Construct {
  readonly function: ParitySyncFunction;
  readonly eventSource: lambdaEventSources.DynamoEventSource;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ParityOnChangeProps) {
    super(scope, id);
    const parallelizationFactor = props.parallelizationFactor ?? 2;

    this.deadLetterQueue = new sqs.Queue(this, PARITY_DLQ.id, {
      ...queueProps(PARITY_DLQ),
      removalPolicy: (props.retain ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.function = new ParitySyncFunction(this, 'Function', {
      ...hostedFunctionProps(props, 'parity'),
      // Its logs name the nights it failed on, beside the other functions' guest-bearing logs under the same key.
      logEncryptionKey: props.state.personalDataKey,
      memorySize: 512,
      timeout: props.timeout ?? Duration.seconds(30),
      environment: {
        [ARI_STATE.environmentName]: props.state.ariState.tableName,
        [PARITY_FINDINGS.environmentName]: props.findings.tableName,
      },
    });

    // A night's channels by one Query of its sort-key prefix; its findings read, replaced or deleted. The stream
    // read is the event source's own grant.
    grantExactly(this.function, ['dynamodb:Query'], [props.state.ariState.tableArn]);
    grantExactly(
      this.function,
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      [props.findings.tableArn],
    );

    this.eventSource = new lambdaEventSources.DynamoEventSource(props.state.ariState, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: props.batchSize ?? 100,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      parallelizationFactor,
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts ?? 3,
      reportBatchItemFailures: true,
      // A check of a day-old change is no longer news: the daily sweep covers it.
      maxRecordAge: Duration.hours(6),
      onFailure: new lambdaEventSources.SqsDlq(this.deadLetterQueue),
    });
    this.function.addEventSource(this.eventSource);

    Validations.of(this.function).acknowledge({
      id: 'NIST.800.53.R5-LambdaConcurrency',
      reason:
        `Bounded by the stream: at most ${parallelizationFactor} concurrent batches per shard ` +
        '(parallelization factor), not a reservation',
    });
    const dlqReason =
      'This is the on-failure destination of the stream event source, a dead-letter queue itself: it holds ' +
      'stream positions to look at, which cannot be redriven to a stream';
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: dlqReason,
    });
    Validations.of(this.deadLetterQueue).acknowledge({ id: 'AwsSolutions-SQS3', reason: dlqReason });
  }

  /** Lets the operations API list and delete the batches given up on; nothing is sent back (see dead-letters.ts). */
  grantDeadLetterInspect(grantee: iam.IGrantable): iam.Grant {
    return this.deadLetterQueue.grant(grantee, ...DEAD_LETTER_INSPECT_ACTIONS);
  }
}
