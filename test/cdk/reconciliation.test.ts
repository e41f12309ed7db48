import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfigInput } from '../../lambdas/config/schema';
import { parseInvocation } from '../../lambdas/reconcile/invocation';
import { ConfigurationError } from '../../lambdas/shared/errors';
import {
  PARITY_FINDINGS,
  RECONCILE_AUDIT,
  RECONCILE_CHECKPOINTS,
  RECONCILE_DLQ,
  RECONCILE_RUN_LOG,
  RECONCILE_RUNS,
  RECONCILE_RUNS_BY_TIME,
  RECONCILE_TABLES,
  RECONCILE_WORK,
  RECONCILE_WORK_DLQ,
  type TableDefinition,
} from '../../lambdas/shared/topology';
import { ParitySyncStack } from '../../lib/paritysync-stack';
import { PLANNER_TIMEOUT, RECONCILE_TIMEOUT_MARGIN } from '../../lib/reconciliation';
import {
  ACCOUNT,
  COMPLETE_SECRET_ARN,
  logicalId,
  OTA_POLLING_TOKEN_ARN,
  PMS_POLLING_TOKEN,
  REGION,
  synthStack,
  TEST_CONFIG,
  TEST_CONFIG_INPUT,
  TEST_RECONCILIATION,
  testApp,
} from './app';
import {
  arnOf,
  functionPermissions,
  indexArnOf,
  isXrayStatement,
  permission,
  toArray,
  XRAY_PERMISSIONS,
} from './iam';

type Json = Record<string, unknown>;
type ResourceJson = { Type: string; Properties: Json; DeletionPolicy?: string; UpdateReplacePolicy?: string };

let stack: ParitySyncStack;
let template: Template;
let functionId: string;
let dlqId: string;
let workerId: string;
let workQueueId: string;
let workDlqId: string;
let deadLettersId: string;

beforeAll(() => {
  ({ stack, template } = synthStack());
  functionId = logicalId(stack.reconciliation.function);
  dlqId = logicalId(stack.reconciliation.deadLetterQueue);
  workerId = logicalId(stack.reconciliation.work.function);
  workQueueId = logicalId(stack.reconciliation.work.queue);
  workDlqId = logicalId(stack.reconciliation.work.deadLetterQueue);
  deadLettersId = logicalId(stack.reconciliation.work.deadLetterFunction);
});

function resource(id: string, of: Template = template): ResourceJson {
  return of.toJSON().Resources[id];
}

function onlyOfType(type: string, of: Template = template): ResourceJson {
  const found = Object.values(of.findResources(type)) as ResourceJson[];
  expect(found).toHaveLength(1);
  return found[0] as ResourceJson;
}

function scheduleTarget(of: Template = template): Json {
  const targets = onlyOfType('AWS::Events::Rule', of).Properties.Targets as Json[];
  expect(targets).toHaveLength(1);
  return targets[0] as Json;
}

/** The statements of the reconcile DLQ's queue policy. */
function dlqPolicyStatements(): Json[] {
  const policies = (Object.values(template.findResources('AWS::SQS::QueuePolicy')) as ResourceJson[]).filter(
    (policy) => (policy.Properties.Queues as Json[]).some((queue) => queue.Ref === dlqId),
  );
  const [only, ...others] = policies;
  if (!only || others.length > 0) throw new Error(`expected one policy on the DLQ, found ${policies.length}`);
  return (only.Properties.PolicyDocument as { Statement: Json[] }).Statement;
}

/** A secret name formatted into an ARN in the stack's account and region, with the random-suffix wildcard. */
const secretArnPattern = (name: string) =>
  `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-??????`;

/** The test configuration with one source's polling token replaced. */
function withPmsPollingToken(token: Json): ParitySyncConfigInput {
  return {
    ...TEST_CONFIG_INPUT,
    sources: TEST_CONFIG_INPUT.sources.map((source) =>
      source.id === 'pms-main' && source.polling
        ? { ...source, polling: { ...source.polling, token } }
        : source,
    ) as ParitySyncConfigInput['sources'],
  };
}

