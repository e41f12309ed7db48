import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { ParitySyncConfig } from '../lambdas/config/schema';
import { DELIVERY_LEDGER, RECONCILE_TABLES } from '../lambdas/shared/topology';
import { AlarmNotifications } from './alarm-notifications';
import { ApplyPipeline } from './apply-pipeline';
import { DeliveryLedger } from './delivery-ledger';
import { EventQueues } from './event-queues';
import { IngestApi } from './ingest-api';
import { logicalIds } from './logical-ids';
import { type AlarmThresholds, Observability } from './observability';
import { ParityOnChange } from './parity-on-change';
import { ReadApi } from './read-api';
import { Reconciliation } from './reconciliation';
import { RejectionLog } from './rejection-log';
import { ReplayJobs } from './replay-jobs';
import { StateTables } from './state-tables';
import { TableBackup } from './table-backup';

export interface ParitySyncStackProps extends StackProps {
  /** The validated configuration; every secret must be a `secretsManager` reference. */
  readonly config: ParitySyncConfig;
  /**
   * Keep the ledger, the state tables and their key, the queues and the log groups when the stack is deleted,
   * and turn on the tables' deletion protection. Set `false` only for throw-away development stacks.
   * @default true
   */
  readonly retain?: boolean;
  /** @default all of them; see `DeliveryLedgerProps.logIndexes` */
  readonly ledgerLogIndexes?: number;
  /**
   * Create the account-wide API Gateway logging role; see `IngestApiProps.createAccountLogRole`.
   * @default false
   */
  readonly createApiGatewayAccountLogRole?: boolean;
  /**
   * Steady-state requests per second the API accepts.
   * @default 1000
   */
  readonly throttlingRateLimit?: number;
  /**
   * Burst the API accepts above the steady rate.
   * @default 2000
   */
  readonly throttlingBurstLimit?: number;
  /**
   * An existing SNS topic the alarms notify (into and out of ALARM). Not with `alarmEmails`.
   * @default no existing topic
   */
  readonly alarmTopicArn?: string;
  /**
   * Email addresses subscribed to a new alarm topic. Not with `alarmTopicArn`.
   * @default none: without either, the alarms show on the dashboard and in the CloudWatch console only
   */
  readonly alarmEmails?: readonly string[];
  /** @default see `AlarmThresholds` */
  readonly alarmThresholds?: AlarmThresholds;
  /**
   * Whether the reconciliation schedule starts enabled.
   * @default true
   */
  readonly reconciliationScheduleEnabled?: boolean;
  /**
   * X-Ray tracing on every function and on the API stage.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * The AWS WAF web ACL on the webhook stage.
   * @default true
   */
  readonly webApplicationFirewall?: boolean;
  /**
   * Requests one sender address may make in 5 minutes before the web ACL answers 429.
   * @default DEFAULT_WAF_RATE_LIMIT (6000)
   */
  readonly wafRateLimitPer5Minutes?: number;
  /**
   * Reserved concurrency of the ingest function; `'none'` for an account whose quota leaves no room for it.
   * @default DEFAULT_INGEST_RESERVED_CONCURRENCY (100)
   */
  readonly ingestReservedConcurrency?: number | 'none';
  /**
   * An AWS Backup plan for every table (daily, kept 35 days), in a vault under the personal-data key.
   * @default false: point-in-time recovery (35 days) only
   */
  readonly backup?: boolean;
}

/**
 * The ingest edge (webhook API and function, delivery ledger, the canonical events queue with its DLQ), the
 * apply pipeline that turns queued events into state, and the IAM-authorised read API on the same REST API.
 */
export class ParitySyncStack extends Stack {
  readonly ledger: DeliveryLedger;
  readonly queues: EventQueues;
  readonly rejections: RejectionLog;
  readonly ingest: IngestApi;
  readonly state: StateTables;
  readonly apply: ApplyPipeline;
  readonly read: ReadApi;
  readonly reconciliation: Reconciliation;
  readonly replays: ReplayJobs;
  readonly parityOnChange: ParityOnChange;
  readonly observability: Observability;
  /** Present when `backup` is on. */
  readonly backup?: TableBackup;

