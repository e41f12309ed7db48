import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ParitySyncStack } from '../../lib/paritysync-stack';
import { logicalId, synthStack } from './app';
import { arnOf, functionPermissions, indexArnOf, permission } from './iam';

type Json = Record<string, unknown>;

let stack: ParitySyncStack;
let template: Template;
let tableId: string;

beforeAll(() => {
  ({ stack, template } = synthStack());
  tableId = logicalId(stack.rejections.table);
});

function resource(id: string): { Properties: Json; DeletionPolicy?: string } {
  return template.toJSON().Resources[id];
}

/** Every permission a function has on the rejection log, its index included. */
function onRejections(functionId: string): string[] {
  return functionPermissions(template, functionId).filter((p) => p.includes(`"${tableId}"`));
}

describe('rejection log table', () => {
  it('keys records by source and time, with a TTL and an index over every source', () => {
    const props = resource(tableId).Properties;
    expect(props.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(props.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'all', AttributeType: 'S' },
    ]);
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(props.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'rejectionsAll',
        KeySchema: [
          { AttributeName: 'all', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('is retained, with deletion protection, like every table of the stack', () => {
    expect(resource(tableId).DeletionPolicy).toBe('Retain');
    const [replica] = resource(tableId).Properties.Replicas as Json[];
    expect(replica?.DeletionProtectionEnabled).toBe(true);
  });

  it('publishes its name', () => {
    template.hasOutput('RejectionsTableName', { Value: { Ref: tableId } });
  });
});

describe('rejection log access', () => {
  it('lets the ingest function only put and update items, on the table alone', () => {
    expect(onRejections(logicalId(stack.ingest.function))).toEqual(
      ['PutItem', 'UpdateItem'].map((action) => permission(`dynamodb:${action}`, arnOf(tableId))),
    );
  });

  it('lets the read function only query, the table and its index', () => {
    expect(onRejections(logicalId(stack.read.function))).toEqual(
      [
        permission('dynamodb:Query', arnOf(tableId)),
        permission('dynamodb:Query', indexArnOf(tableId, 'rejectionsAll')),
      ].sort(),
    );
  });

  it('gives no other function any access', () => {
    for (const fn of [stack.apply.function, stack.reconciliation.function]) {
      expect(onRejections(logicalId(fn))).toEqual([]);
    }
  });
});
