import * as path from 'node:path';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ParitySyncConfig } from '../lambdas/config/schema';
import { DEFAULT_METRICS_NAMESPACE, METRIC_SERVICES } from '../lambdas/shared/metric-names';
import { lambdaBundling } from './lambda-bundling';

/** Environment variables every ParitySync function sets besides its own. */
const COMMON_ENVIRONMENT: Readonly<Record<string, string>> = {
  POWERTOOLS_LOG_LEVEL: 'INFO',
  NODE_OPTIONS: '--enable-source-maps',
};

export interface ParitySyncFunctionProps {
  /** The validated configuration, compiled into the bundle (see `lambdaBundling`), never set as a variable. */
  readonly config: ParitySyncConfig;
  /** The handler module; it must export `handler`. */
  readonly entry: string;
  /** POWERTOOLS_SERVICE_NAME: the logger's `service` and the `service` dimension of the function's metrics. */
  readonly serviceName: string;
  /**
   * Table names and queue URLs, under the variable names the handler reads them from.
   * @default no variables besides the shared ones
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Whether the function emits Powertools metrics, which sets POWERTOOLS_METRICS_NAMESPACE to the namespace
   * the dashboard and alarms read.
   * @default true
   */
  readonly metrics?: boolean;
  /** Memory in MB, which also sets the function's share of CPU. */
  readonly memorySize: number;
  readonly timeout: Duration;
  /**
   * Executions reserved for the function, which are also the most it runs at once.
   * @default no reservation: the function draws on the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Where an asynchronous invocation goes once it has failed `retryAttempts` more times.
   * @default no dead-letter queue: Lambda drops the event
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Lambda's retries of a failed asynchronous invocation (0-2).
   * @default 2, Lambda's own
   */
  readonly retryAttempts?: number;
  /**
   * Retention of the function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Keep the log group when the stack is deleted. Set `false` only for throw-away development stacks.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * Encrypts the function's log group: logs may carry guest ids.
   * @default CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * X-Ray active tracing, and POWERTOOLS_TRACE_ENABLED for the handlers that trace their SDK calls
   * (`bootstrapTracedFunction`).
   * @default true
   */
  readonly tracing?: boolean;
}

/** What a construct's own props say about the one function it deploys. */
export interface HostedFunctionProps {
  readonly config: ParitySyncConfig;
  readonly logRetention?: logs.RetentionDays;
  readonly retain?: boolean;
  /** @default true */
  readonly tracing?: boolean;
  /** @default the construct's handler in this project */
  readonly entry?: string;
}

/**
 * The function props a construct passes on from its own: the configuration, the log settings, and the handler,
 * `lambdas/<handlerFolder>/handler.ts` unless `entry` names another; the folder names the metric service too.
 */
export function hostedFunctionProps(
  props: HostedFunctionProps,
  handlerFolder: keyof typeof METRIC_SERVICES,
): Pick<ParitySyncFunctionProps, 'config' | 'entry' | 'logRetention' | 'retain' | 'tracing' | 'serviceName'> {
  return {
    config: props.config,
    entry: props.entry ?? path.join(__dirname, '..', 'lambdas', handlerFolder, 'handler.ts'),
    logRetention: props.logRetention,
    retain: props.retain,
    tracing: props.tracing,
    serviceName: METRIC_SERVICES[handlerFolder],
  };
}

/**
 * A ParitySync function: Node.js 24 on arm64, bundled by esbuild with the configuration compiled in, logging to
 * a log group of its own whose retention and removal the stack decides (not Lambda's default group, which
 * never expires and outlives the stack), with the Powertools settings every handler reads.
 *
 * The log group stands beside the function as `<id>Logs` rather than inside it: that is the construct path, and
 * so the logical id, the log groups of already deployed stacks have.
 */
export class ParitySyncFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: ParitySyncFunctionProps) {
    const {
      config,
      serviceName,
      environment,
      metrics,
      logRetention,
      retain,
      logEncryptionKey,
      tracing,
      ...rest
    } = props;
    const traced = tracing ?? true;
    super(scope, id, {
      ...rest,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: traced ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      bundling: lambdaBundling(config),
      logGroup: new logs.LogGroup(scope, `${id}Logs`, {
        retention: logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: (retain ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        ...(logEncryptionKey ? { encryptionKey: logEncryptionKey } : {}),
      }),
      environment: {
        ...environment,
        POWERTOOLS_SERVICE_NAME: serviceName,
        ...((metrics ?? true) ? { POWERTOOLS_METRICS_NAMESPACE: DEFAULT_METRICS_NAMESPACE } : {}),
        POWERTOOLS_TRACE_ENABLED: String(traced),
        ...COMMON_ENVIRONMENT,
      },
    });

    const acknowledge = (id: string, reason: string) => Validations.of(this).acknowledge({ id, reason });
    acknowledge(
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AWSLambdaBasicExecutionRole grants only logs:CreateLogGroup, CreateLogStream and PutLogEvents; the ' +
        "function's own grants are least-privilege inline statements beside it",
    );
    acknowledge(
      'NIST.800.53.R5-IAMNoInlinePolicy',
      "Each function's role carries one inline policy of grants on exactly its own tables, queues, secrets and " +
        'key; a managed policy would be shared by nothing and reviewed the same way',
    );
    acknowledge(
      'NIST.800.53.R5-LambdaInsideVPC',
      'The functions reach only AWS service endpoints (DynamoDB, SQS, Secrets Manager, KMS) and HTTPS provider ' +
        'APIs, with IAM and TLS; a VPC would add NAT or endpoints and cold-start cost without narrowing access',
    );
    if (!traced) {
      acknowledge(
        'Serverless-LambdaTracing',
        'Tracing switched off for this deployment (paritysync:tracing)',
      );
    } else {
      acknowledge(
        'AwsSolutions-IAM5[Resource::*]',
        "Active tracing's xray:PutTraceSegments and xray:PutTelemetryRecords take no resource but *; every " +
          'other statement names its resources',
      );
    }
    if (props.deadLetterQueue === undefined) {
      const reason =
        'Invoked synchronously (API Gateway) or by an SQS event source mapping, never asynchronously: a Lambda ' +
        "dead-letter queue only catches asynchronous invocations. Failed events go to the events queue's DLQ";
      acknowledge('Serverless-LambdaDLQ', reason);
      acknowledge('NIST.800.53.R5-LambdaDLQ', reason);
    }
  }
}