  constructor(scope: Construct, id: string, props: ParitySyncStackProps) {
    super(scope, id, props);
    const retain = props.retain ?? true;

    // First: its key encrypts the queues and log groups below as well as the guest-linked tables.
    this.state = new StateTables(this, 'StateTables', { retain });
    const personalDataKey = this.state.personalDataKey;
    const tracing = props.tracing ?? true;
    this.ledger = new DeliveryLedger(this, DELIVERY_LEDGER.id, {
      retain,
      ...(props.ledgerLogIndexes === undefined ? {} : { logIndexes: props.ledgerLogIndexes }),
    });
    this.queues = new EventQueues(this, 'EventQueues', { retain, encryptionKey: personalDataKey });
    this.rejections = new RejectionLog(this, 'RejectionLog', { retain });
    // What every function's construct is given: the configuration it compiles in, retention and tracing.
    const hosted = { config: props.config, retain, tracing };
    this.ingest = new IngestApi(this, 'IngestApi', {
      ...hosted,
      ledger: this.ledger,
      queues: this.queues,
      rejections: this.rejections,
      logEncryptionKey: personalDataKey,
      firewall:
        props.webApplicationFirewall === false
          ? false
          : props.wafRateLimitPer5Minutes === undefined
            ? {}
            : { rateLimitPer5Minutes: props.wafRateLimitPer5Minutes },
      ...(props.ingestReservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.ingestReservedConcurrency }),
      ...(props.createApiGatewayAccountLogRole !== undefined
        ? { createAccountLogRole: props.createApiGatewayAccountLogRole }
        : {}),
      ...(props.throttlingRateLimit !== undefined ? { throttlingRateLimit: props.throttlingRateLimit } : {}),
      ...(props.throttlingBurstLimit !== undefined
        ? { throttlingBurstLimit: props.throttlingBurstLimit }
        : {}),
    });

    // The stores that events move through, from the ledger by the queues into the state tables.
    const pipeline = { state: this.state, ledger: this.ledger, queues: this.queues };
    this.apply = new ApplyPipeline(this, 'ApplyPipeline', { ...hosted, ...pipeline });
    this.reconciliation = new Reconciliation(this, 'Reconciliation', {
      ...hosted,
      state: this.state,
      ...(props.reconciliationScheduleEnabled !== undefined
        ? { scheduleEnabled: props.reconciliationScheduleEnabled }
        : {}),
    });
    this.replays = new ReplayJobs(this, 'ReplayJobs', { ...hosted, ...pipeline });
    this.parityOnChange = new ParityOnChange(this, 'ParityOnChange', {
      ...hosted,
      state: this.state,
      findings: this.reconciliation.parityFindings,
    });
    this.read = new ReadApi(this, 'ReadApi', {
      ...hosted,
      ...pipeline,
      api: this.ingest.api,
      reconciliation: this.reconciliation,
      parityOnChange: this.parityOnChange,
      rejections: this.rejections,
      replays: this.replays,
    });

    if (props.backup) {
      this.backup = new TableBackup(this, 'TableBackup', {
        tables: this.node.findAll().filter((c): c is dynamodb.TableV2 => c instanceof dynamodb.TableV2),
        encryptionKey: personalDataKey,
        retain,
      });
    }

