import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPLAY_QUEUE } from '../../lambdas/shared/topology';
import type { ParitySyncStack } from '../../lib/paritysync-stack';
import { logicalId, synthStack } from './app';

type Json = Record<string, unknown>;

let stack: ParitySyncStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthStack());
});

describe('ReplayJobs', () => {
  it('feeds the worker one work message per invocation from the work queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack.replays.function) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.replays.queue), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('moves a work message to its own DLQ after the topology receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.replays.deadLetterQueue), 'Arn'] },
        maxReceiveCount: REPLAY_QUEUE.maxReceiveCount,
      },
    });
  });

  it('lets the read function send work messages and keep its operation requests', () => {
    const readRole = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy).includes(logicalId(stack.read.function.role ?? stack.read.function)),
    );
    const text = JSON.stringify(readRole);
    expect(text).toContain(logicalId(stack.replays.queue));
    expect(text).toContain(logicalId(stack.replays.operationRequests));
  });

  it('tells the read function where the work queue and the requests table are', () => {
    const variables = (template.toJSON().Resources[logicalId(stack.read.function)] as { Properties: Json })
      .Properties.Environment as { Variables: Json };
    expect(Object.keys(variables.Variables)).toEqual(
      expect.arrayContaining(['REPLAY_QUEUE_URL', 'OPERATION_REQUESTS_TABLE_NAME']),
    );
  });
});
