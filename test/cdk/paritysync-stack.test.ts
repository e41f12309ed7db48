import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_DLQ, EVENTS_QUEUE } from '../../lambdas/shared/topology';
import type { ParitySyncStack } from '../../lib/paritysync-stack';
import {
  ACCOUNT,
  COMPLETE_SECRET_ARN,
  logicalId,
  onlyResourceId,
  PARTIAL_SECRET_ARN,
  PMS_CIDRS,
  REGION,
  synthStack,
} from './app';

type Json = Record<string, unknown>;
type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
  Principal?: unknown;
};

let stack: ParitySyncStack;
let template: Template;
let tableId: string;
let queueId: string;
let dlqId: string;
let functionId: string;
let apiId: string;

beforeAll(() => {
  ({ stack, template } = synthStack());
  tableId = logicalId(stack.ledger.table);
  functionId = logicalId(stack.ingest.function);
  apiId = logicalId(stack.ingest.api);
  queueId = logicalId(stack.queues.queue);
  dlqId = logicalId(stack.queues.deadLetterQueue);
});

function resource(id: string): { Properties: Json; DeletionPolicy?: string; UpdateReplacePolicy?: string } {
  return template.toJSON().Resources[id];
}

function toArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** Every statement of every inline policy attached to the function's role. */
function functionStatements(): Statement[] {
  const roleRef = (resource(functionId).Properties.Role as { 'Fn::GetAtt': [string, string] })[
    'Fn::GetAtt'
  ][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: Json }>;
  return policies
    .filter((policy) =>
      (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleRef),
    )
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('delivery ledger table', () => {
  it('uses the topology key and TTL attribute', () => {
    const props = resource(tableId).Properties;
    expect(props.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  it("has the delivery log's four indexes, sorted by time of receipt, each copying only what the log shows", () => {
    const props = resource(tableId).Properties;
    expect(
      (props.AttributeDefinitions as Json[]).sort((a, b) =>
        String(a.AttributeName).localeCompare(String(b.AttributeName)),
      ),
    ).toEqual(
      ['logAll', 'logAt', 'pk', 'sourceId', 'sourceStatus', 'status'].map((name) => ({
        AttributeName: name,
        AttributeType: 'S',
      })),
    );
    const shown = [
      'sourceId',
      'status',
      'kind',
      'providerEventType',
      'canonicalType',
      'reason',
      'occurredAt',
      'receivedAt',
      'updatedAt',
      'deliveryCount',
      'retained',
    ];
    const index = (name: string, key: string) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: key, KeyType: 'HASH' },
        { AttributeName: 'logAt', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: shown.filter((field) => field !== key) },
    });
    expect(props.GlobalSecondaryIndexes).toEqual([
      index('logAll', 'logAll'),
      index('logBySource', 'sourceId'),
      index('logByStatus', 'status'),
      index('logBySourceStatus', 'sourceStatus'),
    ]);
    // Never the retained event, the lease or the failure notes: writing those costs the indexes nothing.
    for (const projected of (props.GlobalSecondaryIndexes as Array<{ Projection: Json }>).map(
      (gsi) => gsi.Projection.NonKeyAttributes as string[],
    )) {
      expect(projected).not.toContain('event');
      expect(projected).not.toContain('leaseUntil');
      expect(projected).not.toContain('lastError');
    }
  });

  it('creates only the first indexes it is allowed, and lets the read function query only those', () => {
    const { stack: staged, template: stagedTemplate } = synthStack({ ledgerLogIndexes: 2 });
    const ledger = stagedTemplate.toJSON().Resources[logicalId(staged.ledger.table)].Properties as Json;
    expect((ledger.GlobalSecondaryIndexes as Json[]).map((gsi) => gsi.IndexName)).toEqual([
      'logAll',
      'logBySource',
    ]);
    const queried = JSON.stringify(
      Object.values(stagedTemplate.findResources('AWS::IAM::Policy')).filter((policy) =>
        JSON.stringify(policy).includes('dynamodb:Query'),
      ),
    );
    expect(queried).toContain('/index/logBySource');
    expect(queried).not.toContain('/index/logByStatus');
    expect(() => synthStack({ ledgerLogIndexes: 5 })).toThrow(
      /logIndexes must be a whole number from 0 to 4/,
    );
  });

  it('bills on demand', () => {
    expect(resource(tableId).Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('has point-in-time recovery and deletion protection on its replica', () => {
    const [replica, ...others] = resource(tableId).Properties.Replicas as Json[];
    expect(others).toEqual([]);
    expect(replica).toMatchObject({
      Region: REGION,
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 },
    });
  });

  it('is encrypted with the AWS managed KMS key', () => {
    expect(resource(tableId).Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
  });

  it('is retained when the stack is deleted or the table replaced', () => {
    expect(resource(tableId).DeletionPolicy).toBe('Retain');
    expect(resource(tableId).UpdateReplacePolicy).toBe('Retain');
  });
});

describe('event queues', () => {
  it('sizes, retains and times out messages as the topology says', () => {
    for (const [id, definition] of [
      [queueId, EVENTS_QUEUE],
      [dlqId, EVENTS_DLQ],
    ] as const) {
      expect(resource(id).Properties).toMatchObject({
        MaximumMessageSize: definition.maximumMessageSizeBytes,
        MessageRetentionPeriod: definition.retentionSeconds,
        VisibilityTimeout: definition.visibilityTimeoutSeconds,
      });
    }
    expect(resource(queueId).Properties.MaximumMessageSize).toBe(1_048_576);
  });

  it('redrives to the DLQ after maxReceiveCount receives', () => {
    expect(resource(queueId).Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: EVENTS_QUEUE.maxReceiveCount,
    });
  });

  it('encrypts both queues with the personal-data key: queued events carry guest ids', () => {
    for (const id of [queueId, dlqId]) {
      expect(resource(id).Properties.KmsMasterKeyId).toEqual({
        'Fn::GetAtt': [logicalId(stack.state.personalDataKey), 'Arn'],
      });
      expect(resource(id).Properties.SqsManagedSseEnabled).toBeUndefined();
    }
  });

  it('denies every non-TLS request on both queues', () => {
    for (const id of [queueId, dlqId]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Resource: { 'Fn::GetAtt': [id, 'Arn'] },
            },
          ]),
        },
      });
    }
  });

  it('retains both queues', () => {
    expect(resource(queueId).DeletionPolicy).toBe('Retain');
    expect(resource(dlqId).DeletionPolicy).toBe('Retain');
  });
});

