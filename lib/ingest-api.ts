import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type ApiAccess, effectiveAllowedCidrs, type ParitySyncConfig } from '../lambdas/config/schema';
import { ConfigurationError } from '../lambdas/shared/errors';
import { METRIC_SERVICES } from '../lambdas/shared/metric-names';
import { DELIVERY_LEDGER, EVENTS_QUEUE, READ_API_ROUTES } from '../lambdas/shared/topology';
import type { DeliveryLedger } from './delivery-ledger';
import { assertDeployableConfig, referencedSecrets } from './deploy-config';
import type { EventQueues } from './event-queues';
import { ParitySyncFunction } from './paritysync-function';
import type { RejectionLog } from './rejection-log';
import { grantSecretValues } from './secret-grants';
import { WebhookFirewall } from './webhook-firewall';

export { bundledConfigJson } from './lambda-bundling';

export interface IngestApiProps {
  /** The validated configuration. Only `secretsManager` secret references are accepted. */
  readonly config: ParitySyncConfig;
  readonly ledger: DeliveryLedger;
  readonly queues: EventQueues;
  /** Where the function records the requests it refuses for good. */
  readonly rejections: RejectionLog;
  /**
   * Steady-state requests per second the stage accepts across all sources before answering 429.
   * @default 1000
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests the stage accepts in a burst above the steady rate.
   * @default 2000
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Stage name; it is the first path segment of every webhook URL.
   * @default 'v1'
   */
  readonly stageName?: string;
  /**
   * Retention of the API's access logs and the function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Keep the log groups when the stack is deleted. Set `false` only for throw-away development stacks.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * Encrypts the access logs and the function's logs (sender addresses, event ids).
   * @default CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Executions reserved for the ingest function, also the most it runs at once: a flood cannot take the
   * account's whole concurrency, and cannot be starved of it. `undefined` reserves none, for an account whose
   * concurrency quota leaves no room (Lambda keeps a minimum unreserved).
   * @default DEFAULT_INGEST_RESERVED_CONCURRENCY
   */
  readonly reservedConcurrentExecutions?: number | 'none';
  /**
   * The AWS WAF web ACL on the stage (see `WebhookFirewall`); `false` leaves the stage without one.
   * @default { rateLimitPer5Minutes: DEFAULT_WAF_RATE_LIMIT }
   */
  readonly firewall?: false | { readonly rateLimitPer5Minutes?: number };
  /**
   * Create the account-wide role API Gateway uses to write logs (AWS::ApiGateway::Account). API Gateway
   * refuses a stage with access logging ("CloudWatch Logs role ARN must be set in account settings") in a
   * region where no such role is set yet. The role is one per account and region, so enable this in one
   * stack only, and only where nothing else manages it.
   * @default false
   */
  readonly createAccountLogRole?: boolean;
  /**
   * X-Ray tracing of the function and the stage.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * The function's handler module (must export `handler`).
   * @default lambdas/ingest/handler.ts in this project
   */
  readonly entry?: string;
}

/**
 * About 1,000 requests a second at the function's typical 50-100 ms, the stage's steady rate; 100 of the
 * default account quota of 1,000.
 */
export const DEFAULT_INGEST_RESERVED_CONCURRENCY = 100;

/** JSON bodies for errors API Gateway answers itself, in the same `{ error, message }` shape as the function. */
export const GATEWAY_RESPONSES: ReadonlyArray<{
  readonly id: string;
  readonly type: apigateway.ResponseType;
  readonly statusCode?: string;
  readonly error: string;
  /** A mapping-template fragment: either a JSON string literal or `$context.error.messageString`. */
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}> = [
  {
    id: 'AccessDenied',
    type: apigateway.ResponseType.ACCESS_DENIED,
    statusCode: '403',
    error: 'sender_not_allowed',
    // API Gateway raises the same response for a webhook sender outside a source's allowlist and for a read or
    // admin caller whose IAM identity may not invoke the route, so the message names both causes.
    message:
      '"Access denied for $context.identity.sourceIp: a webhook sender must be inside the source\'s allowedCidrs; ' +
      'a read or admin caller needs execute-api:Invoke on the route"',
  },
  {
    id: 'RequestTooLarge',
    type: apigateway.ResponseType.REQUEST_TOO_LARGE,
    statusCode: '413',
    error: 'payload_too_large',
    message: '"The request exceeds the API Gateway payload limit of 10 MB"',
  },
  {
    id: 'Throttled',
    type: apigateway.ResponseType.THROTTLED,
    statusCode: '429',
    error: 'throttled',
    message: '"Too many requests; retry with backoff"',
    headers: { 'Retry-After': "'1'" },
  },
  {
    id: 'MissingRoute',
    type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    statusCode: '404',
    error: 'route_not_found',
    // Also raised for an IAM-authorised route called without a SigV4 signature.
    message:
      '"No route for $context.httpMethod $context.path, or the route needs a SigV4-signed request; ' +
      'webhooks are POSTed to /webhooks/{sourceId}"',
  },
  {
    id: 'Default4xx',
    type: apigateway.ResponseType.DEFAULT_4XX,
    error: 'request_rejected',
    message: '$context.error.messageString',
  },
  {
    id: 'Default5xx',
    type: apigateway.ResponseType.DEFAULT_5XX,
    error: 'gateway_error',
    message: '$context.error.messageString',
  },
];

