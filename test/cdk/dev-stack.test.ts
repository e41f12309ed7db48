import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '../../lambdas/shared/topology';
import { synthStack } from './app';

/** The same stack as a throw-away development deployment in a fresh account. */
let template: Template;

beforeAll(() => {
  ({ template } = synthStack({
    retain: false,
    createApiGatewayAccountLogRole: true,
    throttlingRateLimit: 50,
    throttlingBurstLimit: 100,
  }));
});

describe('development stack', () => {
  it('deletes the tables, their key, the queues and the log groups with the stack', () => {
    for (const type of [
      'AWS::DynamoDB::GlobalTable',
      'AWS::KMS::Key',
      'AWS::SQS::Queue',
      'AWS::Logs::LogGroup',
    ]) {
      const resources = Object.values(template.findResources(type)) as Array<{ DeletionPolicy?: string }>;
      expect(resources.length).toBeGreaterThan(0);
      expect(resources.map((r) => r.DeletionPolicy)).toEqual(resources.map(() => 'Delete'));
    }
  });

  it('turns off the deletion protection of every table', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::GlobalTable')) as Array<{
      Properties: { Replicas: Array<{ DeletionProtectionEnabled: boolean }> };
    }>;
    expect(tables).toHaveLength(TABLES.length);
    for (const table of tables) {
      expect(table.Properties.Replicas.map((r) => r.DeletionProtectionEnabled)).toEqual([false]);
    }
  });

  it('creates the account-wide API Gateway logging role when asked', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  it('applies the throttling overrides to the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })],
    });
  });
});