    const notifications = new AlarmNotifications(this, 'AlarmNotifications', {
      ...(props.alarmEmails !== undefined ? { emails: props.alarmEmails } : {}),
      ...(props.alarmTopicArn !== undefined ? { topicArn: props.alarmTopicArn } : {}),
    });
    this.observability = new Observability(this, 'Observability', {
      api: this.ingest.api,
      functions: {
        ingest: this.ingest.function,
        apply: this.apply.function,
        read: this.read.function,
        reconcile: this.reconciliation.function,
        reconcileWorker: this.reconciliation.work.function,
        reconcileWorkDeadLetters: this.reconciliation.work.deadLetterFunction,
        replay: this.replays.function,
        parity: this.parityOnChange.function,
      },
      reconciliation: {
        config: props.config,
        deadLetterQueue: this.reconciliation.deadLetterQueue,
        work: {
          queue: this.reconciliation.work.queue,
          deadLetterQueue: this.reconciliation.work.deadLetterQueue,
          deadLetterConsumer: this.reconciliation.work.deadLetterFunction,
        },
      },
      queues: this.queues,
      replays: { queue: this.replays.queue, deadLetterQueue: this.replays.deadLetterQueue },
      parityOnChange: this.parityOnChange,
      ...(notifications.action !== undefined ? { alarmAction: notifications.action } : {}),
      ...(props.alarmThresholds !== undefined ? { thresholds: props.alarmThresholds } : {}),
    });

    if (notifications.action === undefined) {
      Validations.of(this.observability).acknowledge({
        id: 'NIST.800.53.R5-CloudWatchAlarmAction',
        reason:
          'This deployment names no alarm topic or addresses (paritysync:alarmEmails, paritysync:alarmTopicArn): ' +
          'the alarms show on the dashboard and in the console; with either, every alarm notifies',
      });
    }

    if (notifications.topic !== undefined) {
      new CfnOutput(this, 'AlarmTopicArn', {
        description: 'The SNS topic every alarm notifies; subscribe pagers or chat integrations to it',
        value: notifications.topic.topicArn,
      });
    }
    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the ParitySync webhook API (stage included)',
      value: this.ingest.api.url,
    });
    const outputIds = webhookOutputIds(props.config.sources.map((source) => source.id));
    for (const source of props.config.sources) {
      new CfnOutput(this, outputIds.get(source.id) ?? source.id, {
        description: `Webhook URL for source "${source.id}" (${source.kind}); configure it at the provider`,
        value: this.ingest.webhookUrl(source.id),
      });
    }
    new CfnOutput(this, 'ReadApiUrl', {
      description:
        'Base URL of the read / admin API (stage included), SigV4-signed requests only: operate it with ' +
        '`paritysync --stack <this stack> <command>` (README, Operations CLI)',
      value: this.ingest.api.url,
    });
    new CfnOutput(this, 'LedgerTableName', { value: this.ledger.table.tableName });
    new CfnOutput(this, 'RejectionsTableName', { value: this.rejections.table.tableName });
    for (const definition of StateTables.DEFINITIONS) {
      new CfnOutput(this, `${definition.id}TableName`, { value: this.state.table(definition).tableName });
    }
    new CfnOutput(this, 'EventQueueUrl', { value: this.queues.queue.queueUrl });
    new CfnOutput(this, 'EventDeadLetterQueueUrl', { value: this.queues.deadLetterQueue.queueUrl });
    for (const definition of RECONCILE_TABLES) {
      new CfnOutput(this, `${definition.id}TableName`, {
        value: this.reconciliation.table(definition).tableName,
      });
    }
    new CfnOutput(this, 'ReconcileFunctionName', {
      description: 'Invoke with {} (or { "sourceIds": [...], "dryRun": true }) to reconcile now',
      value: this.reconciliation.function.functionName,
    });
    new CfnOutput(this, 'ReconcileDeadLetterQueueUrl', {
      value: this.reconciliation.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'DashboardName', { value: this.observability.dashboard.dashboardName });
  }
}

/** Output ids per webhook source: `hospitable-main` → `WebhookUrlHospitableMain`; see `logicalIds`. */
export function webhookOutputIds(sourceIds: readonly string[]): ReadonlyMap<string, string> {
  return logicalIds('WebhookUrl', sourceIds);
}
