import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC_SERVICES, PARITY_METRICS } from '../../lambdas/shared/metric-names';
import type { ParitySyncStack } from '../../lib/paritysync-stack';
import { logicalId, onlyResourceId, synthStack } from './app';

type Json = Record<string, unknown>;

let stack: ParitySyncStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthStack());
});

function alarm(of: Template, id: string): Json {
  const matches = Object.entries(of.findResources('AWS::CloudWatch::Alarm')).filter(([logical]) =>
    logical.startsWith(`Observability${id}`),
  );
  if (matches.length !== 1) throw new Error(`expected one alarm ${id}, found ${matches.length}`);
  return (matches[0] as [string, { Properties: Json }])[1].Properties;
}

const cli = (command: string) => `\`paritysync --stack ${stack.stackName} ${command}\``;

describe('parity on change: alarms', () => {
  it('alarms as soon as the stream failure destination holds a batch, keeping the state while SQS is quiet', () => {
    const props = alarm(template, 'ParityDeadLetterQueueNotEmpty');
    expect(props).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack.parityOnChange.deadLetterQueue), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'ignore',
    });
    const description = props.AlarmDescription as string;
    expect(description).toContain(cli('dlq list --queue parity'));
    expect(description).toContain(cli('reconcile'));
    expect(description).toContain(cli('dlq delete --queue parity <messageId>'));
  });

  it('alarms when the stream iterator age stays above 5 minutes for 5 minutes', () => {
    const props = alarm(template, 'ParityStreamLagging');
    expect(props).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.parityOnChange.function) } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 300_000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      TreatMissingData: 'notBreaching',
    });
    expect(props.AlarmDescription).toContain(cli('dlq list --queue parity'));
  });

  it('alarms on function errors plus failed night checks above 5 in 5 minutes', () => {
    const props = alarm(template, 'ParityCheckErrors');
    expect(props).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    const metrics = props.Metrics as Array<Json & { Id: string }>;
    const byId = Object.fromEntries(metrics.map((entry) => [entry.Id, entry]));
    expect(metrics.find((entry) => 'Expression' in entry)).toMatchObject({
      Expression: 'FILL(errors, 0) + FILL(failures, 0)',
      ReturnData: true,
    });
    expect(byId.errors).toMatchObject({
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.parityOnChange.function) } }],
        },
        Period: 300,
        Stat: 'Sum',
      },
    });
    expect(byId.failures).toMatchObject({
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'ParitySync',
          MetricName: PARITY_METRICS.checkFailures,
          Dimensions: [{ Name: 'service', Value: METRIC_SERVICES.parity }],
        },
        Period: 300,
        Stat: 'Sum',
      },
    });
    expect(props.AlarmDescription).toContain('Parity check of a changed night failed');
  });

  it('takes the lag and error thresholds it is given', () => {
    const { template: tuned } = synthStack({
      alarmThresholds: {
        parityIteratorAgeSeconds: 60,
        parityStreamLagMinutes: 10,
        parityCheckErrorsPer5Minutes: 1,
      },
    });
    expect(alarm(tuned, 'ParityStreamLagging')).toMatchObject({ Threshold: 60_000, EvaluationPeriods: 10 });
    expect(alarm(tuned, 'ParityCheckErrors')).toMatchObject({ Threshold: 1 });
  });
});

describe('parity on change: dashboard', () => {
  /** The dashboard's widgets, references shown as `{ref:<logical id>}`. */
  function widgets(): Array<{ properties: { title?: string; metrics?: unknown[][] } }> {
    const id = onlyResourceId(template, 'AWS::CloudWatch::Dashboard');
    const body = (template.toJSON().Resources[id].Properties as Json).DashboardBody as {
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
    return (JSON.parse(text) as { widgets: ReturnType<typeof widgets> }).widgets;
  }

  function lines(title: string): string[] {
    const widget = widgets().find((candidate) => candidate.properties.title === title);
    if (widget === undefined) throw new Error(`no widget titled "${title}"`);
    return (widget.properties.metrics ?? []).map((line) =>
      line.filter((part) => typeof part === 'string').join(' '),
    );
  }

  it('shows the stream iterator age, the checks per minute and the batches given up on', () => {
    const fn = `{ref:${logicalId(stack.parityOnChange.function)}}`;
    expect(lines('Parity stream iterator age (ms)')).toEqual([`AWS/Lambda IteratorAge FunctionName ${fn}`]);
    expect(lines('Parity checks per minute')).toEqual(
      [
        PARITY_METRICS.nightsChecked,
        PARITY_METRICS.nightsFlagged,
        PARITY_METRICS.nightsCleared,
        PARITY_METRICS.checkFailures,
      ].map((name) => `ParitySync ${name} service ${METRIC_SERVICES.parity}`),
    );
    expect(lines('Parity batches given up on (dead-letter queue depth)')).toEqual([
      `AWS/SQS ApproximateNumberOfMessagesVisible QueueName {ref:${logicalId(stack.parityOnChange.deadLetterQueue)}}`,
      `AWS/Lambda Errors FunctionName ${fn}`,
    ]);
  });
});