function synthWith(input: ParitySyncConfigInput): Template {
  return synthStack({ config: parseConfig(input) }).template;
}

describe('reconciliation schedule', () => {
  it('runs the function every reconciliation.scheduleMinutes, enabled', () => {
    const rule = onlyOfType('AWS::Events::Rule').Properties;
    expect(rule.ScheduleExpression).toBe(`rate(${TEST_RECONCILIATION.scheduleMinutes} minutes)`);
    expect(rule.State).toBe('ENABLED');
    expect(scheduleTarget().Arn).toEqual(arnOf(functionId));
  });

  it('follows a different configured rate', () => {
    const every30 = synthWith({ ...TEST_CONFIG_INPUT, reconciliation: { scheduleMinutes: 30 } });
    expect(onlyOfType('AWS::Events::Rule', every30).Properties.ScheduleExpression).toBe('rate(30 minutes)');
    expect(scheduleTarget(every30).RetryPolicy).toMatchObject({ MaximumEventAgeInSeconds: 1800 });
  });

  it('starts disabled when the stack is told to', () => {
    const { template: disabled } = synthStack({ reconciliationScheduleEnabled: false });
    expect(onlyOfType('AWS::Events::Rule', disabled).Properties.State).toBe('DISABLED');
  });

  it('sends the trigger and the event id, which keys the run once, and the function reads it as a full run', () => {
    const transformer = scheduleTarget().InputTransformer as { InputPathsMap: Json; InputTemplate: string };
    expect(transformer.InputPathsMap).toEqual({ id: '$.id' });
    expect(transformer.InputTemplate).toBe('{"trigger":"schedule","eventId":<id>}');
    const input = JSON.parse(
      transformer.InputTemplate.replace('<id>', '"3b1d5a9e-0000-4000-8000-000000000001"'),
    );
    // Every polled source, the configured dry-run setting, parity on: no overrides.
    expect(parseInvocation(input)).toEqual({});
  });

  it('retries delivery twice within one schedule interval, then dead-letters to the reconcile DLQ', () => {
    const target = scheduleTarget();
    expect(target.DeadLetterConfig).toEqual({ Arn: arnOf(dlqId) });
    expect(target.RetryPolicy).toEqual({
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: TEST_RECONCILIATION.scheduleMinutes * 60,
    });
  });

  it('lets EventBridge send to the DLQ from this rule only', () => {
    const statements = dlqPolicyStatements();
    const allows = statements.filter((statement) => statement.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
        Resource: arnOf(dlqId),
        Condition: { ArnEquals: { 'aws:SourceArn': arnOf(logicalId(stack.reconciliation.schedule)) } },
      }),
    ]);
  });

  it('lets EventBridge invoke the function from this rule only', () => {
    const permissions = Object.values(
      template.findResources('AWS::Lambda::Permission', {
        Properties: { FunctionName: arnOf(functionId) },
      }),
    ) as ResourceJson[];
    expect(permissions.map((p) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: arnOf(functionId),
        Principal: 'events.amazonaws.com',
        SourceArn: arnOf(logicalId(stack.reconciliation.schedule)),
      },
    ]);
  });
});

