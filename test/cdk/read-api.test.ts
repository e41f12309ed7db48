import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParitySyncStack } from '../../lib/paritysync-stack';
import { READ_ROUTES } from '../../lib/read-api';
import { ACCOUNT, logicalId, REGION, synthStack, TEST_CONFIG, testApp } from './app';
import {
  arnOf,
  functionPermissions,
  indexArnOf,
  permission,
  toArray,
  viaService,
  XRAY_PERMISSIONS,
} from './iam';

type Json = Record<string, unknown>;
type MethodJson = { Properties: Json };

let stack: ParitySyncStack;
let template: Template;
let readFunctionId: string;
let apiId: string;

beforeAll(() => {
  ({ stack, template } = synthStack());
  readFunctionId = logicalId(stack.read.function);
  apiId = logicalId(stack.ingest.api);
});

function resource(id: string): { Properties: Json } {
  return template.toJSON().Resources[id];
}

/** The full path of an API Gateway resource, rebuilt from its chain of parents. */
function resourcePath(resourceId: string): string {
  const props = resource(resourceId).Properties;
  const parent = props.ParentId as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const prefix = parent.Ref === undefined ? '' : resourcePath(parent.Ref);
  if (parent.Ref === undefined) expect(parent).toEqual({ 'Fn::GetAtt': [apiId, 'RootResourceId'] });
  return `${prefix}/${props.PathPart as string}`;
}

/** Every method of the API as `METHOD /path` → its properties. */
function methodsByRoute(): Map<string, Json> {
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as MethodJson[];
  return new Map(
    methods.map((method) => {
      const resourceId = (method.Properties.ResourceId as { Ref: string }).Ref;
      return [`${method.Properties.HttpMethod as string} ${resourcePath(resourceId)}`, method.Properties];
    }),
  );
}

const EXPECTED_READ_ROUTES = [
  'GET /properties/{propertyId}/ari',
  'GET /reservations/{id}',
  'GET /deliveries/{eventId}',
  'GET /deliveries',
  'GET /deliveries/counts',
  'GET /review',
  'GET /mappings',
  'PUT /mappings/{scope}/{entity}/{externalId}',
  'GET /parity',
  'GET /parity/properties',
  'GET /reconciliation/audit',
  'GET /rejections',
  'GET /sources',
  'POST /sources/{sourceId}/hold',
  'POST /sources/{sourceId}/resume',
  'GET /dlq/{queue}',
  'POST /dlq/{queue}/redrive',
  'POST /dlq/{queue}/delete',
  'POST /replays',
  'GET /replays/{jobId}',
  'POST /replays/{jobId}/cancel',
  'GET /reconciliation/runs',
  'GET /reconciliation/runs/{runId}',
];

describe('read API routes', () => {
  it('serves the read and mapping routes, next to the webhook route, on the same API', () => {
    expect([...methodsByRoute().keys()].sort()).toEqual(
      [...EXPECTED_READ_ROUTES, 'POST /webhooks/{sourceId}'].sort(),
    );
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::ApiGateway::Stage', 1);
  });

  it('requires IAM (SigV4) authorisation on every read route', () => {
    const methods = methodsByRoute();
    for (const route of EXPECTED_READ_ROUTES) {
      expect(methods.get(route)?.AuthorizationType, route).toBe('AWS_IAM');
    }
  });

  it('keeps the webhook route open to signed provider deliveries, without IAM', () => {
    expect(methodsByRoute().get('POST /webhooks/{sourceId}')?.AuthorizationType).toBe('NONE');
  });

  it('proxies every read route to the read function', () => {
    const methods = methodsByRoute();
    for (const route of EXPECTED_READ_ROUTES) {
      expect(methods.get(route)?.Integration, route).toMatchObject({
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        Uri: {
          'Fn::Join': [
            '',
            [
              `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/`,
              arnOf(readFunctionId),
              '/invocations',
            ],
          ],
        },
      });
    }
  });

  it('lets API Gateway invoke the read function for the read routes only', () => {
    const permissions = Object.values(
      template.findResources('AWS::Lambda::Permission', {
        Properties: { FunctionName: arnOf(readFunctionId) },
      }),
    ) as Array<{ Properties: Json }>;
    const sourcePaths = permissions.map((p) => {
      const parts = (p.Properties.SourceArn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      return parts.at(-1) as string;
    });
    for (const route of READ_ROUTES) {
      const path = route.path.replace(/\{[^}]+\}/g, '*');
      expect(sourcePaths, route.path).toContain(`/${route.method}${path}`);
    }
    expect(sourcePaths.every((p) => !p.includes('webhooks'))).toBe(true);
  });

  it('adds no Allow to the resource policy that would let unauthorised principals reach the read routes', () => {
    const statements = (resource(apiId).Properties.Policy as { Statement: Json[] }).Statement;
    const allowed = statements
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => toArray(s.Resource as string | string[]));
    expect(allowed).toEqual(['execute-api:/*/POST/webhooks/*']);
  });
});