describe('ingest function', () => {
  it('runs Node.js 24 on arm64 with 512 MB and a 10 s timeout', () => {
    expect(resource(functionId).Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 10,
      Handler: 'index.handler',
    });
  });

  it('gets the table names and queue URL, and no configuration, from its environment', () => {
    expect((resource(functionId).Properties.Environment as Json).Variables).toEqual({
      LEDGER_TABLE_NAME: { Ref: tableId },
      EVENT_QUEUE_URL: { Ref: queueId },
      REJECTIONS_TABLE_NAME: { Ref: logicalId(stack.rejections.table) },
      POWERTOOLS_SERVICE_NAME: 'paritysync-ingest',
      POWERTOOLS_METRICS_NAMESPACE: 'ParitySync',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_TRACE_ENABLED: 'true',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('logs to its own log group with a retention', () => {
    const logGroupRef = ((resource(functionId).Properties.LoggingConfig as Json).LogGroup as { Ref: string })
      .Ref;
    expect(resource(logGroupRef).Properties.RetentionInDays).toBe(30);
  });
});

describe('ingest function permissions', () => {
  it('may only get, put and update items on the ledger table, and put and update them on the rejection log', () => {
    const tables = functionStatements().filter((s) =>
      toArray(s.Action).some((a) => a.startsWith('dynamodb:')),
    );
    expect(tables).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [logicalId(stack.rejections.table), 'Arn'] },
      },
    ]);
  });

  it('may only send messages, to the events queue alone', () => {
    const sqs = functionStatements().filter((s) => toArray(s.Action).some((a) => a.startsWith('sqs:')));
    expect(sqs).toEqual([
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    ]);
  });

  it('may read exactly the secrets the configuration references', () => {
    const secrets = functionStatements().filter((s) =>
      toArray(s.Action).some((a) => a.startsWith('secretsmanager:')),
    );
    const arn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}`;
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.Action).toBe('secretsmanager:GetSecretValue');
    expect([...toArray(secrets[0]?.Resource as string[])].sort()).toEqual(
      [
        arn('paritysync/hospitable/signing-secret-??????'),
        arn('paritysync/pms/signing-secret-??????'),
        // A complete ARN: granted as given, and as a partial ARN in case the suffix is part of the name.
        COMPLETE_SECRET_ARN,
        `${COMPLETE_SECRET_ARN}-??????`,
        `${PARTIAL_SECRET_ARN}-??????`,
        // Referenced by two sources, granted once.
        arn('paritysync/shared/rotation-??????'),
      ].sort(),
    );
  });

  it('has no other permissions and no wildcard actions', () => {
    const actions = functionStatements().flatMap((s) => toArray(s.Action));
    expect(new Set(actions)).toEqual(
      new Set([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'sqs:SendMessage',
        'secretsmanager:GetSecretValue',
        // The events queue is under the personal-data key: SQS generates data keys with the sender's rights.
        'kms:GenerateDataKey',
        'kms:Decrypt',
        // Active tracing: X-Ray takes no resource-level permissions.
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
      ]),
    );
    expect(functionStatements().every((s) => s.Effect === 'Allow')).toBe(true);
  });
});

describe('webhook API', () => {
  it('passes every media type through as binary so the function sees the exact bytes', () => {
    expect(resource(apiId).Properties.BinaryMediaTypes).toEqual(['*/*']);
  });

  it('routes POST /webhooks/{sourceId} to the function as a Lambda proxy integration', () => {
    // By parent as well: the operator routes have a `{sourceId}` of their own, under /sources.
    const resourceWithPathPart = (pathPart: string, parentId: Json): [string, Json] => {
      const resources = template.findResources('AWS::ApiGateway::Resource', {
        Properties: { PathPart: pathPart, ParentId: parentId },
      });
      const [entry, ...others] = Object.entries(resources);
      if (!entry || others.length > 0) throw new Error(`expected one resource with path part ${pathPart}`);
      return [entry[0], (entry[1] as { Properties: Json }).Properties];
    };
    const [webhooksId, webhooks] = resourceWithPathPart('webhooks', {
      'Fn::GetAtt': [apiId, 'RootResourceId'],
    });
    const [sourceIdId, sourceId] = resourceWithPathPart('{sourceId}', { Ref: webhooksId });
    expect(webhooks.ParentId).toEqual({ 'Fn::GetAtt': [apiId, 'RootResourceId'] });
    expect(sourceId.ParentId).toEqual({ Ref: webhooksId });

    const methods = Object.values(
      template.findResources('AWS::ApiGateway::Method', { Properties: { ResourceId: { Ref: sourceIdId } } }),
    ) as Array<{ Properties: Json }>;
    expect(methods).toHaveLength(1);
    expect(methods[0]?.Properties).toMatchObject({
      HttpMethod: 'POST',
      AuthorizationType: 'NONE',
      ResourceId: { Ref: sourceIdId },
      Integration: {
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        Uri: {
          'Fn::Join': [
            '',
            [
              `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/`,
              { 'Fn::GetAtt': [functionId, 'Arn'] },
              '/invocations',
            ],
          ],
        },
      },
    });
  });

  it('lets API Gateway invoke the function for that route only', () => {
    const permissions = Object.values(
      template.findResources('AWS::Lambda::Permission', {
        Properties: { FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] } },
      }),
    ) as Array<{ Properties: Json }>;
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) {
      expect(permission.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      });
      expect(JSON.stringify(permission.Properties.SourceArn)).toContain('/POST/webhooks/*');
    }
  });

  it('throttles the stage at 1000 rps with a burst of 2000 and never logs bodies', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      MethodSettings: [
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 1000,
          ThrottlingBurstLimit: 2000,
          DataTraceEnabled: false,
        },
      ],
    });
  });

  it('writes JSON access logs to a log group with a retention', () => {
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0] as { Properties: Json };
    const setting = stage.Properties.AccessLogSetting as { DestinationArn: unknown; Format: string };
    const logGroupId = onlyRef(setting.DestinationArn);
    expect(resource(logGroupId).Properties.RetentionInDays).toBe(30);
    const sample = JSON.parse(setting.Format.replace(/\$context\.[A-Za-z.]+/g, 'x')) as Json;
    expect(Object.keys(sample)).toEqual(expect.arrayContaining(['requestId', 'sourceIp', 'status', 'path']));
    expect(setting.Format).toContain('"requestId":"$context.requestId"');
    expect(setting.Format).toContain('"errorResponseType":"$context.error.responseType"');
  });

  it('does not create the account-wide API Gateway logging role unless asked', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });
});

describe('API resource policy', () => {
  function policyStatements(): Statement[] {
    return (resource(apiId).Properties.Policy as { Statement: Statement[] }).Statement;
  }
  const route = (sourceId: string) => `execute-api:/*/POST/webhooks/${sourceId}`;
  const denyFor = (sourceId: string) =>
    policyStatements().filter((s) => s.Effect === 'Deny' && toArray(s.Resource).includes(route(sourceId)));

  it('allows anyone to invoke the webhook route, and allows nothing else', () => {
    expect(policyStatements().filter((s) => s.Effect === 'Allow')).toEqual([
      {
        Sid: 'AllowWebhooks',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*/POST/webhooks/*',
      },
    ]);
  });

  it("denies the hospitable source's route outside Hospitable's published range", () => {
    expect(denyFor('hospitable')).toEqual([
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: [route('hospitable'), `${route('hospitable')}/`, `${route('hospitable')}/*`],
        Condition: { NotIpAddress: { 'aws:SourceIp': ['38.80.170.0/24'] } },
      },
    ]);
  });

  it('denies the trailing-slash and sub-path variants a REST API also routes, for every allowlisted source', () => {
    // API Gateway matches the policy against the requested path: `/webhooks/pms-main/` reaches the route too.
    const requested = ['pms-main', 'pms-main/', 'pms-main/anything', 'pms-main/a/b'].map((path) =>
      route(path),
    );
    const [deny] = denyFor('pms-main');
    const patterns = toArray(deny?.Resource).map(
      (resource) => new RegExp(`^${String(resource).replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`),
    );
    for (const path of requested) {
      expect(
        patterns.some((pattern) => pattern.test(path)),
        path,
      ).toBe(true);
    }
    // And nothing of another source whose id merely starts the same way.
    expect(patterns.some((pattern) => pattern.test(route('pms-main-2')))).toBe(false);
  });

  it("denies a source's route outside its explicit allowedCidrs, IPv6 included", () => {
    expect(denyFor('pms-main')).toEqual([
      expect.objectContaining({ Condition: { NotIpAddress: { 'aws:SourceIp': PMS_CIDRS } } }),
    ]);
  });

  it('adds no operator-role statements while the configuration names no roles', () => {
    expect(policyStatements().filter((s) => JSON.stringify(s).includes('aws:PrincipalArn'))).toEqual([]);
  });

  it('has no Deny for sources without an allowlist, and nothing else', () => {
    expect(denyFor('ota')).toEqual([]);
    expect(denyFor('mapping')).toEqual([]);
    expect(policyStatements().filter((s) => s.Effect === 'Deny')).toHaveLength(2);
  });
});

describe('gateway responses', () => {
  /** Renders a mapping template the way API Gateway would for a denied request from 198.51.100.7. */
  function render(type: string): { statusCode: unknown; headers: Json; body: Json } {
    const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')) as Array<{
      Properties: Json;
    }>;
    const matching = responses.filter((r) => r.Properties.ResponseType === type);
    expect(matching).toHaveLength(1);
    const props = matching[0]?.Properties as Json;
    const body = (props.ResponseTemplates as Record<string, string>)['application/json'] as string;
    const rendered = body
      .replaceAll('$context.error.messageString', '"Missing Authentication Token"')
      .replaceAll('$context.identity.sourceIp', '198.51.100.7')
      .replaceAll('$context.httpMethod', 'GET')
      .replaceAll('$context.path', '/v1/webhooks/ota');
    expect(rendered).not.toContain('$context');
    return {
      statusCode: props.StatusCode,
      headers: props.ResponseParameters as Json,
      body: JSON.parse(rendered),
    };
  }

  it('answers a denied sender with 403 sender_not_allowed naming its address', () => {
    const { statusCode, headers, body } = render('ACCESS_DENIED');
    expect(statusCode).toBe('403');
    expect(headers['gatewayresponse.header.Content-Type']).toBe("'application/json'");
    expect(body.error).toBe('sender_not_allowed');
    expect(body.message).toContain('198.51.100.7');
  });

  it('answers an oversized request with 413 payload_too_large', () => {
    const { statusCode, body } = render('REQUEST_TOO_LARGE');
    expect(statusCode).toBe('413');
    expect(body).toEqual({ error: 'payload_too_large', message: expect.stringContaining('10 MB') });
  });

  it('answers throttled requests with 429 and Retry-After', () => {
    const { statusCode, headers, body } = render('THROTTLED');
    expect(statusCode).toBe('429');
    expect(headers['gatewayresponse.header.Retry-After']).toBe("'1'");
    expect(body.error).toBe('throttled');
  });

  it('answers an unknown route or method with 404 route_not_found', () => {
    const { statusCode, body } = render('MISSING_AUTHENTICATION_TOKEN');
    expect(statusCode).toBe('404');
    expect(body).toEqual({
      error: 'route_not_found',
      message: expect.stringContaining('GET /v1/webhooks/ota'),
    });
  });

  it('gives other 4xx and 5xx errors the same JSON shape with their own status', () => {
    for (const [type, error] of [
      ['DEFAULT_4XX', 'request_rejected'],
      ['DEFAULT_5XX', 'gateway_error'],
    ] as const) {
      const { statusCode, body } = render(type);
      expect(statusCode).toBeUndefined();
      expect(body).toEqual({ error, message: 'Missing Authentication Token' });
    }
  });
});

