import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import {
  APPLY_METRICS,
  INGEST_METRICS,
  METRIC_SERVICES,
  RECONCILE_METRICS,
  RECONCILE_WORK_METRICS,
  SERVICE_NOTICES,
} from '../../lambdas/shared/metric-names';
import type { ParitySyncStack } from '../../lib/paritysync-stack';
import {
  logicalId,
  onlyResourceId,
  synthStack,
  TEST_CONFIG,
  TEST_CONFIG_INPUT,
  TEST_RECONCILIATION,
} from './app';

type Json = Record<string, unknown>;

interface Widget {
  readonly type: string;
  readonly properties: {
    readonly title?: string;
    readonly metrics?: ReadonlyArray<ReadonlyArray<unknown>>;
    readonly annotations?: { readonly horizontal?: ReadonlyArray<Json> };
    readonly markdown?: string;
  };
}

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:111122223333:paritysync-alarms';

let stack: ParitySyncStack;
let template: Template;
let widgets: Widget[];

beforeAll(() => {
  ({ stack, template } = synthStack());
  widgets = dashboardWidgets(template);
});

/**
 * The dashboard body is an Fn::Join of literal JSON and references (region, queue names). References become
 * `{ref:<logical id>}` strings, so that a widget can be matched to the resource it shows.
 */
function dashboardWidgets(of: Template): Widget[] {
  const id = onlyResourceId(of, 'AWS::CloudWatch::Dashboard');
  const body = (of.toJSON().Resources[id].Properties as Json).DashboardBody as {
    'Fn::Join': [string, unknown[]];
  };
  const [separator, parts] = body['Fn::Join'];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      return `{ref:${ref.Ref ?? ref['Fn::GetAtt']?.[0]}}`;
    })
    .join(separator);
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

function widget(title: string): Widget {
  const found = widgets.find((candidate) => candidate.properties.title === title);
  if (!found) throw new Error(`no widget titled "${title}"`);
  return found;
}

/** A widget's metric lines as `namespace/metric` plus their dimensions, without the rendering options. */
function series(
  title: string,
): Array<{ metric: string; dimensions: Record<string, unknown>; stat?: unknown }> {
  return (widget(title).properties.metrics ?? []).map((line) => {
    const options = line[line.length - 1];
    const hasOptions = typeof options === 'object' && options !== null;
    const fields = hasOptions ? line.slice(0, -1) : line;
    const [namespace, metricName, ...pairs] = fields as string[];
    const dimensions: Record<string, unknown> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i] as string] = pairs[i + 1];
    return {
      metric: `${namespace}/${metricName}`,
      dimensions,
      ...(hasOptions && 'stat' in options ? { stat: (options as Json).stat } : {}),
    };
  });
}

/** The rendering options (period, stat, label) of a widget's metric lines. */
function lineOptions(title: string): Json[] {
  return (widget(title).properties.metrics ?? []).map((line) => line[line.length - 1] as Json);
}

function expressions(title: string): string[] {
  return (widget(title).properties.metrics ?? [])
    .map((line) => line[0])
    .filter((first): first is { expression: string } => typeof first === 'object' && first !== null)
    .map((options) => options.expression);
}

function alarmsOf(of: Template): Record<string, { Properties: Json }> {
  return of.findResources('AWS::CloudWatch::Alarm') as Record<string, { Properties: Json }>;
}

function alarm(of: Template, idPrefix: string): Json {
  const matches = Object.entries(alarmsOf(of)).filter(([id]) => id.startsWith(`Observability${idPrefix}`));
  if (matches.length !== 1) throw new Error(`expected one alarm ${idPrefix}, found ${matches.length}`);
  return (matches[0] as [string, { Properties: Json }])[1].Properties;
}

const POLLED_SOURCES = TEST_CONFIG.sources.filter((source) => source.polling).map((source) => source.id);
const PARITY_PROPERTIES = TEST_CONFIG.parity.properties.map((property) => property.propertyId);
/**
 * Edge, queue and apply alarms (DLQ, backlog, signature failures, apply failures, contract violations, refusals the
 * rejection log missed, two service notices, 5xx rate); four per polled source; one per parity property; the reconcile dead-letter queue.
 * Parity on change's three (its dead-letter queue, stream lag, check errors): test/cdk/parity-observability.test.ts.
 * Plus the replay work dead-letter queue and the reconciliation work items dead-lettered.
 */
