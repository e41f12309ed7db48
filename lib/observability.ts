import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ParitySyncConfig } from '../lambdas/config/schema';
import {
  APPLY_METRICS,
  DEFAULT_METRICS_NAMESPACE,
  INGEST_METRICS,
  METRIC_DIMENSIONS,
  METRIC_SERVICES,
  PARITY_METRICS,
  RECONCILE_METRICS,
  RECONCILE_WORK_METRICS,
  SERVICE_NOTICES,
} from '../lambdas/shared/metric-names';
import { logicalIds } from './logical-ids';

export interface AlarmThresholds {
  /**
   * Age in seconds of the oldest message on the events queue above which the apply pipeline is falling behind.
   * @default 300
   */
  readonly oldestMessageAgeSeconds?: number;
  /**
   * Signature failures per 5 minutes above which a sender's secret is wrong or someone is probing the edge.
   * @default 50
   */
  readonly signatureFailuresPer5Minutes?: number;
  /**
   * Failed apply attempts per 5 minutes above which the consumer needs a look (each failure is retried, so a
   * few are normal during a transient outage of a dependency).
   * @default 10
   */
  readonly applyFailuresPer5Minutes?: number;
  /**
   * Percentage of API requests answered with a 5xx, per 5 minutes, above which the edge is not making
   * deliveries durable. Must hold for two consecutive periods.
   * @default 1
   */
  readonly api5xxRatePercent?: number;
  /**
   * Scheduled runs in a row without a reconciled outcome for a source before it alarms (provider down, circuit
   * open, the schedule not running).
   * @default 3
   */
  readonly reconcileMissedRuns?: number;
  /**
   * Age in seconds of the newest record the parity function has read off the ARI table's stream (IteratorAge)
   * above which parity on change is falling behind, once it lasts `parityStreamLagMinutes`.
   * @default 300
   */
  readonly parityIteratorAgeSeconds?: number;
  /**
   * Minutes in a row the stream's iterator age must stay above `parityIteratorAgeSeconds` before it alarms.
   * @default 5
   */
  readonly parityStreamLagMinutes?: number;
  /**
   * Parity function errors plus nights whose check failed, per 5 minutes, above which checks are failing for
   * more than a passing throttle (each failure is retried, halving the batch).
   * @default 5
   */
  readonly parityCheckErrorsPer5Minutes?: number;
}

export interface ObservabilityProps {
  /** The REST API serving the webhooks and the read routes. */
  readonly api: apigateway.RestApiBase;
  readonly functions: {
    readonly ingest: lambda.IFunction;
    readonly apply: lambda.IFunction;
    readonly read: lambda.IFunction;
    /** The reconciliation planner, on the schedule; `reconcileWorker` does the planned work. */
    readonly reconcile?: lambda.IFunction;
    readonly reconcileWorker?: lambda.IFunction;
    /** Ends the work items whose messages reached the reconciliation work DLQ. */
    readonly reconcileWorkDeadLetters?: lambda.IFunction;
    readonly replay?: lambda.IFunction;
    readonly parity?: lambda.IFunction;
  };
  readonly queues: { readonly queue: sqs.IQueue; readonly deadLetterQueue: sqs.IQueue };
  /**
   * The replay jobs' work queue and its DLQ: a section and an alarm on the DLQ.
   * @default no replay section
   */
  readonly replays?: { readonly queue: sqs.IQueue; readonly deadLetterQueue: sqs.IQueue };
  /**
   * The reconciliation section and its alarms: one line and alarm per polled source and per parity property.
   * @default no reconciliation section
   */
  readonly reconciliation?: {
    readonly config: ParitySyncConfig;
    readonly deadLetterQueue: sqs.IQueue;
    /**
     * The runs' work queue, its DLQ and the DLQ's consumer: the queue's depth and age and the items dead-lettered
     * on the dashboard, and an alarm on each dead-lettered item.
     */
    readonly work?: {
      readonly queue: sqs.IQueue;
      readonly deadLetterQueue: sqs.IQueue;
      readonly deadLetterConsumer: lambda.IFunction;
    };
  };
  /**
   * Parity on change: the function the ARI table's stream drives and its stream failure destination.
   * @default no parity-on-change section
   */
  readonly parityOnChange?: {
    readonly function: lambda.IFunction;
    readonly deadLetterQueue: sqs.IQueue;
  };
  /**
   * The namespace the functions emit their metrics to (POWERTOOLS_METRICS_NAMESPACE).
   * @default 'ParitySync'
   */
  readonly namespace?: string;
  /** @default see each threshold */
  readonly thresholds?: AlarmThresholds;
  /**
   * What every alarm does when it goes into and out of ALARM (see `AlarmNotifications`).
   * @default no alarm actions
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
  /**
   * @default a name CloudFormation generates
   */
  readonly dashboardName?: string;
}