/**
 * The public edge: a REST API with `POST /webhooks/{sourceId}` proxied to the ingest function, which
 * verifies, validates, deduplicates and enqueues each delivery.
 *
 * A REST API (not an HTTP API) because only REST APIs have resource policies, which refuse senders outside
 * a source's published address range before the function is invoked or billed.
 */
export class IngestApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly function: ParitySyncFunction;
  readonly accessLogs: logs.LogGroup;
  /** Absent when the props turn it off. */
  readonly firewall?: WebhookFirewall;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    // Re-checked here as well as in the app: this construct compiles the configuration into the bundle.
    assertDeployableConfig(props.config);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const retain = props.retain ?? true;
    const stageName = props.stageName ?? 'v1';
    const reserved = props.reservedConcurrentExecutions ?? DEFAULT_INGEST_RESERVED_CONCURRENCY;
    if (reserved !== 'none' && (!Number.isInteger(reserved) || reserved < 1)) {
      // Zero reserved executions would refuse every webhook.
      throw new ConfigurationError(
        `The ingest function's reserved concurrency must be a whole number of at least 1, or "none" for no ` +
          `reservation; received ${reserved}`,
      );
    }

    this.function = new ParitySyncFunction(this, 'Function', {
      config: props.config,
      entry: props.entry ?? path.join(__dirname, '..', 'lambdas', 'ingest', 'handler.ts'),
      serviceName: METRIC_SERVICES.ingest,
      memorySize: 512,
      timeout: Duration.seconds(10),
      ...(reserved === 'none' ? {} : { reservedConcurrentExecutions: reserved }),
      environment: {
        [DELIVERY_LEDGER.environmentName]: props.ledger.table.tableName,
        [EVENTS_QUEUE.environmentName]: props.queues.queue.queueUrl,
        ...props.rejections.environment(),
      },
      logRetention: retention,
      retain,
      ...(props.logEncryptionKey ? { logEncryptionKey: props.logEncryptionKey } : {}),
      ...(props.tracing === undefined ? {} : { tracing: props.tracing }),
    });

    props.ledger.grant(this.function, 'deduplicate');
    props.queues.grantEnqueue(this.function);
    props.rejections.grantRecord(this.function);
    grantSecretValues(this.function, referencedSecrets(props.config));

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      ...(props.logEncryptionKey ? { encryptionKey: props.logEncryptionKey } : {}),
    });

    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-webhooks`,
      description: 'ParitySync signed webhook ingest',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Deliver every body to the function base64-encoded and untouched: signatures cover the exact bytes.
      binaryMediaTypes: ['*/*'],
      cloudWatchRole: props.createAccountLogRole ?? false,
      policy: resourcePolicy(props.config),
      deployOptions: {
        stageName,
        throttlingRateLimit: props.throttlingRateLimit ?? 1000,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 2000,
        // Never log request or response bodies: they carry guest personal data.
        dataTraceEnabled: false,
        // Execution logs for failures only: enough to see why API Gateway refused or failed a request.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        tracingEnabled: props.tracing ?? true,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: accessLogFormat(),
      },
    });

    // API Gateway writes execution logs to a group of this name, creating it (unencrypted, kept forever) unless
    // it exists: created here first, with the access logs' retention and key.
    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${stageName}`,
      retention,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      ...(props.logEncryptionKey ? { encryptionKey: props.logEncryptionKey } : {}),
    });
    this.api.deploymentStage.node.addDependency(executionLogs);

    if (props.firewall !== false) {
      this.firewall = new WebhookFirewall(this, 'Firewall', {
        stage: this.api.deploymentStage,
        maxBodyBytes: props.config.ingest.maxBodyBytes,
        ...props.firewall,
      });
    }

    // The stack publishes the base URL under a stable output name of its own.
    this.api.node.tryRemoveChild('Endpoint');

    this.api.root
      .addResource('webhooks')
      .addResource('{sourceId}')
      .addMethod('POST', new apigateway.LambdaIntegration(this.function, { proxy: true }));

    const acknowledge = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id, reason });
    acknowledge(
      this.api,
      'AwsSolutions-APIG2',
      'Webhook bodies are signed byte for byte and validated by the function after the signature check, against ' +
        "each source's schema; the read routes are validated by the read function",
    );
    acknowledge(
      this.api,
      'AwsSolutions-COG4',
      "Providers cannot present Cognito tokens: webhooks are authenticated by each source's signature (and " +
        'address allowlist), the read and admin routes by IAM (SigV4) and the resource policy',
    );
    acknowledge(
      this.api,
      'AwsSolutions-APIG4',
      "The webhook route is public by design and authenticated by the sender's signature in the function; every " +
        'other route is IAM-authorised',
    );
    acknowledge(
      this.api.deploymentStage,
      'NIST.800.53.R5-APIGWCacheEnabledAndEncrypted',
      'No stage cache: webhook POSTs are never cacheable, and operators must read the current state',
    );
    if (props.firewall === false) {
      const reason =
        'Web ACL switched off for this deployment (paritysync:waf); see the README security notes';
      acknowledge(this.api.deploymentStage, 'AwsSolutions-APIG3', reason);
      acknowledge(this.api.deploymentStage, 'NIST.800.53.R5-APIGWAssociatedWithWAF', reason);
    }
    if (reserved === 'none') {
      acknowledge(
        this.function,
        'NIST.800.53.R5-LambdaConcurrency',
        'No reservation for this deployment (paritysync:ingestReservedConcurrency=none): the account quota ' +
          'leaves no room for one; the stage throttling still bounds the rate',
      );
    }
    if (props.tracing === false) {
      acknowledge(
        this.api.deploymentStage,
        'Serverless-APIGWXrayEnabled',
        'Tracing switched off for this deployment (paritysync:tracing)',
      );
    }
    acknowledge(
      this.api.deploymentStage,
      'NIST.800.53.R5-APIGWSSLEnabled',
      'Every integration is a Lambda proxy inside AWS; there is no HTTP backend to present a client certificate to',
    );

    for (const response of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(response.id, {
        type: response.type,
        ...(response.statusCode ? { statusCode: response.statusCode } : {}),
        responseHeaders: { 'Content-Type': "'application/json'", ...response.headers },
        templates: { 'application/json': `{"error":"${response.error}","message":${response.message}}` },
      });
    }
  }

  /** The URL a source's provider is configured to deliver to. */
  webhookUrl(sourceId: string): string {
    return this.api.urlForPath(`/webhooks/${sourceId}`);
  }
}

