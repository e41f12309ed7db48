import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type ParitySyncConfig, RECONCILE_TIMEOUT_MARGIN_SECONDS } from '../lambdas/config/schema';
import { METRIC_SERVICES } from '../lambdas/shared/metric-names';
import {
  ARI_STATE,
  MAPPINGS,
  PARITY_FINDINGS,
  RECONCILE_AUDIT,
  RECONCILE_CHECKPOINTS,
  RECONCILE_DLQ,
  RECONCILE_RUN_LOG,
  RECONCILE_RUNS,
  RECONCILE_RUNS_BY_TIME,
  RECONCILE_TABLES,
  RECONCILE_WORK,
  type TableDefinition,
} from '../lambdas/shared/topology';
import { referencedPollingTokens } from './deploy-config';
import { DEAD_LETTER_INSPECT_ACTIONS, queueProps } from './event-queues';
import { ParitySyncFunction } from './paritysync-function';
import { ReconcileWork } from './reconcile-work';
import { grantSecretValues } from './secret-grants';
import type { StateTables } from './state-tables';
import { grantExactly, topologyTable } from './topology-table';

/** Time the function keeps after the run's budget: to save the checkpoint and publish metrics. */
export const RECONCILE_TIMEOUT_MARGIN = Duration.seconds(RECONCILE_TIMEOUT_MARGIN_SECONDS);

export interface ReconciliationProps {
  /** The validated configuration: polled sources, the schedule, drift and parity settings. */
  readonly config: ParitySyncConfig;
  readonly state: StateTables;
  /**
   * Keep the tables, the dead-letter queue and the log group when the stack is deleted. Set `false` only for
   * throw-away development stacks.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * Retention of the function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Whether the schedule starts enabled. Disable it to deploy first and reconcile by hand.
   * @default true
   */
  readonly scheduleEnabled?: boolean;
  /**
   * X-Ray tracing of the function.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * The planning function's handler module (must export `handler`).
   * @default lambdas/reconcile/handler.ts in this project
   */
  readonly entry?: string;
  /**
   * The worker's handler module (must export `handler`).
   * @default lambdas/reconcile/worker-handler.ts in this project
   */
  readonly workerEntry?: string;
  /**
   * The work dead-letter queue consumer's handler module (must export `handler`).
   * @default lambdas/reconcile/work-dead-letters-handler.ts in this project
   */
  readonly workDeadLettersEntry?: string;
}

/** The scheduled function only plans: it records the run and sends its drift items, well within this. */
export const PLANNER_TIMEOUT = Duration.seconds(120);

/**
 * Scheduled reconciliation, fanned out: an EventBridge rule invokes the planning function every
 * `reconciliation.scheduleMinutes`; it records a run in the run log and sends one work item per polled source (or
 * per property of a source polled per property) to the work queue, where workers (ReconcileWork, at most
 * `reconciliation.workers` at once) poll each provider, measure and correct drift, and then check rate parity a
 * property and month at a time. The planner's reserved concurrency 1 keeps two plans from meeting, and it plans
 * nothing while the previous run is in progress. An invocation that fails after its retry lands on the dead-letter
 * queue with the event that started it, as does an event EventBridge could not hand to Lambda.
 */
export class Reconciliation extends Construct {
  /** The planning function, which the schedule invokes. */
  readonly function: ParitySyncFunction;
  readonly work: ReconcileWork;
  readonly schedule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
  readonly checkpoints: dynamodb.TableV2;
  readonly audit: dynamodb.TableV2;
  readonly parityFindings: dynamodb.TableV2;
  /** Powertools idempotency records of scheduled runs, so that an event delivered twice starts one run. */
  readonly runs: dynamodb.TableV2;
  /** The fanned-out runs: their headers, figures per source and work items. */
  readonly runLog: dynamodb.TableV2;
  private readonly tablesById = new Map<string, dynamodb.TableV2>();