describe('read function', () => {
  it('runs Node.js 24 on arm64 with 256 MB and a 10 s timeout', () => {
    expect(resource(readFunctionId).Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 10,
      Handler: 'index.handler',
    });
  });

  it('gets the names of the tables it reads (not guest links), parity findings, the audit and rejections included, the queue URL and its service name', () => {
    const ref = (construct: Parameters<typeof logicalId>[0]) => ({ Ref: logicalId(construct) });
    expect((resource(readFunctionId).Properties.Environment as Json).Variables).toEqual({
      LEDGER_TABLE_NAME: ref(stack.ledger.table),
      ARI_TABLE_NAME: ref(stack.state.ariState),
      MAPPINGS_TABLE_NAME: ref(stack.state.mappings),
      REVIEW_TABLE_NAME: ref(stack.state.review),
      RESERVATIONS_TABLE_NAME: ref(stack.state.reservations),
      PARITY_TABLE_NAME: ref(stack.reconciliation.parityFindings),
      AUDIT_TABLE_NAME: ref(stack.reconciliation.audit),
      RECONCILE_RUN_LOG_TABLE_NAME: ref(stack.reconciliation.runLog),
      REJECTIONS_TABLE_NAME: ref(stack.rejections.table),
      CONTROLS_TABLE_NAME: ref(stack.state.controls),
      EVENT_QUEUE_URL: ref(stack.queues.queue),
      EVENTS_DLQ_URL: ref(stack.queues.deadLetterQueue),
      RECONCILE_DLQ_URL: ref(stack.reconciliation.deadLetterQueue),
      PARITY_DLQ_URL: ref(stack.parityOnChange.deadLetterQueue),
      REPLAY_QUEUE_URL: ref(stack.replays.queue),
      OPERATION_REQUESTS_TABLE_NAME: ref(stack.replays.operationRequests),
      // A whole-queue redrive is SQS's move task, from the events DLQ back to the events queue.
      DLQ_REDRIVE: 'move-task',
      EVENTS_DLQ_ARN: arnOf(logicalId(stack.queues.deadLetterQueue)),
      EVENT_QUEUE_ARN: arnOf(logicalId(stack.queues.queue)),
      POWERTOOLS_SERVICE_NAME: 'paritysync-read',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_TRACE_ENABLED: 'true',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });
});

describe('read function permissions', () => {
  const dynamo = (actions: string[], resource: Json) =>
    actions.map((a) => permission(`dynamodb:${a}`, resource));
  const table = (construct: Parameters<typeof logicalId>[0]) => arnOf(logicalId(construct));

  it('has exactly the read, mapping, hold, re-queue and dead-letter actions the routes need', () => {
    const { state } = stack;
    const keyId = state.personalDataKey ? logicalId(state.personalDataKey) : 'missing';
    const sqs = (actions: string[], construct: Parameters<typeof logicalId>[0]) =>
      actions.map((action) => permission(`sqs:${action}`, arnOf(logicalId(construct))));
    const expected = [
      ...dynamo(['Query'], table(state.ariState)),
      ...dynamo(['GetItem'], table(state.reservations)),
      ...dynamo(['Scan'], table(state.review)),
      ...dynamo(['GetItem'], table(stack.ledger.table)),
      // GET /deliveries and /deliveries/counts: the log's indexes, and not the table, whose items keep events.
      ...['logAll', 'logBySource', 'logByStatus', 'logBySourceStatus'].flatMap((index) =>
        dynamo(['Query'], indexArnOf(logicalId(stack.ledger.table), index)),
      ),
      // GET /parity: one property's findings over a date range.
      ...dynamo(['Query'], table(stack.reconciliation.parityFindings)),
      // GET /reconciliation/audit: one property's audit over a range of nights.
      ...dynamo(['Query'], table(stack.reconciliation.audit)),
      // GET /reconciliation/runs: the index by time; GET /reconciliation/runs/{runId}: the run's partition.
      ...dynamo(['Query'], table(stack.reconciliation.runLog)),
      ...dynamo(['Query'], indexArnOf(logicalId(stack.reconciliation.runLog), 'runsByTime')),
      // GET /rejections: one source's partition, or every source's through the index.
      ...dynamo(['Query'], table(stack.rejections.table)),
      ...dynamo(['Query'], indexArnOf(logicalId(stack.rejections.table), 'rejectionsAll')),
      // Adding a mapping: write it, find the events parked for it and queue them again.
      ...dynamo(['PutItem'], table(state.mappings)),
      // GET /mappings: one Query per entity on the index, and no Scan of the table.
      ...dynamo(['Query'], indexArnOf(logicalId(state.mappings), 'mappingsByEntity')),
      ...dynamo(['Query'], indexArnOf(logicalId(state.review), 'byWaitingFor')),
      // Holding and resuming a source: set, read and end the hold, find its held events in order.
      ...dynamo(['GetItem', 'PutItem', 'DeleteItem'], table(state.controls)),
      ...dynamo(['Query'], indexArnOf(logicalId(state.review), 'waitingInOrder')),
      // Re-queueing parked and held events, and redriving dead letters, to the events queue only.
      ...sqs(['SendMessage'], stack.queues.queue),
      // Replay jobs: the job item in the controls table (read and created as holds are; updated when cancelled),
      // its first work message, and the requests that start work.
      ...dynamo(['UpdateItem'], table(state.controls)),
      ...sqs(['SendMessage'], stack.replays.queue),
      ...dynamo(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'], table(stack.replays.operationRequests)),
      // The events DLQ: look (receive, put back in view), count, delete what went back, start and follow move tasks.
      ...sqs(
        [
          'ReceiveMessage',
          'ChangeMessageVisibility',
          'DeleteMessage',
          'GetQueueAttributes',
          'StartMessageMoveTask',
          'ListMessageMoveTasks',
        ],
        stack.queues.deadLetterQueue,
      ),
      // The reconcile DLQ: look, count and delete; nothing is sent back.
      ...sqs(
        ['ReceiveMessage', 'ChangeMessageVisibility', 'DeleteMessage', 'GetQueueAttributes'],
        stack.reconciliation.deadLetterQueue,
      ),
      // The parity stream's failure destination: look, count and delete; a stream position is not sent back.
      ...sqs(
        ['ReceiveMessage', 'ChangeMessageVisibility', 'DeleteMessage', 'GetQueueAttributes'],
        stack.parityOnChange.deadLetterQueue,
      ),
      permission('kms:Decrypt', arnOf(keyId), viaService('dynamodb')),
      // Queued events are under the same key: re-queueing encrypts, receiving dead letters decrypts.
      permission('kms:GenerateDataKey', arnOf(keyId), viaService('sqs')),
      permission('kms:Decrypt', arnOf(keyId), viaService('sqs')),
      // Active tracing.
      ...XRAY_PERMISSIONS,
    ].sort();
    expect(functionPermissions(template, readFunctionId)).toEqual(expected);
  });

  it('can send to no queue but the events queue and the replay work queue, and never purge, create or reconfigure a queue', () => {
    const sqsGrants = functionPermissions(template, readFunctionId).filter((p) => p.startsWith('sqs:'));
    expect(sqsGrants.filter((p) => p.startsWith('sqs:SendMessage ')).sort()).toEqual(
      [
        permission('sqs:SendMessage', arnOf(logicalId(stack.queues.queue))),
        permission('sqs:SendMessage', arnOf(logicalId(stack.replays.queue))),
      ].sort(),
    );
    expect(sqsGrants.filter((p) => /\*|Purge|Create|Delete(Queue)|SetQueue|Tag/.test(p))).toEqual([]);
  });

  it('cannot write rates, reservations, parity findings, the audit, rejections, guest links or the ledger, nor read guest links at all', () => {
    const granted = functionPermissions(template, readFunctionId);
    const onTable = (construct: Parameters<typeof logicalId>[0]) =>
      granted.filter((p) => p.includes(JSON.stringify(table(construct))));
    for (const construct of [
      stack.state.ariState,
      stack.state.reservations,
      stack.ledger.table,
      stack.reconciliation.parityFindings,
      stack.reconciliation.audit,
      stack.reconciliation.runLog,
      stack.rejections.table,
    ]) {
      expect(onTable(construct).filter((p) => /Put|Update|Delete|Write/.test(p))).toEqual([]);
    }
    expect(granted.filter((p) => p.includes(logicalId(stack.state.guests)))).toEqual([]);
    // Never Encrypt, and GenerateDataKey only through SQS (sending to the events queue).
    expect(
      granted.filter(
        (p) =>
          p.startsWith('kms:') &&
          !p.startsWith('kms:Decrypt ') &&
          !(p.startsWith('kms:GenerateDataKey ') && p.includes('sqs.*.')),
      ),
    ).toEqual([]);
  });
});

describe('read API access for operators', () => {
  it('grants execute-api:Invoke on the read routes of the deployed stage, and not on the webhook route', () => {
    const app = testApp();
    const withOperator = new ParitySyncStack(app, 'WithOperator', {
      config: TEST_CONFIG,
      env: { account: ACCOUNT, region: REGION },
    });
    const operator = new iam.Role(withOperator, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    withOperator.read.grantInvoke(operator);
    const policies = Object.values(
      Template.fromStack(withOperator).findResources('AWS::IAM::Policy'),
    ) as Array<{
      Properties: { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Json[] } };
    }>;
    const operatorRoleId = logicalId(operator);
    const statements = policies
      .filter((p) => p.Properties.Roles.some((r) => r.Ref === operatorRoleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0]?.Action).toBe('execute-api:Invoke');
    const stageId = logicalId(withOperator.ingest.api.deploymentStage);
    const suffixes = toArray(statements[0]?.Resource as Json[]).map((arn) => {
      const parts = (arn['Fn::Join'] as [string, unknown[]])[1];
      expect(parts).toContainEqual({ Ref: logicalId(withOperator.ingest.api) });
      expect(parts).toContainEqual({ Ref: stageId });
      return parts.at(-1);
    });
    expect(suffixes.sort()).toEqual(
      [
        '/GET/properties/*/ari',
        '/GET/reservations/*',
        '/GET/deliveries/*',
        '/GET/deliveries',
        '/GET/deliveries/counts',
        '/GET/review',
        '/GET/mappings',
        '/PUT/mappings/*/*/*',
        '/GET/parity',
        '/GET/parity/properties',
        '/GET/reconciliation/audit',
        '/GET/rejections',
        '/GET/sources',
        '/POST/sources/*/hold',
        '/POST/sources/*/resume',
        '/GET/dlq/*',
        '/POST/dlq/*/redrive',
        '/POST/dlq/*/delete',
        '/POST/replays',
        '/GET/replays/*',
        '/POST/replays/*/cancel',
        '/GET/reconciliation/runs',
        '/GET/reconciliation/runs/*',
      ].sort(),
    );
  });
});

describe('read API output', () => {
  it('publishes the base URL of the read routes, stage included', () => {
    template.hasOutput('ReadApiUrl', {
      Value: {
        'Fn::Join': [
          '',
          [
            'https://',
            { Ref: apiId },
            `.execute-api.${REGION}.`,
            { Ref: 'AWS::URLSuffix' },
            '/',
            { Ref: logicalId(stack.ingest.api.deploymentStage) },
            '/',
          ],
        ],
      },
    });
  });
});
