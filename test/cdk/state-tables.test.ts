import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ARI_STATE,
  CONTROLS,
  DELIVERY_LEDGER,
  GUESTS,
  MAPPINGS,
  OPERATION_REQUESTS,
  RECONCILE_TABLES,
  REJECTIONS,
  RESERVATIONS,
  REVIEW,
  TABLES,
  type TableDefinition,
} from '../../lambdas/shared/topology';
import type { ParitySyncStack } from '../../lib/paritysync-stack';
import { StateTables } from '../../lib/state-tables';
import { ACCOUNT, logicalId, REGION, synthStack } from './app';

type Json = Record<string, unknown>;

let stack: ParitySyncStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthStack());
});

function resource(id: string): { Properties: Json; DeletionPolicy?: string; UpdateReplacePolicy?: string } {
  return template.toJSON().Resources[id];
}

function tableProps(definition: TableDefinition): Json {
  return resource(logicalId(stack.state.table(definition))).Properties;
}

function replica(definition: TableDefinition): Json {
  const [only, ...others] = tableProps(definition).Replicas as Json[];
  expect(others).toEqual([]);
  return only as Json;
}

const keyId = () => {
  const key = stack.state.personalDataKey;
  if (!key) throw new Error('expected a personal-data key');
  return logicalId(key);
};

