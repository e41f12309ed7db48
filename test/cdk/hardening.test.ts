import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ParitySyncStack } from '../../lib/paritysync-stack';
import { decimalAbove } from '../../lib/webhook-firewall';
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

describe('web application firewall on the webhook stage', () => {
  const rules = (t: Template) =>
    (props(t, onlyResourceId(t, 'AWS::WAFv2::WebACL')).Rules as Array<{
      Name: string;
      Statement: Json;
      Action?: Json;
    }>) ?? [];
  const rule = (t: Template, name: string) => {
    const found = rules(t).find((r) => r.Name === name);
    if (!found) throw new Error(`no rule ${name}`);
    return found;
  };

  it('is a regional web ACL associated with the stage, allowing what no rule blocks', () => {
    const aclId = onlyResourceId(template, 'AWS::WAFv2::WebACL');
    expect(props(template, aclId)).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    const stageId = onlyResourceId(template, 'AWS::ApiGateway::Stage');
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
      ResourceArn: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ Ref: stageId }])] }),
    });
  });

  it("refuses addresses on AWS's IP reputation list", () => {
    expect(rule(template, 'AwsIpReputation').Statement).toEqual({
      ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesAmazonIpReputationList' },
    });
  });

  it('answers 429 to a sender address past 6000 requests in 5 minutes, tunable', () => {
    const rate = rule(template, 'RatePerSenderAddress');
    expect(rate.Statement).toEqual({
      RateBasedStatement: { AggregateKeyType: 'IP', Limit: 6000, EvaluationWindowSec: 300 },
    });
    expect(rate.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 429 } } });
    const tuned = synthStack({ wafRateLimitPer5Minutes: 500 }).template;
    expect(rule(tuned, 'RatePerSenderAddress').Statement).toMatchObject({
      RateBasedStatement: { Limit: 500 },
    });
  });

  it('answers 413 to a declared body above maxBodyBytes, and to nothing at or below it', () => {
    const size = rule(template, 'DeclaredBodyTooLarge');
    expect(size.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 413 } } });
    const statement = size.Statement.RegexMatchStatement as { FieldToMatch: Json; RegexString: string };
    expect(statement.FieldToMatch).toEqual({ SingleHeader: { Name: 'content-length' } });
    const max = 1_048_576;
    const pattern = new RegExp(statement.RegexString);
    for (const n of [0, 1, 999, max - 1, max]) expect(pattern.test(String(n)), String(n)).toBe(false);
    for (const n of [max + 1, max + 10, 2_000_000, 9_999_999, 10_000_000, 123_456_789]) {
      expect(pattern.test(String(n)), String(n)).toBe(true);
    }
    expect(pattern.test(`00${max + 1}`)).toBe(true);
    expect(pattern.test('abc')).toBe(false);
  });

  it('compares against every limit exactly', () => {
    for (const limit of [0, 9, 10, 1024, 65_536, 99_999, 1_048_576, 4_194_304]) {
      const pattern = new RegExp(decimalAbove(limit));
      for (let n = Math.max(0, limit - 50); n <= limit + 50; n++) {
        expect(pattern.test(String(n)), `${n} vs ${limit}`).toBe(n > limit);
      }
      expect(pattern.test(String(limit * 10 + 1))).toBe(true);
    }
  });

  it('is left out when switched off', () => {
    const off = synthStack({ webApplicationFirewall: false }).template;
    off.resourceCountIs('AWS::WAFv2::WebACL', 0);
    off.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });
});

describe('ingest reserved concurrency', () => {
  it('reserves 100 executions by default, any other number when asked, and none when told so', () => {
    expect(props(template, logicalId(stack.ingest.function)).ReservedConcurrentExecutions).toBe(100);
    const tuned = synthStack({ ingestReservedConcurrency: 20 });
    expect(props(tuned.template, logicalId(tuned.stack.ingest.function)).ReservedConcurrentExecutions).toBe(
      20,
    );
    const none = synthStack({ ingestReservedConcurrency: 'none' });
    expect(
      props(none.template, logicalId(none.stack.ingest.function)).ReservedConcurrentExecutions,
    ).toBeUndefined();
  });

  it('refuses zero, which would refuse every webhook', () => {
    expect(() => synthStack({ ingestReservedConcurrency: 0 })).toThrow(/at least 1, or "none".*received 0/);
  });
});

describe('tables (cdk-nag does not check TableV2)', () => {
  const tables = (t: Template) =>
    Object.entries(t.findResources('AWS::DynamoDB::GlobalTable')) as Array<[string, { Properties: Json }]>;

  it('gives every table point-in-time recovery for 35 days and deletion protection on its replica', () => {
    expect(tables(template).length).toBeGreaterThanOrEqual(10);
    for (const [id, table] of tables(template)) {
      const replicas = table.Properties.Replicas as Json[];
      expect(replicas, id).toHaveLength(1);
      expect(replicas[0], id).toMatchObject({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 },
        DeletionProtectionEnabled: true,
      });
    }
  });

  it('encrypts every table with KMS: the AWS managed key, or the personal-data key on guest-linked ones', () => {
    const keyArn = { 'Fn::GetAtt': [logicalId(stack.state.personalDataKey), 'Arn'] };
    for (const [id, table] of tables(template)) {
      expect(table.Properties.SSESpecification, id).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
      const replicaSse = (table.Properties.Replicas as Json[])[0]?.SSESpecification;
      if (replicaSse !== undefined) expect(replicaSse, id).toEqual({ KMSMasterKeyId: keyArn });
    }
  });
});

describe('AWS Backup plan', () => {
  it('is off by default', () => {
    template.resourceCountIs('AWS::Backup::BackupPlan', 0);
  });

  it('backs up every table daily for 35 days into a vault under the personal-data key', () => {
    const on = synthStack({ backup: true });
    on.template.resourceCountIs('AWS::Backup::BackupPlan', 1);
    on.template.hasResourceProperties('AWS::Backup::BackupVault', {
      EncryptionKeyArn: { 'Fn::GetAtt': [logicalId(on.stack.state.personalDataKey), 'Arn'] },
    });
    on.template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [Match.objectLike({ Lifecycle: { DeleteAfterDays: 35 } })],
      },
    });
    const selection = Object.values(on.template.findResources('AWS::Backup::BackupSelection'))[0] as {
      Properties: { BackupSelection: { Resources: unknown[] } };
    };
    const tableIds = Object.keys(on.template.findResources('AWS::DynamoDB::GlobalTable'));
    expect(selection.Properties.BackupSelection.Resources).toHaveLength(tableIds.length);
    for (const id of tableIds) {
      expect(selection.Properties.BackupSelection.Resources).toContainEqual({ 'Fn::GetAtt': [id, 'Arn'] });
    }
  });
});