type ReconcileWorkQueues = NonNullable<NonNullable<ObservabilityProps['reconciliation']>['work']>;

/** What an alarm watches and what ops should do when it fires; see `Observability.addAlarm`. */
export interface AlarmSpec {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default cloudwatch.TreatMissingData.NOT_BREACHING: no traffic is not a fault */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
  /** What the alarm means and what to do about it. */
  readonly description: string;
}

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);
const WIDGET_HEIGHT = 6;
const WIDGET_WIDTH = 8;
/** A dashboard row is 24 units wide. */
const ROW_WIDTH = 24;

/**
 * One CloudWatch dashboard and the alarms ops act on: the edge (API Gateway, ingest function and its custom
 * metrics), the queue between edge and consumer, and the apply consumer. Each alarm's description says what
 * to do. Further sections (reconciliation, parity) are one `addSection` call and one `addAlarm` per alarm.
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly namespace: string;
  private readonly alarmAction?: cloudwatch.IAlarmAction;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.namespace = props.namespace ?? DEFAULT_METRICS_NAMESPACE;
    this.alarmAction = props.alarmAction;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(props.dashboardName !== undefined ? { dashboardName: props.dashboardName } : {}),
      defaultInterval: Duration.hours(6),
    });

    this.addEdgeSection(props);
    this.addQueueSection(props);
    this.addApplySection();
    if (props.replays) this.addReplaySection(props.replays);
    if (props.reconciliation) this.addReconciliationSection(props.reconciliation, props.functions.reconcile);
    if (props.reconciliation?.work) this.addReconcileWorkSection(props.reconciliation.work);
    this.addFunctionsSection(props);
    this.addAlarms(props);
    if (props.reconciliation) this.addReconciliationAlarms(props.reconciliation, props.thresholds ?? {});
    if (props.replays) this.addReplayAlarms(props.replays);
    if (props.parityOnChange) this.addParityOnChange(props.parityOnChange, props.thresholds ?? {});
    if (props.reconciliation?.work) this.addReconcileWorkAlarms(props.reconciliation.work);
  }

  /** A custom metric one of the functions emits, with its `service` dimension. */
  customMetric(
    service: keyof typeof METRIC_SERVICES,
    metricName: string,
    options: {
      dimensions?: Record<string, string>;
      statistic?: string;
      period?: Duration;
      label?: string;
    } = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      dimensionsMap: { service: METRIC_SERVICES[service], ...options.dimensions },
      statistic: options.statistic ?? cloudwatch.Stats.SUM,
      period: options.period ?? FIVE_MINUTES,
      ...(options.label !== undefined ? { label: options.label } : {}),
    });
  }

  /** A titled section of widgets; a row wraps onto the next line when it is full. */
  addSection(title: string, widgets: readonly cloudwatch.IWidget[]): void {
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({ markdown: `## ${title}`, width: ROW_WIDTH, height: 1 }),
    );
    this.dashboard.addWidgets(...widgets);
  }

  /** The operations CLI command that acts on an alarm, against this stack (README, Operations CLI). */
  cli(command: string): string {
    return `paritysync --stack ${Stack.of(this).stackName} ${command}`;
  }

  /** An alarm with the stack's alarm action (if any), listed in `alarms`. */
  addAlarm(id: string, spec: AlarmSpec): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparisonOperator,
      evaluationPeriods: spec.evaluationPeriods ?? 1,
      treatMissingData: spec.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: spec.description,
    });
    if (this.alarmAction) {
      alarm.addAlarmAction(this.alarmAction);
      alarm.addOkAction(this.alarmAction);
    }
    this.alarms.push(alarm);
    return alarm;
  }

  /** An alarm as soon as `queue` holds a message. */
  private addNotEmptyAlarm(id: string, queue: sqs.IQueue, description: string): cloudwatch.Alarm {
    return this.addAlarm(id, {
      metric: queueDepth(queue),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // SQS stops publishing for a queue idle for six hours even with messages in it: keep the last state.
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      description,
    });
  }

  /** A reconciliation metric of one source, with one datapoint per run (`period`). */
  private sourceMetric(
    source: string,
    metricName: string,
    period: Duration,
    options: { statistic?: string; dimensions?: Record<string, string>; label?: string } = {},
  ): cloudwatch.Metric {
    return this.customMetric('reconcile', metricName, {
      ...options,
      dimensions: { [METRIC_DIMENSIONS.source]: source, ...options.dimensions },
      period,
    });
  }

  /** The room nights of a property whose rates broke parity at its last check. */
  private parityViolations(propertyId: string, period: Duration, label?: string): cloudwatch.Metric {
    return this.customMetric('reconcile', RECONCILE_METRICS.parityViolations, {
      dimensions: { [METRIC_DIMENSIONS.property]: propertyId },
      statistic: cloudwatch.Stats.MAXIMUM,
      period,
      ...(label === undefined ? {} : { label }),
    });
  }

  /** A time-series graph sized like the others, for `addSection`. */
  graph(title: string, left: cloudwatch.IMetric[]): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({ title, left, width: WIDGET_WIDTH, height: WIDGET_HEIGHT });
  }

  private addEdgeSection({ api }: ObservabilityProps): void {
    const rejectedByReason = new cloudwatch.MathExpression({
      // A search, so that every reason that occurs shows up without listing the codes here.
      expression:
        `SEARCH('{${this.namespace},${METRIC_DIMENSIONS.reason},service} MetricName="${INGEST_METRICS.rejected}" ` +
        `service="${METRIC_SERVICES.ingest}"', 'Sum', 300)`,
      usingMetrics: {},
      label: 'Rejected',
      period: FIVE_MINUTES,
    });
    this.addSection('Edge: webhook API and ingest', [
      this.graph('API requests and errors', [
        api.metricCount({ statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES }),
        api.metricClientError({ period: FIVE_MINUTES }),
        api.metricServerError({ period: FIVE_MINUTES }),
      ]),
      this.graph('API latency (ms)', [
        api.metricLatency({ statistic: 'p50', period: FIVE_MINUTES }),
        api.metricLatency({ statistic: 'p99', period: FIVE_MINUTES }),
      ]),
      this.graph('Deliveries', [
        this.customMetric('ingest', INGEST_METRICS.received),
        this.customMetric('ingest', INGEST_METRICS.accepted, {
          dimensions: { [METRIC_DIMENSIONS.action]: 'enqueued' },
          label: 'Accepted (enqueued)',
        }),
        this.customMetric('ingest', INGEST_METRICS.accepted, {
          dimensions: { [METRIC_DIMENSIONS.action]: 'recorded' },
          label: 'Accepted (recorded)',
        }),
        this.customMetric('ingest', INGEST_METRICS.duplicates),
      ]),
      this.graph('Rejected deliveries by reason', [rejectedByReason]),
      this.graph('Signature failures', [this.customMetric('ingest', INGEST_METRICS.signatureFailures)]),
      this.graph('Refusals the rejection log missed', [
        this.customMetric('ingest', INGEST_METRICS.rejectionsNotRecorded),
      ]),
      this.graph('Ingest latency (ms)', [
        this.customMetric('ingest', INGEST_METRICS.latency, { statistic: 'p50' }),
        this.customMetric('ingest', INGEST_METRICS.latency, { statistic: 'p99' }),
      ]),
    ]);
  }

  private addQueueSection({ queues }: ObservabilityProps): void {
    this.addSection('Events queue', [
      this.graph('Oldest message on the events queue (s)', [
        queues.queue.metricApproximateAgeOfOldestMessage({
          statistic: cloudwatch.Stats.MAXIMUM,
          period: ONE_MINUTE,
        }),
      ]),
      this.graph('Dead-letter queue depth', [queueDepth(queues.deadLetterQueue)]),
    ]);
  }

  private addReplaySection(replays: NonNullable<ObservabilityProps['replays']>): void {
    this.addSection('Replay jobs', [
      this.graph('Replay work messages waiting (one per page to read)', [queueDepth(replays.queue)]),
      this.graph('Replay work dead-letter queue depth', [queueDepth(replays.deadLetterQueue)]),
    ]);
  }

  private addReplayAlarms(replays: NonNullable<ObservabilityProps['replays']>): void {
    this.addNotEmptyAlarm(
      'ReplayWorkDeadLetterQueueNotEmpty',
      replays.deadLetterQueue,
      'A replay job stopped: the worker failed one page of it on every receive. Each message names the job: ' +
        `\`${this.cli('replay status <jobId>')}\` shows how far it got; read the replay function logs for its ` +
        'error. Once fixed, start the replay again for the same window ' +
        `(\`${this.cli('replay start --source <id> --from <t> --to <t> --status <status>')}\`): replaying is ` +
        'safe to repeat. The message expires with the queue retention.',
    );
  }

  private addReconcileWorkSection(work: ReconcileWorkQueues): void {
    this.addSection('Reconciliation work', [
      this.graph('Work items waiting (one per scan or parity window)', [queueDepth(work.queue)]),
      this.graph('Oldest work item waiting (s)', [
        work.queue.metricApproximateAgeOfOldestMessage({
          statistic: cloudwatch.Stats.MAXIMUM,
          period: ONE_MINUTE,
        }),
      ]),
      this.graph('Work items dead-lettered', [
        this.customMetric('reconcile', RECONCILE_WORK_METRICS.deadLettered, {
          label: 'Dead-lettered items (ended as failed)',
        }),
        this.customMetric('reconcile', RECONCILE_WORK_METRICS.deadLetterNotEnded, {
          label: 'Not ended yet (retried from the DLQ)',
        }),
        work.deadLetterConsumer.metricErrors({ period: FIVE_MINUTES }).with({ label: 'DLQ consumer errors' }),
        queueDepth(work.deadLetterQueue).with({ label: 'Waiting in the dead-letter queue' }),
      ]),
    ]);
  }

  /**
   * The DLQ's consumer deletes each message once its item ended, so the queue's depth no longer tells: the alarm
   * counts the items it handled, and its failures, which leave a run open.
   */
  private addReconcileWorkAlarms(work: ReconcileWorkQueues): void {
    this.addAlarm('ReconcileWorkItemsDeadLettered', {
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(deadLettered, 0) + FILL(notEnded, 0) + FILL(errors, 0)',
        usingMetrics: {
          deadLettered: this.customMetric('reconcile', RECONCILE_WORK_METRICS.deadLettered),
          notEnded: this.customMetric('reconcile', RECONCILE_WORK_METRICS.deadLetterNotEnded),
          errors: work.deadLetterConsumer.metricErrors({ period: FIVE_MINUTES }),
        },
        label: 'Dead-lettered work items, and those the DLQ consumer could not end',
        period: FIVE_MINUTES,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description:
        'A reconciliation work item failed on every receive: the worker could not reach the run log, or Lambda ' +
        'stopped it (timeout, out of memory) each time. The work DLQ consumer ended it as failed in its run, so ' +
        'the run completed. Query the reconcile logs for "dead-lettered reconciliation work item" to find its ' +
        `runId and itemId; \`${this.cli('reconcile runs <runId>')}\` shows the run and the item's error; read ` +
        'the reconcile worker logs for that item (Task timed out, Runtime exited: keep ' +
        'reconciliation.budgetSeconds well inside the worker timeout). The next run does the same work again. ' +
        `A ${RECONCILE_WORK_METRICS.deadLetterNotEnded} count or DLQ consumer errors mean an item was not ended ` +
        'yet (its run still open): its message is retried from the dead-letter queue; the consumer logs say why.',
    });
  }

  private addApplySection(): void {
    this.addSection('Apply pipeline', [
      this.graph('Events applied', [
        this.customMetric('apply', APPLY_METRICS.applied),
        this.customMetric('apply', APPLY_METRICS.rejected),
        this.customMetric('apply', APPLY_METRICS.parked),
        this.customMetric('apply', APPLY_METRICS.skipped),
      ]),
      this.graph('Apply failures and retries', [
        this.customMetric('apply', APPLY_METRICS.failures),
        this.customMetric('apply', APPLY_METRICS.retrySaturation),
      ]),
      this.graph('Event lag, occurred to applied (ms)', [
        this.customMetric('apply', APPLY_METRICS.lag, { statistic: 'p50' }),
        this.customMetric('apply', APPLY_METRICS.lag, { statistic: 'p99' }),
      ]),
      this.graph('Service notices and capped inventory', [
        ...SERVICE_NOTICES.map((notice) =>
          this.customMetric('apply', APPLY_METRICS.serviceNotices, {
            dimensions: { [METRIC_DIMENSIONS.notice]: notice },
            label: `Service notice: ${notice}`,
          }),
        ),
        this.customMetric('apply', APPLY_METRICS.inventoryCapped),
      ]),
    ]);
  }

  private addReconciliationSection(
    { config, deadLetterQueue }: NonNullable<ObservabilityProps['reconciliation']>,
    fn: lambda.IFunction | undefined,
  ): void {
    const period = runPeriod(config);
    const sources = polledSourceIds(config);
    const perSource = (metricName: string, statistic: string = cloudwatch.Stats.SUM, what = '') =>
      sources.map((source) =>
        this.sourceMetric(source, metricName, period, {
          statistic,
          label: what ? `${source} ${what}` : source,
        }),
      );
    const properties = config.parity.properties.map((property) => property.propertyId);
    const failuresByReason = new cloudwatch.MathExpression({
      expression:
        `SEARCH('{${this.namespace},${METRIC_DIMENSIONS.reason},${METRIC_DIMENSIONS.source},service} ` +
        `MetricName="${RECONCILE_METRICS.failures}" service="${METRIC_SERVICES.reconcile}"', 'Sum', ${period.toSeconds()})`,
      usingMetrics: {},
      label: 'Failed',
      period,
    });
    this.addSection('Reconciliation and parity', [
      new cloudwatch.GraphWidget({
        title: 'Drift by source (%)',
        left: perSource(RECONCILE_METRICS.driftPercent, cloudwatch.Stats.MAXIMUM),
        leftAnnotations: [
          { value: config.reconciliation.drift.thresholdPercent, label: 'Correction threshold' },
        ],
        width: WIDGET_WIDTH,
        height: WIDGET_HEIGHT,
      }),
      this.graph('Silent misses and corrected fields', [
        ...perSource(RECONCILE_METRICS.silentMisses, cloudwatch.Stats.SUM, 'silent misses'),
        ...perSource(RECONCILE_METRICS.correctedFields, cloudwatch.Stats.SUM, 'corrected'),
      ]),
      this.graph('Rate parity violations by property', [
        ...properties.map((property) => this.parityViolations(property, period, property)),
      ]),
      this.graph('Polling: pages, requests, 429s, retries', [
        ...perSource(RECONCILE_METRICS.pages, cloudwatch.Stats.SUM, 'pages'),
        ...perSource(RECONCILE_METRICS.requests, cloudwatch.Stats.SUM, 'requests'),
        ...perSource(RECONCILE_METRICS.throttled, cloudwatch.Stats.SUM, '429s'),
        ...perSource(RECONCILE_METRICS.retries, cloudwatch.Stats.SUM, 'retries'),
      ]),
      this.graph(
        'Circuit open (1) by source',
        perSource(RECONCILE_METRICS.circuitOpen, cloudwatch.Stats.MAXIMUM),
      ),
      this.graph('Failed source runs by reason', [failuresByReason]),
      this.graph('Nights polled and skipped', [
        ...perSource(RECONCILE_METRICS.nightsPolled, cloudwatch.Stats.SUM, 'polled'),
        ...perSource(RECONCILE_METRICS.nightsSkipped, cloudwatch.Stats.SUM, 'skipped'),
      ]),
      this.graph('Failed runs (dead-letter queue depth)', [
        queueDepth(deadLetterQueue),
        ...(fn ? [fn.metricErrors({ period }).with({ label: 'Function errors' })] : []),
      ]),
    ]);
  }

  private addReconciliationAlarms(
    { config, deadLetterQueue }: NonNullable<ObservabilityProps['reconciliation']>,
    thresholds: AlarmThresholds,
  ): void {
    const period = runPeriod(config);
    const sources = polledSourceIds(config);
    const threshold = config.reconciliation.drift.thresholdPercent;
    const sourceIds = logicalIds('', sources);
    for (const source of sources) {
      const suffix = sourceIds.get(source) ?? source;
      this.addAlarm(`DriftAboveThreshold${suffix}`, {
        metric: this.sourceMetric(source, RECONCILE_METRICS.driftPercent, period, {
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description:
          `Reconciliation of source ${source} measured drift above ${threshold}%: local state disagreed with the ` +
          'provider on that share of fields, and was corrected (unless dryRun is on). Webhooks are being lost: check ' +
          'the SilentMisses metric, the provider webhook delivery log and the edge rejections for this source ' +
          `(\`${this.cli(`rejections list --source ${source}`)}\`). The audit table lists every overwritten field.`,
      });
      this.addAlarm(`CircuitOpen${suffix}`, {
        metric: this.sourceMetric(source, RECONCILE_METRICS.circuitOpen, period, {
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 2,
        description:
          `Polling of source ${source} has stopped: its circuit breaker stayed open for two runs after repeated ` +
          "failures. Check the provider's status page and the reconcile logs (sourceId, error). Runs retry by " +
          'themselves after the cool-down; drift is not being measured meanwhile.',
      });
      this.addAlarm(`PollingTokenRejected${suffix}`, {
        metric: this.sourceMetric(source, RECONCILE_METRICS.failures, period, {
          dimensions: { [METRIC_DIMENSIONS.reason]: 'provider_auth_failed' },
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description:
          `The provider of source ${source} refused the polling token (401/403): it expired or access was ` +
          'revoked. Put a new token in the Secrets Manager secret named by polling.token; the function re-reads it ' +
          'within 5 minutes.',
      });
      const missedRuns = thresholds.reconcileMissedRuns ?? 3;
      this.addAlarm(`ReconcileStalled${suffix}`, {
        metric: this.sourceMetric(source, RECONCILE_METRICS.runs, period, {
          dimensions: { [METRIC_DIMENSIONS.outcome]: 'reconciled' },
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: missedRuns,
        // No datapoint means no run reconciled this source: the schedule stopped or every run failed.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        description:
          `Source ${source} has not been reconciled in ${missedRuns} scheduled runs. Check that the schedule ` +
          'rule is enabled, the reconcile function errors and throttles, its dead-letter queue, and the failure ' +
          `reason in the reconcile logs. \`${this.cli(`reconcile --source ${source}`)}\` runs one now.`,
      });
    }

    const propertyIds = logicalIds(
      '',
      config.parity.properties.map((property) => property.propertyId),
    );
    for (const { propertyId, sourceOfTruth } of config.parity.properties) {
      this.addAlarm(`ParityViolations${propertyIds.get(propertyId) ?? propertyId}`, {
        metric: this.parityViolations(propertyId, period),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description:
          `Property ${propertyId} has room nights where a channel's rate differs from ${sourceOfTruth} by more ` +
          `than the tolerance. List them with \`${this.cli(`parity list --property ${propertyId}`)}\`, then fix ` +
          'the rate at the channel or in the channel manager mapping.',
      });
    }

    this.addNotEmptyAlarm(
      'ReconcileDeadLetterQueueNotEmpty',
      deadLetterQueue,
      'A reconciliation run failed after its retries (local state unreachable, a bug, or a timeout). ' +
        `\`${this.cli('dlq list --queue reconcile')}\` shows when; read the reconcile function logs around that ` +
        'time for "Reconciliation failed". Nothing is lost: the next run resumes from the saved checkpoint. ' +
        `Delete the message once understood (\`${this.cli('dlq delete --queue reconcile')}\`).`,
    );
  }

  /** The parity-on-change section and its alarms: stream lag, failing checks, batches given up on. */
  private addParityOnChange(
    parity: NonNullable<ObservabilityProps['parityOnChange']>,
    thresholds: AlarmThresholds,
  ): void {
    const iteratorAge = (period: Duration) =>
      parity.function.metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, period });
    const perMinute = (metricName: string, label: string) =>
      this.customMetric('parity', metricName, { period: ONE_MINUTE, label });
    const maxAgeSeconds = thresholds.parityIteratorAgeSeconds ?? 300;
    const lagMinutes = thresholds.parityStreamLagMinutes ?? 5;
    const checkErrors = thresholds.parityCheckErrorsPer5Minutes ?? 5;

    this.addSection('Parity on change', [
      new cloudwatch.GraphWidget({
        title: 'Parity stream iterator age (ms)',
        left: [iteratorAge(ONE_MINUTE)],
        leftAnnotations: [{ value: maxAgeSeconds * 1000, label: 'Lagging' }],
        width: WIDGET_WIDTH,
        height: WIDGET_HEIGHT,
      }),
      this.graph('Parity checks per minute', [
        perMinute(PARITY_METRICS.nightsChecked, 'Nights checked'),
        perMinute(PARITY_METRICS.nightsFlagged, 'Nights flagged'),
        perMinute(PARITY_METRICS.nightsCleared, 'Nights cleared'),
        perMinute(PARITY_METRICS.checkFailures, 'Checks failed'),
      ]),
      this.graph('Parity batches given up on (dead-letter queue depth)', [
        queueDepth(parity.deadLetterQueue),
        parity.function.metricErrors({ period: ONE_MINUTE }).with({ label: 'Function errors' }),
      ]),
    ]);

    this.addNotEmptyAlarm(
      'ParityDeadLetterQueueNotEmpty',
      parity.deadLetterQueue,
      'Parity on change gave up on a batch of ARI stream records after its retries (or the records grew too ' +
        `old): those changes were not re-checked. \`${this.cli('dlq list --queue parity')}\` shows the shard, ` +
        'the sequence range, when the records arrived and why; read the parity function logs around then for ' +
        '"Parity check of a changed night failed". The message holds stream positions, not nights, so it is ' +
        'not redriven: once the cause is fixed, the next scheduled reconciliation re-checks every night of the ' +
        `parity properties (\`${this.cli('reconcile')}\` runs one now). Then delete the message ` +
        `(\`${this.cli('dlq delete --queue parity <messageId>')}\`).`,
    );

    this.addAlarm('ParityStreamLagging', {
      metric: iteratorAge(ONE_MINUTE),
      threshold: maxAgeSeconds * 1000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: lagMinutes,
      description:
        `Parity on change has been more than ${maxAgeSeconds} s behind the ARI table's changes for ` +
        `${lagMinutes} minutes: findings lag rate changes. Check the parity function's errors, throttles and ` +
        'duration on the dashboard: a batch failing again and again holds its shard until its retries run out. ' +
        'Records older than 6 hours are given up on and reach the parity dead-letter queue ' +
        `(\`${this.cli('dlq list --queue parity')}\`); the scheduled reconciliation still checks every night.`,
    });

    this.addAlarm('ParityCheckErrors', {
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(errors, 0) + FILL(failures, 0)',
        usingMetrics: {
          errors: parity.function.metricErrors({ period: FIVE_MINUTES }),
          failures: this.customMetric('parity', PARITY_METRICS.checkFailures),
        },
        label: 'Parity function errors and failed night checks',
        period: FIVE_MINUTES,
      }),
      threshold: checkErrors,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description:
        `More than ${checkErrors} parity checks of changed nights failed (or the parity function failed) in 5 ` +
        'minutes; the stream retries them, halving the batch. Query the parity function logs for "Parity check ' +
        'of a changed night failed" or "Stream record names no room night" and read error: a DynamoDB throttle ' +
        'clears by itself, anything else needs a fix before the records run out of retries and reach the ' +
        `parity dead-letter queue (\`${this.cli('dlq list --queue parity')}\`).`,
    });
  }

  private addFunctionsSection({ functions }: ObservabilityProps): void {
    const all = Object.entries(functions).filter(
      (entry): entry is [string, lambda.IFunction] => entry[1] !== undefined,
    );
    const labelled = (metric: cloudwatch.Metric, name: string) => metric.with({ label: name });
    this.addSection('Functions', [
      this.graph(
        'Errors',
        all.map(([name, fn]) => labelled(fn.metricErrors({ period: FIVE_MINUTES }), name)),
      ),
      this.graph(
        'Throttles',
        all.map(([name, fn]) => labelled(fn.metricThrottles({ period: FIVE_MINUTES }), name)),
      ),
      this.graph(
        'Duration p99 (ms)',
        all.map(([name, fn]) =>
          labelled(fn.metricDuration({ statistic: 'p99', period: FIVE_MINUTES }), name),
        ),
      ),
    ]);
  }

  private addAlarms({ api, queues, thresholds = {} }: ObservabilityProps): void {
    this.addNotEmptyAlarm(
      'DeadLetterQueueNotEmpty',
      queues.deadLetterQueue,
      'Events failed to apply after every retry and are in the dead-letter queue. ' +
        `List them with \`${this.cli('dlq list')}\` (each message's eventId, receive count and the ledger's ` +
        'lastError; GET /deliveries/{eventId} has the whole entry). Fix the cause, then ' +
        `\`${this.cli('dlq redrive')}\` sends them back to the events queue. Applying is idempotent.`,
    );

    const maxAge = thresholds.oldestMessageAgeSeconds ?? 300;
    this.addAlarm('EventsQueueBacklog', {
      metric: queues.queue.metricApproximateAgeOfOldestMessage({
        statistic: cloudwatch.Stats.MAXIMUM,
        period: ONE_MINUTE,
      }),
      threshold: maxAge,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      description:
        `The oldest event has waited more than ${maxAge} s on the events queue: applying is falling behind or ` +
        'stopped. Check the apply function for errors and throttles on the dashboard and in its logs, and the ' +
        'ApplyFailures metric. State served by the read API is stale until the backlog clears.',
    });

    const signatureFailures = thresholds.signatureFailuresPer5Minutes ?? 50;
    this.addAlarm('SignatureFailureSpike', {
      metric: this.customMetric('ingest', INGEST_METRICS.signatureFailures),
      threshold: signatureFailures,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description:
        `More than ${signatureFailures} deliveries in 5 minutes failed signature verification. ` +
        `\`${this.cli('rejections list --reason invalid_signature')}\` lists them by source and sender address ` +
        '(also missing_signature). One source: its signing secret ' +
        'was rotated at the provider but not here (see README, Rotating a signing secret). Many sources or ' +
        'unknown senders: probing; consider allowedCidrs for the source.',
    });

    const applyFailures = thresholds.applyFailuresPer5Minutes ?? 10;
    this.addAlarm('ApplyFailures', {
      metric: this.customMetric('apply', APPLY_METRICS.failures),
      threshold: applyFailures,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description:
        `More than ${applyFailures} apply attempts failed in 5 minutes; SQS is retrying them. Query the apply ` +
        'logs for outcome = "retrying" or "dead_lettered" and read the error; ' +
        `\`${this.cli('deliveries show <eventId>')}\` shows lastError. A DynamoDB throttle or outage clears by ` +
        'itself; anything else needs a fix before the events reach the dead-letter queue.',
    });

    this.addAlarm('ContractViolations', {
      metric: this.customMetric('apply', APPLY_METRICS.contractViolations),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description:
        'An event reached apply although it breaks the applicability contract the edge enforces: a ParitySync ' +
        'bug, not a sender error. It was rejected, not retried. Query the apply logs for error = ' +
        `"not_applicable"; \`${this.cli('deliveries show <eventId>')}\` shows which fields broke which rule. ` +
        'Report it with the field problems (never the payload); once fixed, ' +
        `\`${this.cli('replay start --source <id> --from <t> --to <t> --status rejected')}\` applies them.`,
    });

    this.addAlarm('RejectionsNotRecorded', {
      metric: this.customMetric('ingest', INGEST_METRICS.rejectionsNotRecorded),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description:
        'The edge refused requests that the rejection log could not record (the senders got their 4xx all the ' +
        `same), so \`${this.cli('rejections list')}\` is missing them. Query the ingest logs for "rejection ` +
        'not recorded" and read cause; check the Rejections table for throttles and errors. Clears by itself ' +
        'once the table can be written.',
    });

    for (const notice of SERVICE_NOTICES) {
      this.addAlarm(`ServiceNotice${pascal(notice)}`, {
        metric: this.customMetric('apply', APPLY_METRICS.serviceNotices, {
          dimensions: { [METRIC_DIMENSIONS.notice]: notice },
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description:
          `A provider sent the service notice ${notice}: it will stop sending (or accepting) updates for that ` +
          'connection. Find the source in the apply logs ("service notice", sourceId) and re-authorise the ' +
          'connection at the provider. Updates sent while it was broken may be missing from state.',
      });
    }

    const api5xxRate = thresholds.api5xxRatePercent ?? 1;
    this.addAlarm('Api5xxRate', {
      metric: new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: {
          errors: api.metricServerError({ period: FIVE_MINUTES }),
          requests: api.metricCount({ statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES }),
        },
        label: 'API 5xx rate (%)',
        period: FIVE_MINUTES,
      }),
      threshold: api5xxRate,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      description:
        `More than ${api5xxRate}% of API requests got a 5xx for 10 minutes. A webhook 503 means the event was ` +
        'not made durable and the sender must retry. Query the ingest logs for status >= 500 and read error ' +
        '(ledger_unavailable, enqueue_failed, secrets_unavailable) and cause; check the ingest function errors and ' +
        'throttles and the DynamoDB and SQS health.',
    });
  }
}

/** One datapoint per run: the schedule's rate, at least a minute (CloudWatch periods are whole minutes). */
function runPeriod(config: ParitySyncConfig): Duration {
  return Duration.minutes(Math.max(1, config.reconciliation.scheduleMinutes));
}

/** The most messages visible on `queue` in each minute. */
function queueDepth(queue: sqs.IQueue): cloudwatch.Metric {
  return queue.metricApproximateNumberOfMessagesVisible({
    statistic: cloudwatch.Stats.MAXIMUM,
    period: ONE_MINUTE,
  });
}

function polledSourceIds(config: ParitySyncConfig): string[] {
  return config.sources.filter((source) => source.polling !== undefined).map((source) => source.id);
}

function pascal(snake: string): string {
  return snake
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