describe('outputs', () => {
  const stageUrl = () => ({
    'Fn::Join': [
      '',
      [
        'https://',
        { Ref: apiId },
        `.execute-api.${REGION}.`,
        { Ref: 'AWS::URLSuffix' },
        '/',
        { Ref: onlyResourceId(template, 'AWS::ApiGateway::Stage') },
        '/',
      ],
    ],
  });

  it('publishes the API base URL', () => {
    template.hasOutput('ApiUrl', { Value: stageUrl() });
  });

  it('publishes one webhook URL per source under a name derived from the source id', () => {
    const outputs = Object.fromEntries(
      Object.entries(template.findOutputs('*')).filter(([id]) => id.startsWith('WebhookUrl')),
    );
    expect(Object.keys(outputs).sort()).toEqual(
      ['WebhookUrlHospitable', 'WebhookUrlMapping', 'WebhookUrlOta', 'WebhookUrlPmsMain'].sort(),
    );
    const value = (outputs.WebhookUrlPmsMain as { Value: { 'Fn::Join': [string, unknown[]] } }).Value;
    expect(value['Fn::Join'][1].at(-1)).toBe('/webhooks/pms-main');
    expect(stack.resolve(stack.ingest.webhookUrl('pms-main'))).toEqual(value);
  });

  it("does not keep RestApi's own unnamed endpoint output", () => {
    expect(Object.keys(template.findOutputs('*')).filter((id) => id.includes('Endpoint'))).toEqual([]);
  });
});

function onlyRef(value: unknown): string {
  const refs = JSON.stringify(value).match(/"Ref":"([^"]+)"/g) ?? [];
  if (refs.length !== 1) throw new Error(`expected one Ref in ${JSON.stringify(value)}`);
  return (refs[0] as string).slice(7, -1);
}