/** The resource-policy path of every webhook route, for any stage. */
export const WEBHOOK_ROUTES_RESOURCE = 'execute-api:/*/POST/webhooks/*';

/**
 * Everyone may invoke the webhook route; a source with allowed address ranges (its own `allowedCidrs` or its
 * kind's published range) additionally gets a Deny for every other address on its route. An explicit Deny
 * wins over the Allow, so API Gateway answers 403 without invoking the function.
 *
 * The public Allow names the webhook route only, never `execute-api:/*`. The same API also serves
 * IAM-authorised (SigV4) routes, and API Gateway combines a resource policy with IAM authorisation like this:
 * a caller in the API's own account is allowed when its identity policy OR the resource policy allows it; a
 * caller in another account only when both do. An Allow for every principal on every path would therefore
 * let any principal of this account read guest-linked data without an identity policy granting
 * `execute-api:Invoke`, and let any AWS account in the world call the routes by signing with its own
 * credentials. With the Allow scoped to the webhook route, the resource policy says nothing about the other
 * routes: callers in this account need an identity policy that allows `execute-api:Invoke` on them, and
 * callers in other accounts are refused. Once the configuration names read or admin roles (`apiAccess`), those
 * routes are allowed to the roles and denied to every other principal; see `operatorAccessStatements`.
 */
