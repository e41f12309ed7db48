import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ParitySyncStack } from '../../lib/paritysync-stack';
import { logicalId, synthStack } from './app';
import { arnOf, functionPermissions, permission } from './iam';

type Json = Record<string, unknown>;

let stack: ParitySyncStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthStack());
});

describe('ParityOnChange', () => {
  it('gives the ARI table a stream of the changed keys only', () => {
    const table = template.toJSON().Resources[logicalId(stack.state.ariState)] as { Properties: Json };
    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'KEYS_ONLY' });
  });

  it('feeds the function from that stream, halving failing batches, retrying a bounded number of times', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack.parityOnChange.function) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.state.ariState), 'StreamArn'] },
      StartingPosition: 'LATEST',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 2,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 6 * 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: arnOf(logicalId(stack.parityOnChange.deadLetterQueue)) },
      },
    });
  });

  it('lets the function query the ARI table, keep the findings and read the stream, and nothing else', () => {
    const ari = arnOf(logicalId(stack.state.ariState));
    const findings = arnOf(logicalId(stack.reconciliation.parityFindings));
    const stream = { 'Fn::GetAtt': [logicalId(stack.state.ariState), 'StreamArn'] };
    const dlq = arnOf(logicalId(stack.parityOnChange.deadLetterQueue));
    const granted = functionPermissions(template, logicalId(stack.parityOnChange.function)).filter(
      (entry) => !entry.startsWith('xray:'),
    );
    expect(granted).toEqual(
      [
        permission('dynamodb:Query', ari),
        permission('dynamodb:GetItem', findings),
        permission('dynamodb:PutItem', findings),
        permission('dynamodb:DeleteItem', findings),
        permission('dynamodb:ListStreams', stream),
        permission('dynamodb:DescribeStream', stream),
        permission('dynamodb:GetRecords', stream),
        permission('dynamodb:GetShardIterator', stream),
        ...['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'].map((action) =>
          permission(action, dlq),
        ),
      ].sort(),
    );
  });

  it('encrypts its logs with the personal-data key and tells it where its tables are', () => {
    const fn = template.toJSON().Resources[logicalId(stack.parityOnChange.function)] as { Properties: Json };
    const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
    expect(variables).toMatchObject({
      ARI_TABLE_NAME: { Ref: logicalId(stack.state.ariState) },
      PARITY_TABLE_NAME: { Ref: logicalId(stack.reconciliation.parityFindings) },
      POWERTOOLS_SERVICE_NAME: 'paritysync-parity',
    });
    const logGroups = Object.entries(template.findResources('AWS::Logs::LogGroup'));
    const own = logGroups.find(([id]) => id.startsWith('ParityOnChangeFunctionLogs'));
    expect(own?.[1]).toMatchObject({
      Properties: { KmsKeyId: arnOf(logicalId(stack.state.personalDataKey)) },
    });
  });
});