describe('reconcile (planning) function', () => {
  it('runs on the same runtime and architecture as the other functions, with 512 MB', () => {
    const props = resource(functionId).Properties;
    const ingest = resource(logicalId(stack.ingest.function)).Properties;
    expect(props.Runtime).toBe(ingest.Runtime);
    expect(props.Architectures).toEqual(ingest.Architectures);
    expect(props).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
    });
  });

  it('never runs twice at once: reserved concurrency 1', () => {
    expect(resource(functionId).Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('only plans: it times out after two minutes, whatever the run budget', () => {
    expect(PLANNER_TIMEOUT.toSeconds()).toBe(120);
    expect(resource(functionId).Properties.Timeout).toBe(120);
  });

  it('retries a failed scheduled run once, then sends it to the reconcile DLQ', () => {
    expect(resource(functionId).Properties.DeadLetterConfig).toEqual({ TargetArn: arnOf(dlqId) });
    expect(onlyOfType('AWS::Lambda::EventInvokeConfig').Properties).toEqual({
      FunctionName: { Ref: functionId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 1,
    });
  });

  it('gets the run log and idempotency table names, the work queue URL and its service name', () => {
    const { reconciliation } = stack;
    expect((resource(functionId).Properties.Environment as Json).Variables).toEqual({
      RECONCILE_RUN_LOG_TABLE_NAME: { Ref: logicalId(reconciliation.runLog) },
      RECONCILE_RUNS_TABLE_NAME: { Ref: logicalId(reconciliation.runs) },
      RECONCILE_WORK_QUEUE_URL: { Ref: workQueueId },
      POWERTOOLS_SERVICE_NAME: 'paritysync-reconcile',
      POWERTOOLS_METRICS_NAMESPACE: 'ParitySync',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_TRACE_ENABLED: 'true',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });
});

describe('reconciliation work queue and worker', () => {
  it('keeps work items in an encrypted queue whose messages move to their own DLQ after the topology receives', () => {
    expect(resource(workQueueId).Properties).toMatchObject({
      VisibilityTimeout: RECONCILE_WORK.visibilityTimeoutSeconds,
      MessageRetentionPeriod: RECONCILE_WORK.retentionSeconds,
      MaximumMessageSize: RECONCILE_WORK.maximumMessageSizeBytes,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: arnOf(workDlqId),
        maxReceiveCount: RECONCILE_WORK.maxReceiveCount,
      },
    });
    expect(resource(workDlqId).Properties).toMatchObject({
      VisibilityTimeout: RECONCILE_WORK_DLQ.visibilityTimeoutSeconds,
      MessageRetentionPeriod: RECONCILE_WORK_DLQ.retentionSeconds,
      SqsManagedSseEnabled: true,
    });
    for (const id of [workQueueId, workDlqId]) {
      expect([resource(id).DeletionPolicy, resource(id).UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    }
  });

  it('hides a message for at least six times the worker timeout, up to the largest budget allowed', () => {
    expect(RECONCILE_WORK.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * 900);
  });

  it('feeds the worker one item per invocation, at most reconciliation.workers at once, reporting failed items', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: workerId },
      EventSourceArn: arnOf(workQueueId),
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: TEST_CONFIG.reconciliation.workers },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const { stack: twelve, template: twelveTemplate } = synthStack({
      config: parseConfig({ ...TEST_CONFIG_INPUT, reconciliation: { workers: 12 } }),
    });
    twelveTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(twelve.reconciliation.work.function) },
      ScalingConfig: { MaximumConcurrency: 12 },
    });
  });

  it('gives the worker 1024 MB and a timeout 60 s after the run budget', () => {
    expect(RECONCILE_TIMEOUT_MARGIN.toSeconds()).toBe(60);
    expect(resource(workerId).Properties).toMatchObject({
      MemorySize: 1024,
      Timeout: TEST_RECONCILIATION.budgetSeconds + 60,
    });
    expect(resource(workerId).Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it("reaches Lambda's 900 s limit with the largest budget the configuration allows", () => {
    const { stack: longest, template: longestTemplate } = synthStack({
      config: parseConfig({ ...TEST_CONFIG_INPUT, reconciliation: { budgetSeconds: 840 } }),
    });
    expect(
      resource(logicalId(longest.reconciliation.work.function), longestTemplate).Properties.Timeout,
    ).toBe(900);
  });

  it('gets the tables it reads and writes and the work queue URL, and nothing of the ledger', () => {
    const { state, reconciliation } = stack;
    const ref = (construct: Parameters<typeof logicalId>[0]) => ({ Ref: logicalId(construct) });
    expect((resource(workerId).Properties.Environment as Json).Variables).toEqual({
      ARI_TABLE_NAME: ref(state.ariState),
      MAPPINGS_TABLE_NAME: ref(state.mappings),
      CHECKPOINTS_TABLE_NAME: ref(reconciliation.checkpoints),
      AUDIT_TABLE_NAME: ref(reconciliation.audit),
      PARITY_TABLE_NAME: ref(reconciliation.parityFindings),
      RECONCILE_RUN_LOG_TABLE_NAME: ref(reconciliation.runLog),
      RECONCILE_WORK_QUEUE_URL: { Ref: workQueueId },
      POWERTOOLS_SERVICE_NAME: 'paritysync-reconcile',
      POWERTOOLS_METRICS_NAMESPACE: 'ParitySync',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_TRACE_ENABLED: 'true',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });
});

describe('reconciliation work dead-letter consumer', () => {
  const consumer = RECONCILE_WORK_DLQ.consumer;

  it('takes the work DLQ ten messages at a time, reporting failed messages one by one, as the topology declares', () => {
    expect(consumer).toEqual({ batchSize: 10, maxConcurrency: 2, timeoutSeconds: 60 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: deadLettersId },
      EventSourceArn: arnOf(workDlqId),
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const mappings = Object.values(
      template.findResources('AWS::Lambda::EventSourceMapping'),
    ) as ResourceJson[];
    expect(
      mappings.filter(
        (mapping) => JSON.stringify(mapping.Properties.EventSourceArn) === JSON.stringify(arnOf(workDlqId)),
      ),
    ).toHaveLength(1);
  });

  it('runs for the timeout the topology declares, which the DLQ hides a message six times as long for', () => {
    expect(resource(deadLettersId).Properties).toMatchObject({
      Timeout: consumer?.timeoutSeconds,
      MemorySize: 512,
    });
    expect(resource(workDlqId).Properties.VisibilityTimeout).toBe(6 * (consumer?.timeoutSeconds ?? 0));
    expect(RECONCILE_WORK_DLQ.visibilityTimeoutSeconds).toBe(6 * (consumer?.timeoutSeconds ?? 0));
  });

  it('gets the run log and the work queue URL under the reconcile service name, and no other table', () => {
    expect((resource(deadLettersId).Properties.Environment as Json).Variables).toEqual({
      RECONCILE_RUN_LOG_TABLE_NAME: { Ref: logicalId(stack.reconciliation.runLog) },
      RECONCILE_WORK_QUEUE_URL: { Ref: workQueueId },
      POWERTOOLS_SERVICE_NAME: 'paritysync-reconcile',
      POWERTOOLS_METRICS_NAMESPACE: 'ParitySync',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_TRACE_ENABLED: 'true',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('may read a run and end its items in the run log, consume the DLQ and send parity items, and nothing else', () => {
    const runLog = arnOf(logicalId(stack.reconciliation.runLog));
    expect(functionPermissions(template, deadLettersId)).toEqual(
      [
        ...['GetItem', 'UpdateItem', 'Query'].map((action) => permission(`dynamodb:${action}`, runLog)),
        ...[
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
        ].map((action) => permission(action, arnOf(workDlqId))),
        permission('sqs:SendMessage', arnOf(workQueueId)),
        ...XRAY_PERMISSIONS,
      ].sort(),
    );
    noWildcards(deadLettersId);
  });
});

describe('reconciliation tables', () => {
  const tableOf = (definition: TableDefinition) =>
    resource(logicalId(stack.reconciliation.table(definition)));

  it('creates one table per reconciliation topology table, with its keys', () => {
    expect(RECONCILE_TABLES.map((d) => d.id)).toEqual([
      RECONCILE_CHECKPOINTS.id,
      RECONCILE_AUDIT.id,
      PARITY_FINDINGS.id,
      RECONCILE_RUNS.id,
      RECONCILE_RUN_LOG.id,
    ]);
    for (const definition of RECONCILE_TABLES) {
      const props = tableOf(definition).Properties;
      const keys = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
      expect(props.KeySchema, definition.id).toEqual(
        keys.map((key, index) => ({ AttributeName: key.name, KeyType: index === 0 ? 'HASH' : 'RANGE' })),
      );
      const indexKeys = (definition.globalSecondaryIndexes ?? []).flatMap((index) => [
        index.partitionKey,
        ...(index.sortKey ? [index.sortKey] : []),
      ]);
      expect(props.AttributeDefinitions, definition.id).toEqual(
        [...keys, ...indexKeys].map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
      );
      if (definition !== RECONCILE_RUN_LOG)
        expect(props.GlobalSecondaryIndexes, definition.id).toBeUndefined();
    }
  });

  it('indexes the run log by time, overall and per source, so that listing runs is one Query', () => {
    expect(tableOf(RECONCILE_RUN_LOG).Properties.GlobalSecondaryIndexes).toEqual([
      expect.objectContaining({
        IndexName: RECONCILE_RUNS_BY_TIME.indexName,
        KeySchema: [
          { AttributeName: 'runScope', KeyType: 'HASH' },
          { AttributeName: 'runAt', KeyType: 'RANGE' },
        ],
      }),
    ]);
  });

  it('expires audit records and parity findings on the topology TTL attribute, and never checkpoints', () => {
    expect(RECONCILE_AUDIT.timeToLiveAttribute).toBeDefined();
    expect(PARITY_FINDINGS.timeToLiveAttribute).toBeDefined();
    expect(RECONCILE_CHECKPOINTS.timeToLiveAttribute).toBeUndefined();
    for (const definition of RECONCILE_TABLES) {
      expect(tableOf(definition).Properties.TimeToLiveSpecification, definition.id).toEqual(
        definition.timeToLiveAttribute
          ? { AttributeName: definition.timeToLiveAttribute, Enabled: true }
          : undefined,
      );
    }
  });

  it('bills on demand, with 35 days of point-in-time recovery, deletion protection and retention', () => {
    for (const definition of RECONCILE_TABLES) {
      const table = tableOf(definition);
      expect(table.Properties.BillingMode, definition.id).toBe('PAY_PER_REQUEST');
      expect(table.Properties.Replicas, definition.id).toEqual([
        {
          ...(definition.globalSecondaryIndexes
            ? {
                GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map((index) => ({
                  IndexName: index.indexName,
                })),
              }
            : {}),
          Region: REGION,
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 },
        },
      ]);
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
      expect([table.DeletionPolicy, table.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    }
  });

  it('sizes the DLQ explicitly as the topology says, encrypts and retains it', () => {
    const queue = resource(dlqId);
    expect(queue.Properties).toEqual({
      MaximumMessageSize: RECONCILE_DLQ.maximumMessageSizeBytes,
      MessageRetentionPeriod: RECONCILE_DLQ.retentionSeconds,
      VisibilityTimeout: RECONCILE_DLQ.visibilityTimeoutSeconds,
      SqsManagedSseEnabled: true,
    });
    expect([queue.DeletionPolicy, queue.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  it('denies every non-TLS request on the DLQ', () => {
    const statements = dlqPolicyStatements();
    expect(statements).toContainEqual({
      Action: 'sqs:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Resource: arnOf(dlqId),
    });
  });
});

describe('reconciliation permissions', () => {
  const table = (construct: Parameters<typeof logicalId>[0]) => arnOf(logicalId(construct));
  const dynamo = (actions: string[], resource: Json) =>
    actions.map((action) => permission(`dynamodb:${action}`, resource));

  it('lets the planner record runs and read them back, and keep its idempotency records, and nothing else in DynamoDB', () => {
    const { reconciliation } = stack;
    const runLog = logicalId(reconciliation.runLog);
    const granted = functionPermissions(template, functionId).filter((p) => p.startsWith('dynamodb:'));
    const planning = ['GetItem', 'PutItem', 'BatchWriteItem', 'UpdateItem', 'Query'];
    expect(granted).toEqual(
      [
        ...dynamo(planning, arnOf(runLog)),
        ...dynamo(planning, indexArnOf(runLog, RECONCILE_RUNS_BY_TIME.indexName)),
        ...dynamo(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'], table(reconciliation.runs)),
      ].sort(),
    );
  });

  it('lets the worker use exactly the DynamoDB actions its stores use, per table', () => {
    const { state, reconciliation } = stack;
    const granted = functionPermissions(template, workerId).filter((p) => p.startsWith('dynamodb:'));
    expect(granted).toEqual(
      [
        ...dynamo(['BatchGetItem', 'Query', 'UpdateItem'], table(state.ariState)),
        ...dynamo(['GetItem'], table(state.mappings)),
        ...dynamo(['GetItem', 'PutItem'], table(reconciliation.checkpoints)),
        ...dynamo(['BatchWriteItem'], table(reconciliation.audit)),
        ...dynamo(['PutItem', 'DeleteItem', 'Query'], table(reconciliation.parityFindings)),
        ...dynamo(['GetItem', 'UpdateItem', 'Query'], table(reconciliation.runLog)),
      ].sort(),
    );
  });

  it('lets the worker read the polling tokens, by name and by ARN, and no signing secret; the planner none', () => {
    const secrets = functionPermissions(template, workerId).filter((p) => p.startsWith('secretsmanager:'));
    expect(secrets).toEqual(
      [
        permission('secretsmanager:GetSecretValue', secretArnPattern(PMS_POLLING_TOKEN)),
        permission('secretsmanager:GetSecretValue', `${OTA_POLLING_TOKEN_ARN}-??????`),
      ].sort(),
    );
    const granted = functionPermissions(template, workerId).join('\n');
    for (const signing of [
      'paritysync/pms/signing-secret',
      COMPLETE_SECRET_ARN,
      'paritysync/shared/rotation',
    ]) {
      expect(granted).not.toContain(signing);
    }
    expect(functionPermissions(template, functionId).filter((p) => p.startsWith('secretsmanager:'))).toEqual(
      [],
    );
  });

  it('gives the worker no secret permission at all when no source is polled', () => {
    const { stack: unpolledStack, template: unpolled } = synthStack({
      config: parseConfig({
        ...TEST_CONFIG_INPUT,
        sources: TEST_CONFIG_INPUT.sources.map(({ polling: _polling, ...source }) => source),
        parity: { properties: [] },
      } as ParitySyncConfigInput),
    });
    const granted = functionPermissions(unpolled, logicalId(unpolledStack.reconciliation.work.function));
    expect(granted.filter((p) => p.startsWith('secretsmanager:'))).toEqual([]);
    // Same construct paths, same logical ids: the table access is unchanged.
    expect(granted.filter((p) => p.startsWith('dynamodb:'))).toEqual(
      functionPermissions(template, workerId).filter((p) => p.startsWith('dynamodb:')),
    );
  });

  it('lets the planner send to the work queue and its DLQ, and nothing else, with no wildcard', () => {
    const granted = functionPermissions(template, functionId);
    expect(granted.filter((p) => !/^dynamodb:/.test(p))).toEqual(
      [
        permission('sqs:SendMessage', arnOf(dlqId)),
        permission('sqs:SendMessage', arnOf(workQueueId)),
        ...XRAY_PERMISSIONS,
      ].sort(),
    );
    noWildcards(functionId);
  });

  it('lets the worker consume the work queue and send a run’s parity items to it, and nothing else, with no wildcard', () => {
    const granted = functionPermissions(template, workerId);
    expect(granted.filter((p) => !/^(dynamodb|secretsmanager):/.test(p))).toEqual(
      [
        ...[
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:SendMessage',
        ].map((action) => permission(action, arnOf(workQueueId))),
        ...XRAY_PERMISSIONS,
      ].sort(),
    );
    noWildcards(workerId);
  });

  it('keeps the polling tokens away from the ingest, apply, read and planning functions', () => {
    const tokens = [secretArnPattern(PMS_POLLING_TOKEN), `${OTA_POLLING_TOKEN_ARN}-??????`];
    for (const fn of [
      stack.ingest.function,
      stack.apply.function,
      stack.read.function,
      stack.reconciliation.function,
    ]) {
      const granted = functionPermissions(template, logicalId(fn)).join('\n');
      for (const token of tokens) expect(granted, fn.node.path).not.toContain(token);
    }
    // The ingest function still reads its signing secrets: the filter above is not vacuous.
    expect(functionPermissions(template, logicalId(stack.ingest.function)).join('\n')).toContain(
      secretArnPattern('paritysync/pms/signing-secret'),
    );
  });
});

/** X-Ray's actions take no resource but `*`; nothing else may. */
function noWildcards(id: string): void {
  for (const statement of functionStatementsOf(id).filter((s) => !isXrayStatement(s))) {
    for (const action of toArray(statement.Action)) expect(action).not.toContain('*');
    for (const resource of toArray(statement.Resource)) expect(resource).not.toBe('*');
  }
}

function functionStatementsOf(id: string): Array<{ Action: string | string[]; Resource: unknown }> {
  const roleId = (resource(id).Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return (Object.values(template.findResources('AWS::IAM::Policy')) as ResourceJson[])
    .filter((policy) => (policy.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap(
      (policy) =>
        (policy.Properties.PolicyDocument as { Statement: Array<{ Action: string[]; Resource: unknown }> })
          .Statement,
    );
}

describe('deploying a polled source', () => {
  function synthError(token: Json): ConfigurationError {
    try {
      new ParitySyncStack(testApp(), 'Refused', {
        config: parseConfig(withPmsPollingToken(token)),
        env: { account: ACCOUNT, region: REGION },
      });
    } catch (error) {
      if (error instanceof ConfigurationError) return error;
      throw error;
    }
    throw new Error('expected the stack to refuse the configuration');
  }

  it('refuses an inline polling token, naming the field and never repeating the value', () => {
    const pmsIndex = TEST_CONFIG.sources.findIndex((source) => source.id === 'pms-main');
    const error = synthError({ value: 'pat_live_topsecret' });
    expect(error.problems.map((p) => p.path)).toEqual([`sources[${pmsIndex}].polling.token`]);
    expect(error.message).toContain(`sources[${pmsIndex}].polling.token`);
    expect(error.message).toContain('paritysync/pms-main/polling-token');
    expect(error.message).not.toContain('pat_live_topsecret');
  });

  it('refuses an environment variable polling token, naming the variable', () => {
    const error = synthError({ env: 'PMS_POLLING_TOKEN' });
    expect(error.problems).toEqual([
      { path: expect.stringMatching(/^sources\[\d+\]\.polling\.token$/), message: expect.any(String) },
    ]);
    expect(error.message).toContain('PMS_POLLING_TOKEN');
  });
});

describe('reconciliation outputs', () => {
  it('publishes the function name, with how to invoke it by hand', () => {
    const output = template.findOutputs('ReconcileFunctionName').ReconcileFunctionName;
    expect(output?.Value).toEqual({ Ref: functionId });
    expect(output?.Description).toMatch(/Invoke with \{\}.*"sourceIds".*"dryRun"/);
  });

  it('publishes the DLQ URL', () => {
    template.hasOutput('ReconcileDeadLetterQueueUrl', { Value: { Ref: dlqId } });
  });

  it('publishes the name of every reconciliation table', () => {
    for (const [outputId, definition] of [
      ['ReconcileCheckpointsTableName', RECONCILE_CHECKPOINTS],
      ['ReconcileAuditTableName', RECONCILE_AUDIT],
      ['ParityFindingsTableName', PARITY_FINDINGS],
      ['ReconcileRunsTableName', RECONCILE_RUNS],
      ['ReconcileRunLogTableName', RECONCILE_RUN_LOG],
    ] as const) {
      template.hasOutput(outputId, { Value: { Ref: logicalId(stack.reconciliation.table(definition)) } });
    }
  });
});