export function resourcePolicy(config: ParitySyncConfig): iam.PolicyDocument {
  const document = new iam.PolicyDocument({
    statements: [invokeStatement(iam.Effect.ALLOW, [WEBHOOK_ROUTES_RESOURCE], { sid: 'AllowWebhooks' })],
  });
  for (const source of config.sources) {
    const cidrs = effectiveAllowedCidrs(source);
    if (!cidrs || cidrs.length === 0) continue;
    document.addStatements(
      invokeStatement(iam.Effect.DENY, webhookRouteResources(source.id), {
        conditions: { NotIpAddress: { 'aws:SourceIp': [...cidrs] } },
      }),
    );
  }
  document.addStatements(...operatorAccessStatements(config.apiAccess));
  return document;
}

/** A resource-policy statement on calling `resources`, about every principal that `conditions` leave in. */
function invokeStatement(
  effect: iam.Effect,
  resources: string[],
  { sid, conditions }: { readonly sid?: string; readonly conditions?: Record<string, unknown> } = {},
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    ...(sid === undefined ? {} : { sid }),
    effect,
    principals: [new iam.AnyPrincipal()],
    actions: ['execute-api:Invoke'],
    resources,
    ...(conditions === undefined ? {} : { conditions }),
  });
}

/**
 * A source's route as the resource policy sees it. A REST API also routes `/webhooks/<id>/` to the
 * `{sourceId}` resource, and the policy matches the requested path, not the resource: every variant is named
 * so that a trailing slash cannot step around the allowlist.
 */
export function webhookRouteResources(sourceId: string): string[] {
  const route = `execute-api:/*/POST/webhooks/${sourceId}`;
  return [route, `${route}/`, `${route}/*`];
}

/** Read routes are the GETs; every other method changes something and is an admin route. */
export function operatorRouteResources(kind: 'read' | 'admin'): string[] {
  return READ_API_ROUTES.filter((route) => (route.method === 'GET') === (kind === 'read')).map(
    (route) => `execute-api:/*/${route.method}${route.resource.replace(/\{[^}]+\}/g, '*')}`,
  );
}

/**
 * The configured roles may call their routes, and every other principal is denied them whatever its identity
 * policy says (an explicit Deny wins). The admin roles may also read. A list left empty adds nothing: those
 * routes stay with IAM alone, as `resourcePolicy` describes.
 */
function operatorAccessStatements(access: ApiAccess): iam.PolicyStatement[] {
  const statements: iam.PolicyStatement[] = [];
  const restrict = (sid: string, roles: readonly string[], resources: string[]) => {
    statements.push(
      invokeStatement(iam.Effect.ALLOW, resources, {
        sid: `Allow${sid}`,
        conditions: { StringLike: { 'aws:PrincipalArn': [...roles] } },
      }),
      invokeStatement(iam.Effect.DENY, resources, {
        sid: `DenyOthers${sid}`,
        conditions: { StringNotLike: { 'aws:PrincipalArn': [...roles] } },
      }),
    );
  };
  if (access.readRoles.length > 0) {
    restrict('Readers', [...access.readRoles, ...access.adminRoles], operatorRouteResources('read'));
  }
  if (access.adminRoles.length > 0) {
    restrict('Admins', access.adminRoles, operatorRouteResources('admin'));
  }
  return statements;
}

function accessLogFormat(): apigateway.AccessLogFormat {
  const F = apigateway.AccessLogField;
  // Metadata only. The sender address and user agent are the provider's servers, not guests.
  return apigateway.AccessLogFormat.custom(
    JSON.stringify({
      requestId: F.contextRequestId(),
      extendedRequestId: F.contextExtendedRequestId(),
      requestTimeEpoch: F.contextRequestTimeEpoch(),
      sourceIp: F.contextIdentitySourceIp(),
      userAgent: F.contextIdentityUserAgent(),
      httpMethod: F.contextHttpMethod(),
      resourcePath: F.contextResourcePath(),
      path: F.contextPath(),
      status: F.contextStatus(),
      responseLength: F.contextResponseLength(),
      responseLatency: F.contextResponseLatency(),
      integrationStatus: F.contextIntegrationStatus(),
      integrationLatency: F.contextIntegrationLatency(),
      errorResponseType: F.contextErrorResponseType(),
    }),
  );
}
