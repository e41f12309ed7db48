import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ParitySyncStack } from '../../lib/paritysync-stack';
import { logicalId, onlyResourceId, synthStack } from './app';

type Json = Record<string, unknown>;

let stack: ParitySyncStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthStack());
});

const props = (t: Template, id: string) => (t.toJSON().Resources[id] as { Properties: Json }).Properties;
const functionsOf = (s: ParitySyncStack) => [
  s.ingest.function,
  s.apply.function,
  s.read.function,
  s.reconciliation.function,
];

describe('tracing', () => {
  it('traces every function actively and tells Powertools to trace, by default', () => {
    for (const fn of functionsOf(stack)) {
      const fnProps = props(template, logicalId(fn));
      expect(fnProps.TracingConfig, fn.node.path).toEqual({ Mode: 'Active' });
      expect((fnProps.Environment as { Variables: Json }).Variables.POWERTOOLS_TRACE_ENABLED).toBe('true');
    }
  });

  it('traces the API stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
  });

  it('turns every piece of it off with one switch', () => {
    const off = synthStack({ tracing: false });
    for (const fn of functionsOf(off.stack)) {
      const fnProps = props(off.template, logicalId(fn));
      expect(fnProps.TracingConfig, fn.node.path).toBeUndefined();
      expect((fnProps.Environment as { Variables: Json }).Variables.POWERTOOLS_TRACE_ENABLED).toBe('false');
    }
    off.template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: false });
    const statements = JSON.stringify(off.template.findResources('AWS::IAM::Policy'));
    expect(statements).not.toContain('xray:');
  });
});

describe('stage execution logging', () => {
  it('logs errors only and never request or response bodies', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ],
    });
  });

  it('writes to a log group created beforehand, with a retention and the personal-data key', () => {
    const stageId = onlyResourceId(template, 'AWS::ApiGateway::Stage');
    const executionLogsId = logicalId(stack.ingest.node.findChild('ExecutionLogs'));
    expect(props(template, executionLogsId)).toEqual({
      LogGroupName: {
        'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: logicalId(stack.ingest.api) }, '/v1']],
      },
      RetentionInDays: 30,
      KmsKeyId: { 'Fn::GetAtt': [logicalId(stack.state.personalDataKey), 'Arn'] },
    });
    const stage = template.toJSON().Resources[stageId] as { DependsOn?: string[] };
    expect(stage.DependsOn).toContain(executionLogsId);
  });
});