  constructor(scope: Construct, id: string, props: ReconciliationProps) {
    super(scope, id);
    const retain = props.retain ?? true;
    const settings = props.config.reconciliation;

    for (const definition of RECONCILE_TABLES) {
      this.tablesById.set(definition.id, topologyTable(this, definition, { retain }));
    }
    this.checkpoints = this.table(RECONCILE_CHECKPOINTS);
    this.audit = this.table(RECONCILE_AUDIT);
    this.parityFindings = this.table(PARITY_FINDINGS);
    this.runs = this.table(RECONCILE_RUNS);
    this.runLog = this.table(RECONCILE_RUN_LOG);

    this.deadLetterQueue = new sqs.Queue(this, RECONCILE_DLQ.id, {
      ...queueProps(RECONCILE_DLQ),
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.work = new ReconcileWork(this, 'Work', {
      config: props.config,
      timeout: Duration.seconds(settings.budgetSeconds).plus(RECONCILE_TIMEOUT_MARGIN),
      environment: {
        ...props.state.environment([ARI_STATE, MAPPINGS]),
        ...this.environment([RECONCILE_CHECKPOINTS, RECONCILE_AUDIT, PARITY_FINDINGS, RECONCILE_RUN_LOG]),
      },
      logRetention: props.logRetention,
      logEncryptionKey: props.state.personalDataKey,
      retain,
      ...(props.tracing === undefined ? {} : { tracing: props.tracing }),
      ...(props.workerEntry === undefined ? {} : { entry: props.workerEntry }),
      deadLetterEnvironment: this.environment([RECONCILE_RUN_LOG]),
      ...(props.workDeadLettersEntry === undefined ? {} : { deadLetterEntry: props.workDeadLettersEntry }),
    });
    const worker = this.work.function;
    props.state.grant(worker, 'reconcile');
    grantSecretValues(worker, referencedPollingTokens(props.config));
    this.grantWorkerTables(worker);
    this.grantDeadLetterConsumerTables(this.work.deadLetterFunction);

    this.function = new ParitySyncFunction(this, 'Function', {
      config: props.config,
      entry: props.entry ?? path.join(__dirname, '..', 'lambdas', 'reconcile', 'handler.ts'),
      serviceName: METRIC_SERVICES.reconcile,
      memorySize: 512,
      timeout: PLANNER_TIMEOUT,
      reservedConcurrentExecutions: 1,
      // Asynchronous invocations (the schedule's) that still fail after Lambda's own retries.
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 1,
      environment: {
        ...this.environment([RECONCILE_RUN_LOG, RECONCILE_RUNS]),
        [RECONCILE_WORK.environmentName]: this.work.queue.queueUrl,
      },
      logRetention: props.logRetention,
      logEncryptionKey: props.state.personalDataKey,
      retain,
      ...(props.tracing === undefined ? {} : { tracing: props.tracing }),
    });
    this.grantPlannerTables(this.function);
    this.work.grantSend(this.function);

    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This is the dead-letter queue of failed runs; nothing is redriven from it, the next run resumes',
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaAsyncFailureDestination',
      reason:
        "A failed scheduled run lands on the function's dead-letter queue with the event that started it, " +
        'the same queue EventBridge uses for events it could not deliver',
    });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `ParitySync reconciliation every ${settings.scheduleMinutes} minute(s)`,
      schedule: events.Schedule.rate(Duration.minutes(settings.scheduleMinutes)),
      enabled: props.scheduleEnabled ?? true,
      targets: [
        new targets.LambdaFunction(this.function, {
          // The event's id keys the run's idempotency record: EventBridge delivers at least once.
          event: events.RuleTargetInput.fromObject({
            trigger: 'schedule',
            eventId: events.EventField.eventId,
          }),
          // EventBridge's own delivery failures (throttled past its retry window) land in the same queue.
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(settings.scheduleMinutes),
        }),
      ],
    });
  }

  table(definition: TableDefinition): dynamodb.TableV2 {
    const table = this.tablesById.get(definition.id);
    if (!table) throw new Error(`Reconciliation has no table for the topology definition "${definition.id}"`);
    return table;
  }

  /** The reconciliation tables' names under the environment variables the functions read them from. */
  environment(definitions: readonly TableDefinition[] = RECONCILE_TABLES): Record<string, string> {
    return Object.fromEntries(
      definitions.map((definition) => [definition.environmentName, this.table(definition).tableName]),
    );
  }

  /** Reading a property's parity findings, for the read API's `GET /parity`. */
  grantReadParity(grantee: iam.IGrantable): iam.Grant {
    return grantExactly(grantee, ['dynamodb:Query'], [this.parityFindings.tableArn]);
  }

  /** Reading a property's audit over a range of nights, for the read API's `GET /reconciliation/audit`. */
  grantReadAudit(grantee: iam.IGrantable): iam.Grant {
    return grantExactly(grantee, ['dynamodb:Query'], [this.audit.tableArn]);
  }

  /**
   * Lets the grantee look at the failed runs in the dead-letter queue (receive, then put back in view), count
   * them and delete them. Nothing is sent anywhere: a failed run is not redriven, the next run resumes it.
   */
  grantDeadLetterInspect(grantee: iam.IGrantable): iam.Grant {
    return this.deadLetterQueue.grant(grantee, ...DEAD_LETTER_INSPECT_ACTIONS);
  }

  /**
   * Listing runs (the index) and reading one (its partition), for the read API's `/reconciliation/runs`.
   */
  grantReadRuns(grantee: iam.IGrantable): iam.Grant {
    return grantExactly(
      grantee,
      ['dynamodb:Query'],
      [this.runLog.tableArn, `${this.runLog.tableArn}/index/${RECONCILE_RUNS_BY_TIME.indexName}`],
    );
  }

  /**
   * The planner records a run (its sources in one batch, its header once), reads the latest run from the index
   * and an existing run's partition, takes the parity sweep and completes an empty run; a scheduled run's
   * idempotency record is created, read, completed and deleted when the plan fails (Powertools).
   */
  private grantPlannerTables(grantee: iam.IGrantable): void {
    grantExactly(
      grantee,
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:UpdateItem',
        'dynamodb:Query',
      ],
      [this.runLog.tableArn, `${this.runLog.tableArn}/index/${RECONCILE_RUNS_BY_TIME.indexName}`],
    );
    grantExactly(
      grantee,
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      [this.runs.tableArn],
    );
  }

  /**
   * The work DLQ's consumer reads a run (its partition), ends an item (a transaction of updates), reads whether
   * the run's parity items are due, marks them sent and completes the run: the run log alone, no other table.
   */
  private grantDeadLetterConsumerTables(grantee: iam.IGrantable): void {
    grantExactly(
      grantee,
      ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      [this.runLog.tableArn],
    );
  }

  /**
   * Checkpoints are read and overwritten, audit records appended in batches, parity findings replaced or
   * deleted per night and queried per property; an item is claimed, ended (a transaction of updates) and read
   * back with its run. No scans, no table operations.
   */
  private grantWorkerTables(grantee: iam.IGrantable): void {
    grantExactly(grantee, ['dynamodb:GetItem', 'dynamodb:PutItem'], [this.checkpoints.tableArn]);
    grantExactly(grantee, ['dynamodb:BatchWriteItem'], [this.audit.tableArn]);
    grantExactly(
      grantee,
      ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
      [this.parityFindings.tableArn],
    );
    grantExactly(
      grantee,
      ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      [this.runLog.tableArn],
    );
  }
}