describe('state tables', () => {
  it("creates one table for every topology table besides the ledger, the rejection log, the operators' requests and reconciliation's own", () => {
    const elsewhere = new Set([
      DELIVERY_LEDGER.id,
      REJECTIONS.id,
      OPERATION_REQUESTS.id,
      ...RECONCILE_TABLES.map((d) => d.id),
    ]);
    expect(StateTables.DEFINITIONS.map((d) => d.id).sort()).toEqual(
      TABLES.filter((d) => !elsewhere.has(d.id))
        .map((d) => d.id)
        .sort(),
    );
    // With the ledger, the rejection log, the requests table and the reconciliation tables, the stack has one table per topology table.
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', TABLES.length);
  });

  it('keys the ARI table by property and date#roomType#ratePlan#channel', () => {
    const props = tableProps(ARI_STATE);
    expect(props.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(props.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
    expect(props.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('keys the mappings table by its item key, and indexes it by entity in item-key order for listings', () => {
    const props = tableProps(MAPPINGS);
    expect(props.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(props.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'entity', AttributeType: 'S' },
    ]);
    // Only what a listing shows: rewriting a mapping's updatedAt or origin does not write the index.
    expect(props.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'mappingsByEntity',
        KeySchema: [
          { AttributeName: 'entity', KeyType: 'HASH' },
          { AttributeName: 'pk', KeyType: 'RANGE' },
        ],
        Projection: {
          ProjectionType: 'INCLUDE',
          NonKeyAttributes: ['scope', 'externalId', 'internalId', 'propertyId'],
        },
      },
    ]);
  });

  it('keys the reservations and guests tables by a string partition key alone', () => {
    for (const definition of [RESERVATIONS, GUESTS]) {
      const props = tableProps(definition);
      expect(props.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
      expect(props.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);
      expect(props.GlobalSecondaryIndexes).toBeUndefined();
    }
  });

  it('indexes the review table by the key a parked event waits for, and by that key in version order, projecting everything', () => {
    const props = tableProps(REVIEW);
    expect(props.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(props.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'waitingFor', AttributeType: 'S' },
      { AttributeName: 'parkOrder', AttributeType: 'S' },
    ]);
    expect(props.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'byWaitingFor',
        KeySchema: [{ AttributeName: 'waitingFor', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: 'waitingInOrder',
        KeySchema: [
          { AttributeName: 'waitingFor', KeyType: 'HASH' },
          { AttributeName: 'parkOrder', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });

  it('keys the controls table by a string partition key alone, on the AWS managed key, with no TTL', () => {
    const props = tableProps(CONTROLS);
    expect(props.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(props.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);
    expect(props.GlobalSecondaryIndexes).toBeUndefined();
    expect(props.TimeToLiveSpecification).toBeUndefined();
    expect(props.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
    expect(replica(CONTROLS).SSESpecification).toBeUndefined();
  });

  it('sets a TTL exactly where the topology defines one', () => {
    for (const definition of StateTables.DEFINITIONS) {
      const ttl = tableProps(definition).TimeToLiveSpecification;
      expect(ttl).toEqual(
        definition.timeToLiveAttribute
          ? { AttributeName: definition.timeToLiveAttribute, Enabled: true }
          : undefined,
      );
    }
  });

  it('bills every table on demand, with 35 days of point-in-time recovery and deletion protection', () => {
    for (const definition of StateTables.DEFINITIONS) {
      expect(tableProps(definition).BillingMode).toBe('PAY_PER_REQUEST');
      expect(replica(definition)).toMatchObject({
        Region: REGION,
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 },
      });
    }
  });

  it('retains every table when the stack is deleted or a table replaced', () => {
    for (const definition of StateTables.DEFINITIONS) {
      const table = resource(logicalId(stack.state.table(definition)));
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('encrypts ARI and mappings with the AWS managed key', () => {
    for (const definition of [ARI_STATE, MAPPINGS]) {
      expect(tableProps(definition).SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
      expect(replica(definition).SSESpecification).toBeUndefined();
    }
  });

  it('encrypts reservations, guests and review, the guest-linked tables, with the customer-managed key', () => {
    expect(RESERVATIONS.personalData && GUESTS.personalData && REVIEW.personalData).toBe(true);
    for (const definition of [RESERVATIONS, GUESTS, REVIEW]) {
      expect(tableProps(definition).SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
      expect(replica(definition).SSESpecification).toEqual({
        KMSMasterKeyId: { 'Fn::GetAtt': [keyId(), 'Arn'] },
      });
    }
  });

  it('rotates the personal-data key yearly and retains it as long as the tables it protects', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    const key = resource(keyId());
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    expect(key.UpdateReplacePolicy).toBe('Retain');
  });

  it("leaves the key's use to identity policies in this account, and lets only this account's log groups use it", () => {
    expect(resource(keyId()).Properties.KeyPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'kms:*',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Resource: '*',
        },
        {
          Sid: 'CloudWatchLogsOfThisAccount',
          Action: ['kms:Decrypt*', 'kms:Describe*', 'kms:Encrypt*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
          Effect: 'Allow',
          Principal: { Service: { 'Fn::Join': ['', [`logs.${REGION}.`, { Ref: 'AWS::URLSuffix' }]] } },
          Resource: '*',
          Condition: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:*`,
            },
          },
        },
      ],
    });
  });

  it('encrypts every log group of the stack with it: logs may carry guest ids', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as Array<{
      Properties: Json;
    }>;
    expect(groups.length).toBeGreaterThanOrEqual(5);
    for (const group of groups) {
      expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId(), 'Arn'] });
    }
  });

  it("hands each table's name to functions under its own environment variable", () => {
    expect(stack.resolve(stack.state.environment())).toEqual({
      ARI_TABLE_NAME: { Ref: logicalId(stack.state.ariState) },
      MAPPINGS_TABLE_NAME: { Ref: logicalId(stack.state.mappings) },
      REVIEW_TABLE_NAME: { Ref: logicalId(stack.state.review) },
      RESERVATIONS_TABLE_NAME: { Ref: logicalId(stack.state.reservations) },
      GUESTS_TABLE_NAME: { Ref: logicalId(stack.state.guests) },
      CONTROLS_TABLE_NAME: { Ref: logicalId(stack.state.controls) },
    });
  });
});

describe('state tables in a region-agnostic stack, as the CDK app creates it', () => {
  it('still encrypts reservations and guests with the customer-managed key', () => {
    const agnostic = synthStack({ env: undefined });
    const key = agnostic.stack.state.personalDataKey;
    if (!key) throw new Error('expected a personal-data key');
    for (const table of [agnostic.stack.state.reservations, agnostic.stack.state.guests]) {
      const props = agnostic.template.toJSON().Resources[logicalId(table)].Properties as Json;
      expect(props.Replicas).toEqual([
        expect.objectContaining({
          Region: { Ref: 'AWS::Region' },
          SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(key), 'Arn'] } },
        }),
      ]);
    }
  });
});

describe('state table outputs', () => {
  it('publishes the name of every state table', () => {
    for (const [outputId, definition] of [
      ['AriStateTableName', ARI_STATE],
      ['MappingsTableName', MAPPINGS],
      ['ReviewTableName', REVIEW],
      ['ReservationsTableName', RESERVATIONS],
      ['GuestsTableName', GUESTS],
    ] as const) {
      template.hasOutput(outputId, { Value: { Ref: logicalId(stack.state.table(definition)) } });
    }
  });
});