const ALARM_COUNT = 9 + 4 * POLLED_SOURCES.length + PARITY_PROPERTIES.length + 3 + 3;

const ingest = { service: METRIC_SERVICES.ingest };
const apply = { service: METRIC_SERVICES.apply };
const reconcile = { service: METRIC_SERVICES.reconcile };
/** One datapoint per scheduled run. */
const RUN_PERIOD_SECONDS = TEST_RECONCILIATION.scheduleMinutes * 60;
/** The polled sources' ids as they appear in alarm ids. */
const SOURCE_ID_PARTS: ReadonlyArray<readonly [string, string]> = [
  ['pms-main', 'PmsMain'],
  ['ota', 'Ota'],
];
const PROPERTY_ID_PARTS: ReadonlyArray<readonly [string, string]> = [
  ['hotel-berlin', 'HotelBerlin'],
  ['hotel-lisbon', 'HotelLisbon'],
];

describe('dashboard', () => {
  it('exists once', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('shows API Gateway requests, 4xx and 5xx, and latency p50 and p99 of the webhook API', () => {
    const apiName = `${stack.stackName}-webhooks`;
    expect(series('API requests and errors')).toEqual([
      { metric: 'AWS/ApiGateway/Count', dimensions: { ApiName: apiName }, stat: 'Sum' },
      { metric: 'AWS/ApiGateway/4XXError', dimensions: { ApiName: apiName }, stat: 'Sum' },
      { metric: 'AWS/ApiGateway/5XXError', dimensions: { ApiName: apiName }, stat: 'Sum' },
    ]);
    expect(series('API latency (ms)')).toEqual([
      { metric: 'AWS/ApiGateway/Latency', dimensions: { ApiName: apiName }, stat: 'p50' },
      { metric: 'AWS/ApiGateway/Latency', dimensions: { ApiName: apiName }, stat: 'p99' },
    ]);
  });

  it('shows errors, throttles and duration of each function', () => {
    const functionRefs = [
      stack.ingest.function,
      stack.apply.function,
      stack.read.function,
      stack.reconciliation.function,
      stack.reconciliation.work.function,
      stack.reconciliation.work.deadLetterFunction,
      stack.replays.function,
      stack.parityOnChange.function,
    ].map((fn) => `{ref:${logicalId(fn)}}`);
    for (const [title, metric] of [
      ['Errors', 'AWS/Lambda/Errors'],
      ['Throttles', 'AWS/Lambda/Throttles'],
      ['Duration p99 (ms)', 'AWS/Lambda/Duration'],
    ] as const) {
      const lines = series(title);
      expect(lines.map((line) => line.metric)).toEqual(functionRefs.map(() => metric));
      expect(lines.map((line) => line.dimensions.FunctionName)).toEqual(functionRefs);
    }
  });

  it('shows the age of the oldest queued event and the depth of the DLQ', () => {
    expect(series('Oldest message on the events queue (s)')).toEqual([
      {
        metric: 'AWS/SQS/ApproximateAgeOfOldestMessage',
        dimensions: { QueueName: `{ref:${logicalId(stack.queues.queue)}}` },
        stat: 'Maximum',
      },
    ]);
    expect(series('Dead-letter queue depth')).toEqual([
      {
        metric: 'AWS/SQS/ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: `{ref:${logicalId(stack.queues.deadLetterQueue)}}` },
        stat: 'Maximum',
      },
    ]);
  });

  it("shows the ingest function's delivery metrics under its service dimension", () => {
    expect(series('Deliveries')).toEqual([
      { metric: `ParitySync/${INGEST_METRICS.received}`, dimensions: ingest, stat: 'Sum' },
      {
        metric: `ParitySync/${INGEST_METRICS.accepted}`,
        dimensions: { ...ingest, action: 'enqueued' },
        stat: 'Sum',
      },
      {
        metric: `ParitySync/${INGEST_METRICS.accepted}`,
        dimensions: { ...ingest, action: 'recorded' },
        stat: 'Sum',
      },
      { metric: `ParitySync/${INGEST_METRICS.duplicates}`, dimensions: ingest, stat: 'Sum' },
    ]);
    expect(series('Signature failures')).toEqual([
      { metric: `ParitySync/${INGEST_METRICS.signatureFailures}`, dimensions: ingest, stat: 'Sum' },
    ]);
    expect(series('Refusals the rejection log missed')).toEqual([
      { metric: `ParitySync/${INGEST_METRICS.rejectionsNotRecorded}`, dimensions: ingest, stat: 'Sum' },
    ]);
    expect(series('Ingest latency (ms)').map((line) => [line.metric, line.stat])).toEqual([
      [`ParitySync/${INGEST_METRICS.latency}`, 'p50'],
      [`ParitySync/${INGEST_METRICS.latency}`, 'p99'],
    ]);
  });

  it('breaks rejected deliveries down by every reason that occurs, with a search', () => {
    expect(expressions('Rejected deliveries by reason')).toEqual([
      `SEARCH('{ParitySync,reason,service} MetricName="${INGEST_METRICS.rejected}" ` +
        `service="${METRIC_SERVICES.ingest}"', 'Sum', 300)`,
    ]);
  });

  it("shows the apply consumer's outcome, failure, lag, notice and capping metrics", () => {
    expect(series('Events applied').map((line) => [line.metric, line.dimensions])).toEqual(
      [APPLY_METRICS.applied, APPLY_METRICS.rejected, APPLY_METRICS.parked, APPLY_METRICS.skipped].map(
        (name) => [`ParitySync/${name}`, apply],
      ),
    );
    expect(series('Apply failures and retries').map((line) => line.metric)).toEqual([
      `ParitySync/${APPLY_METRICS.failures}`,
      `ParitySync/${APPLY_METRICS.retrySaturation}`,
    ]);
    expect(series('Event lag, occurred to applied (ms)').map((line) => [line.metric, line.stat])).toEqual([
      [`ParitySync/${APPLY_METRICS.lag}`, 'p50'],
      [`ParitySync/${APPLY_METRICS.lag}`, 'p99'],
    ]);
    expect(series('Service notices and capped inventory')).toEqual([
      ...SERVICE_NOTICES.map((notice) => ({
        metric: `ParitySync/${APPLY_METRICS.serviceNotices}`,
        dimensions: { ...apply, notice },
        stat: 'Sum',
      })),
      { metric: `ParitySync/${APPLY_METRICS.inventoryCapped}`, dimensions: apply, stat: 'Sum' },
    ]);
  });
});

describe('alarms', () => {
  it('alarms when the dead-letter queue holds any message, keeping the state while SQS stops reporting', () => {
    expect(alarm(template, 'DeadLetterQueueNotEmpty')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack.queues.deadLetterQueue), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'ignore',
    });
  });

  it('alarms when the oldest queued event is older than 300 s for 3 minutes', () => {
    expect(alarm(template, 'EventsQueueBacklog')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.queues.queue), 'QueueName'] } },
      ],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on more than 50 signature failures in 5 minutes', () => {
    expect(alarm(template, 'SignatureFailureSpike')).toMatchObject({
      Namespace: 'ParitySync',
      MetricName: INGEST_METRICS.signatureFailures,
      Dimensions: [{ Name: 'service', Value: METRIC_SERVICES.ingest }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 50,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on any refusal the rejection log could not record', () => {
    expect(alarm(template, 'RejectionsNotRecorded')).toMatchObject({
      Namespace: 'ParitySync',
      MetricName: INGEST_METRICS.rejectionsNotRecorded,
      Dimensions: [{ Name: 'service', Value: METRIC_SERVICES.ingest }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('names the operations CLI command, with this stack, that acts on each operational alarm', () => {
    const cli = (command: string) => `\`paritysync --stack ${stack.stackName} ${command}\``;
    const expected: ReadonlyArray<readonly [string, string]> = [
      ['DeadLetterQueueNotEmpty', cli('dlq list')],
      ['DeadLetterQueueNotEmpty', cli('dlq redrive')],
      ['SignatureFailureSpike', cli('rejections list --reason invalid_signature')],
      ['ApplyFailures', cli('deliveries show <eventId>')],
      ['ContractViolations', cli('replay start --source <id> --from <t> --to <t> --status rejected')],
      ['RejectionsNotRecorded', cli('rejections list')],
      ['DriftAboveThresholdPmsMain', cli('rejections list --source pms-main')],
      ['ReconcileStalledOta', cli('reconcile --source ota')],
      ['ParityViolationsHotelBerlin', cli('parity list --property hotel-berlin')],
      ['ReconcileDeadLetterQueueNotEmpty', cli('dlq list --queue reconcile')],
      ['ReplayWorkDeadLetterQueueNotEmpty', cli('replay status <jobId>')],
      ['ReconcileWorkItemsDeadLettered', cli('reconcile runs <runId>')],
      [
        'ReplayWorkDeadLetterQueueNotEmpty',
        cli('replay start --source <id> --from <t> --to <t> --status <status>'),
      ],
    ];
    for (const [id, command] of expected) {
      expect(alarm(template, id).AlarmDescription, id).toContain(command);
    }
  });

  it('alarms on more than 10 failed apply attempts in 5 minutes', () => {
    expect(alarm(template, 'ApplyFailures')).toMatchObject({
      Namespace: 'ParitySync',
      MetricName: APPLY_METRICS.failures,
      Dimensions: [{ Name: 'service', Value: METRIC_SERVICES.apply }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on a single event that reached apply breaking the applicability contract', () => {
    expect(alarm(template, 'ContractViolations')).toMatchObject({
      Namespace: 'ParitySync',
      MetricName: APPLY_METRICS.contractViolations,
      Dimensions: [{ Name: 'service', Value: METRIC_SERVICES.apply }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it.each(
    SERVICE_NOTICES.map((notice) => [notice, notice === 'token_expired' ? 'TokenExpired' : 'AccessRevoked']),
  )('alarms on a single %s service notice', (notice, idPart) => {
    expect(alarm(template, `ServiceNotice${idPart}`)).toMatchObject({
      Namespace: 'ParitySync',
      MetricName: APPLY_METRICS.serviceNotices,
      Dimensions: [
        { Name: 'notice', Value: notice },
        { Name: 'service', Value: METRIC_SERVICES.apply },
      ],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when more than 1% of API requests get a 5xx for two 5-minute periods', () => {
    const props = alarm(template, 'Api5xxRate');
    expect(props).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      TreatMissingData: 'notBreaching',
    });
    const metrics = props.Metrics as Array<Json & { Id: string }>;
    const byId = Object.fromEntries(metrics.map((entry) => [entry.Id, entry]));
    const expression = metrics.find((entry) => 'Expression' in entry);
    expect(expression).toMatchObject({
      Expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      ReturnData: true,
    });
    const apiName = `${stack.stackName}-webhooks`;
    for (const [id, metricName] of [
      ['errors', '5XXError'],
      ['requests', 'Count'],
    ] as const) {
      expect(byId[id]).toMatchObject({
        ReturnData: false,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/ApiGateway',
            MetricName: metricName,
            Dimensions: [{ Name: 'ApiName', Value: apiName }],
          },
          Period: 300,
          Stat: 'Sum',
        },
      });
    }
  });

  it('tells ops what to do in every alarm description', () => {
    const descriptions = Object.values(alarmsOf(template)).map(
      (resource) => resource.Properties.AlarmDescription as string,
    );
    expect(descriptions).toHaveLength(ALARM_COUNT);
    for (const description of descriptions) expect(description.length).toBeGreaterThan(80);
    expect(alarm(template, 'DeadLetterQueueNotEmpty').AlarmDescription).toMatch(
      /GET \/deliveries\/\{eventId\}/,
    );
    expect(alarm(template, 'DeadLetterQueueNotEmpty').AlarmDescription).toMatch(/redrive/);
    expect(alarm(template, 'SignatureFailureSpike').AlarmDescription).toMatch(/Rotating a signing secret/);
    expect(alarm(template, 'ServiceNoticeAccessRevoked').AlarmDescription).toMatch(/re-authorise/);
  });

  it('has no actions when no topic is given', () => {
    for (const resource of Object.values(alarmsOf(template))) {
      expect(resource.Properties.AlarmActions).toBeUndefined();
      expect(resource.Properties.OKActions).toBeUndefined();
    }
  });

  it('notifies the given SNS topic from every alarm, into and out of ALARM', () => {
    const { template: withTopic } = synthStack({ alarmTopicArn: TOPIC_ARN });
    const alarms = Object.values(alarmsOf(withTopic));
    expect(alarms).toHaveLength(ALARM_COUNT);
    for (const resource of alarms) {
      expect(resource.Properties.AlarmActions).toEqual([TOPIC_ARN]);
      expect(resource.Properties.OKActions).toEqual([TOPIC_ARN]);
    }
  });

  it('takes the thresholds it is given', () => {
    const { template: tuned } = synthStack({
      alarmThresholds: {
        oldestMessageAgeSeconds: 120,
        signatureFailuresPer5Minutes: 5,
        applyFailuresPer5Minutes: 3,
        api5xxRatePercent: 0.5,
      },
    });
    expect(alarm(tuned, 'EventsQueueBacklog').Threshold).toBe(120);
    expect(alarm(tuned, 'EventsQueueBacklog').AlarmDescription).toMatch(/more than 120 s/);
    expect(alarm(tuned, 'SignatureFailureSpike').Threshold).toBe(5);
    expect(alarm(tuned, 'ApplyFailures').Threshold).toBe(3);
    expect(alarm(tuned, 'Api5xxRate').Threshold).toBe(0.5);
  });
});

describe('reconciliation and parity dashboard section', () => {
  const perSource = (metricName: string, stat: string) =>
    POLLED_SOURCES.map((source) => ({
      metric: `ParitySync/${metricName}`,
      dimensions: { ...reconcile, source },
      stat,
    }));

  it('has its own titled section', () => {
    expect(widgets.map((w) => w.properties.markdown)).toContain('## Reconciliation and parity');
  });

  it('shows the highest drift per polled source per run, against the correction threshold', () => {
    expect(POLLED_SOURCES).toEqual(SOURCE_ID_PARTS.map(([source]) => source));
    expect(series('Drift by source (%)')).toEqual(perSource(RECONCILE_METRICS.driftPercent, 'Maximum'));
    expect(lineOptions('Drift by source (%)').map((options) => options.period)).toEqual(
      POLLED_SOURCES.map(() => RUN_PERIOD_SECONDS),
    );
    expect(widget('Drift by source (%)').properties.annotations?.horizontal).toEqual([
      { value: TEST_RECONCILIATION.driftThresholdPercent, label: 'Correction threshold', yAxis: 'left' },
    ]);
  });

  it('shows parity violations per configured property', () => {
    expect(series('Rate parity violations by property')).toEqual(
      PARITY_PROPERTIES.map((property) => ({
        metric: `ParitySync/${RECONCILE_METRICS.parityViolations}`,
        dimensions: { ...reconcile, property },
        stat: 'Maximum',
      })),
    );
  });

  it('shows the circuit state per polled source', () => {
    expect(series('Circuit open (1) by source')).toEqual(perSource(RECONCILE_METRICS.circuitOpen, 'Maximum'));
  });

  it("shows each source's polling pages, requests, 429s and retries", () => {
    expect(series('Polling: pages, requests, 429s, retries')).toEqual([
      ...perSource(RECONCILE_METRICS.pages, 'Sum'),
      ...perSource(RECONCILE_METRICS.requests, 'Sum'),
      ...perSource(RECONCILE_METRICS.throttled, 'Sum'),
      ...perSource(RECONCILE_METRICS.retries, 'Sum'),
    ]);
    expect(
      lineOptions('Polling: pages, requests, 429s, retries')
        .map((options) => options.label)
        .filter((label) => String(label).endsWith('429s')),
    ).toEqual(POLLED_SOURCES.map((source) => `${source} 429s`));
  });

  it('shows silent misses and corrected fields per source', () => {
    expect(series('Silent misses and corrected fields')).toEqual([
      ...perSource(RECONCILE_METRICS.silentMisses, 'Sum'),
      ...perSource(RECONCILE_METRICS.correctedFields, 'Sum'),
    ]);
  });

  it('breaks failed source runs down by every reason that occurs, per run', () => {
    expect(expressions('Failed source runs by reason')).toEqual([
      `SEARCH('{ParitySync,reason,source,service} MetricName="${RECONCILE_METRICS.failures}" ` +
        `service="${METRIC_SERVICES.reconcile}"', 'Sum', ${RUN_PERIOD_SECONDS})`,
    ]);
  });

  it('shows the reconcile DLQ depth next to the function errors', () => {
    expect(series('Failed runs (dead-letter queue depth)')).toEqual([
      {
        metric: 'AWS/SQS/ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: `{ref:${logicalId(stack.reconciliation.deadLetterQueue)}}` },
        stat: 'Maximum',
      },
      {
        metric: 'AWS/Lambda/Errors',
        dimensions: { FunctionName: `{ref:${logicalId(stack.reconciliation.function)}}` },
        stat: 'Sum',
      },
    ]);
  });
});

describe('reconciliation alarms', () => {
  const sourceDimensions = (source: string, extra: Array<{ Name: string; Value: string }> = []) =>
    [...extra, { Name: 'service', Value: METRIC_SERVICES.reconcile }, { Name: 'source', Value: source }].sort(
      (a, b) => a.Name.localeCompare(b.Name),
    );

  it.each(SOURCE_ID_PARTS)(
    'alarms when drift of %s exceeds the configured threshold in a run',
    (source, part) => {
      const props = alarm(template, `DriftAboveThreshold${part}`);
      expect(props).toMatchObject({
        Namespace: 'ParitySync',
        MetricName: RECONCILE_METRICS.driftPercent,
        Dimensions: sourceDimensions(source),
        Statistic: 'Maximum',
        Period: RUN_PERIOD_SECONDS,
        Threshold: TEST_RECONCILIATION.driftThresholdPercent,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(props.AlarmDescription).toContain(`source ${source}`);
      expect(props.AlarmDescription).toMatch(/SilentMisses.*audit table/);
    },
  );

  it.each(SOURCE_ID_PARTS)("alarms when %s's circuit stays open for two runs", (source, part) => {
    const props = alarm(template, `CircuitOpen${part}`);
    expect(props).toMatchObject({
      Namespace: 'ParitySync',
      MetricName: RECONCILE_METRICS.circuitOpen,
      Dimensions: sourceDimensions(source),
      Statistic: 'Maximum',
      Period: RUN_PERIOD_SECONDS,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 2,
      TreatMissingData: 'notBreaching',
    });
    expect(props.AlarmDescription).toMatch(/status page.*reconcile logs/);
  });

  it.each(SOURCE_ID_PARTS)('alarms on a single rejection of the polling token of %s', (source, part) => {
    const props = alarm(template, `PollingTokenRejected${part}`);
    expect(props).toMatchObject({
      Namespace: 'ParitySync',
      MetricName: RECONCILE_METRICS.failures,
      Dimensions: sourceDimensions(source, [{ Name: 'reason', Value: 'provider_auth_failed' }]),
      Statistic: 'Sum',
      Period: RUN_PERIOD_SECONDS,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(props.AlarmDescription).toMatch(/new token in the Secrets Manager secret named by polling\.token/);
  });

  it.each(SOURCE_ID_PARTS)(
    'alarms when %s has no reconciled run in three scheduled runs, a missing datapoint counting as missed',
    (source, part) => {
      const props = alarm(template, `ReconcileStalled${part}`);
      expect(props).toMatchObject({
        Namespace: 'ParitySync',
        MetricName: RECONCILE_METRICS.runs,
        Dimensions: sourceDimensions(source, [{ Name: 'outcome', Value: 'reconciled' }]),
        Statistic: 'Sum',
        Period: RUN_PERIOD_SECONDS,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 3,
        TreatMissingData: 'breaching',
      });
      expect(props.AlarmDescription).toMatch(/schedule rule is enabled/);
    },
  );

  it('waits the configured number of missed runs before a source counts as stalled', () => {
    const { template: tuned } = synthStack({ alarmThresholds: { reconcileMissedRuns: 5 } });
    const props = alarm(tuned, 'ReconcileStalledPmsMain');
    expect(props.EvaluationPeriods).toBe(5);
    expect(props.AlarmDescription).toMatch(/in 5 scheduled runs/);
  });

  it.each(PROPERTY_ID_PARTS)(
    'alarms on any parity violation of %s, pointing at its parity listing',
    (property, part) => {
      const props = alarm(template, `ParityViolations${part}`);
      expect(props).toMatchObject({
        Namespace: 'ParitySync',
        MetricName: RECONCILE_METRICS.parityViolations,
        Dimensions: [
          { Name: 'property', Value: property },
          { Name: 'service', Value: METRIC_SERVICES.reconcile },
        ],
        Statistic: 'Maximum',
        Period: RUN_PERIOD_SECONDS,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(props.AlarmDescription).toContain(`parity list --property ${property}`);
      expect(props.AlarmDescription).toContain('pms-main');
    },
  );

  it('alarms when the reconcile DLQ holds any message, keeping the state while SQS stops reporting', () => {
    const props = alarm(template, 'ReconcileDeadLetterQueueNotEmpty');
    expect(props).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack.reconciliation.deadLetterQueue), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'ignore',
    });
    expect(props.AlarmDescription).toMatch(/"Reconciliation failed".*checkpoint/);
  });

  it('alarms when the replay work DLQ holds any message, naming how to find the job and start it again', () => {
    const props = alarm(template, 'ReplayWorkDeadLetterQueueNotEmpty');
    expect(props).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack.replays.deadLetterQueue), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('shows the replay work queue and its DLQ depth', () => {
    const depthOf = (queue: Parameters<typeof logicalId>[0]) => ({
      metric: 'AWS/SQS/ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: `{ref:${logicalId(queue)}}` },
      stat: 'Maximum',
    });
    expect(series('Replay work messages waiting (one per page to read)')).toEqual([
      depthOf(stack.replays.queue),
    ]);
    expect(series('Replay work dead-letter queue depth')).toEqual([depthOf(stack.replays.deadLetterQueue)]);
  });

  it('alarms on any work item dead-lettered, or any failure of the work DLQ consumer, since it empties the DLQ itself', () => {
    const props = alarm(template, 'ReconcileWorkItemsDeadLettered');
    expect(props).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    const metrics = props.Metrics as Array<Json & { Id: string }>;
    const byId = Object.fromEntries(metrics.map((entry) => [entry.Id, entry]));
    expect(metrics.find((entry) => 'Expression' in entry)).toMatchObject({
      Expression: 'FILL(deadLettered, 0) + FILL(notEnded, 0) + FILL(errors, 0)',
      ReturnData: true,
    });
    expect(byId.deadLettered).toMatchObject({
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'ParitySync',
          MetricName: RECONCILE_WORK_METRICS.deadLettered,
          Dimensions: [{ Name: 'service', Value: METRIC_SERVICES.reconcile }],
        },
        Period: 300,
        Stat: 'Sum',
      },
    });
    // A message the consumer fails alone is a partial batch failure, not a Lambda error: it counts on its own.
    expect(byId.notEnded).toMatchObject({
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'ParitySync',
          MetricName: RECONCILE_WORK_METRICS.deadLetterNotEnded,
          Dimensions: [{ Name: 'service', Value: METRIC_SERVICES.reconcile }],
        },
        Period: 300,
        Stat: 'Sum',
      },
    });
    expect(byId.errors).toMatchObject({
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [
            { Name: 'FunctionName', Value: { Ref: logicalId(stack.reconciliation.work.deadLetterFunction) } },
          ],
        },
        Period: 300,
        Stat: 'Sum',
      },
    });
    expect(props.AlarmDescription).toContain('dead-lettered reconciliation work item');
    // No alarm on the DLQ's depth: its consumer deletes every message it handled.
    expect(
      Object.keys(alarmsOf(template)).filter((id) => id.includes('ReconcileWorkDeadLetterQueue')),
    ).toEqual([]);
  });

  it('shows the reconciliation work queue’s depth and oldest item, and the items dead-lettered', () => {
    const { queue, deadLetterQueue, deadLetterFunction } = stack.reconciliation.work;
    const sqsMetric = (name: string, of: Parameters<typeof logicalId>[0]) => ({
      metric: `AWS/SQS/${name}`,
      dimensions: { QueueName: `{ref:${logicalId(of)}}` },
      stat: 'Maximum',
    });
    expect(series('Work items waiting (one per scan or parity window)')).toEqual([
      sqsMetric('ApproximateNumberOfMessagesVisible', queue),
    ]);
    expect(series('Oldest work item waiting (s)')).toEqual([
      sqsMetric('ApproximateAgeOfOldestMessage', queue),
    ]);
    expect(series('Work items dead-lettered')).toEqual([
      {
        metric: `ParitySync/${RECONCILE_WORK_METRICS.deadLettered}`,
        dimensions: { service: METRIC_SERVICES.reconcile },
        stat: 'Sum',
      },
      {
        metric: `ParitySync/${RECONCILE_WORK_METRICS.deadLetterNotEnded}`,
        dimensions: { service: METRIC_SERVICES.reconcile },
        stat: 'Sum',
      },
      {
        metric: 'AWS/Lambda/Errors',
        dimensions: { FunctionName: `{ref:${logicalId(deadLetterFunction)}}` },
        stat: 'Sum',
      },
      sqsMetric('ApproximateNumberOfMessagesVisible', deadLetterQueue),
    ]);
  });

  it('keeps the alarms of sources and properties whose ids collapse to the same form apart', () => {
    const colliding = parseConfig({
      ...TEST_CONFIG_INPUT,
      sources: ['a-1', 'a1'].map((id) => ({
        id,
        kind: 'pms' as const,
        secrets: [{ secretsManager: `paritysync/${id}/signing-secret` }],
        polling: {
          baseUrl: 'https://pms.example.com/v1',
          rateLimit: { requestsPerSecond: 5, burst: 10 },
          token: { secretsManager: `paritysync/${id}/polling-token` },
        },
      })),
      parity: {
        properties: [
          { propertyId: 'p-1', sourceOfTruth: 'a-1' },
          { propertyId: 'p1', sourceOfTruth: 'a1' },
        ],
      },
    });
    const { template: collided } = synthStack({ config: colliding });
    const alarms = Object.entries(alarmsOf(collided));
    for (const [kind, dimension, ids] of [
      ['DriftAboveThreshold', 'source', ['a-1', 'a1']],
      ['CircuitOpen', 'source', ['a-1', 'a1']],
      ['PollingTokenRejected', 'source', ['a-1', 'a1']],
      ['ReconcileStalled', 'source', ['a-1', 'a1']],
      ['ParityViolations', 'property', ['p-1', 'p1']],
    ] as const) {
      const ofKind = alarms.filter(
        ([id]) => id.startsWith(`Observability${kind}A1`) || id.startsWith(`Observability${kind}P1`),
      );
      expect(ofKind, kind).toHaveLength(2);
      expect(new Set(ofKind.map(([id]) => id)).size, kind).toBe(2);
      const watched = ofKind.map(
        ([, resource]) =>
          (resource.Properties.Dimensions as Array<{ Name: string; Value: string }>).find(
            (d) => d.Name === dimension,
          )?.Value,
      );
      expect(watched.sort(), kind).toEqual([...ids]);
    }
  });

  it('adds no per-source or per-property alarm when nothing is polled or checked', () => {
    const unpolled = parseConfig({
      ...TEST_CONFIG_INPUT,
      sources: TEST_CONFIG_INPUT.sources.map(({ polling: _polling, ...source }) => source),
      parity: { properties: [] },
    } as typeof TEST_CONFIG_INPUT);
    const { template: quiet } = synthStack({ config: unpolled });
    const ids = Object.keys(alarmsOf(quiet));
    expect(ids).toHaveLength(9 + 3 + 3);
    expect(ids.filter((id) => id.startsWith('ObservabilityReconcile')).sort()).toEqual([
      expect.stringMatching(/^ObservabilityReconcileDeadLetterQueueNotEmpty/),
      expect.stringMatching(/^ObservabilityReconcileWorkItemsDeadLettered/),
    ]);
  });
});
