import { Sha256 } from '@aws-crypto/sha256-js';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { PlannedRun } from '../../lambdas/reconcile/fanout';
import type { ReconcileRequest } from '../../lambdas/reconcile/service';

/** What the reconcile function answers a manual invocation: the run it planned (a manual run is never skipped). */
export type PlannedRunAnswer = PlannedRun & { readonly outcome: 'planned' };

import { fieldsOf } from '../../local/json-object';
import {
  AccessDeniedError,
  CredentialsRefusedError,
  NoCredentialsError,
  NoRegionError,
  ReconcileFunctionError,
  RunInProgressError,
  StackNotFoundError,
  StackOutputMissingError,
  TimedOutError,
  UnreachableError,
} from './errors';
import type { RequestSigner } from './http';

/** The stack outputs the CLI reads (lib/paritysync-stack.ts). */
export const READ_API_OUTPUT = 'ReadApiUrl';
export const RECONCILE_FUNCTION_OUTPUT = 'ReconcileFunctionName';
export const DASHBOARD_OUTPUT = 'DashboardName';

/** Lambda's longest run, and a minute for the answer to come back. */
const INVOKE_TIMEOUT_SECONDS = 15 * 60 + 60;
/** How long the TCP/TLS connection to an AWS endpoint may take. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface StackOptions {
  readonly stack: string;
  readonly region?: string;
  readonly profile?: string;
  readonly timeoutSeconds: number;
}

export interface DeployedStack {
  readonly stack: string;
  readonly region: string;
  readonly readApiUrl: string;
  /** The region the read API signs for: its host's, else the stack's. */
  readonly apiRegion: string;
  readonly signer: RequestSigner;
  /** The stack's CloudWatch dashboard in the AWS console, when the stack names one. */
  readonly dashboardUrl?: string;
  /**
   * Invokes the reconcile function synchronously and returns the run it planned: the workers do the run, which
   * the read API follows. `onWait` is told every second how long the planning has taken.
   */
  reconcile(request: ReconcileRequest, onWait?: (elapsedSeconds: number) => void): Promise<PlannedRunAnswer>;
}

/**
 * Finds a deployed stack's read API and reconcile function from its outputs, with credentials from the standard
 * chain (environment, shared files and SSO, web identity, container and instance roles).
 */
export async function openStack(options: StackOptions): Promise<DeployedStack> {
  const credentials = fromNodeProviderChain({
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    timeout: CONNECT_TIMEOUT_MS,
  });
  const clientConfig = {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    credentials,
  };
  const cloudFormation = new CloudFormationClient({
    ...clientConfig,
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: options.timeoutSeconds * 1000,
    },
  });

  let region: string;
  try {
    region = await cloudFormation.config.region();
  } catch {
    throw new NoRegionError();
  }
  if (!region) throw new NoRegionError();
  await resolveCredentials(credentials, options);

  const describeFailure = (error: unknown) =>
    awsFailure(error, {
      service: 'CloudFormation',
      action: 'cloudformation:DescribeStacks',
      resource: `arn:aws:cloudformation:${region}:<account>:stack/${options.stack}/*`,
      timeoutSeconds: options.timeoutSeconds,
      profile: options.profile,
      specific: () =>
        error instanceof Error && /does not exist/.test(error.message)
          ? new StackNotFoundError(options.stack, region)
          : undefined,
    });
  let outputs: ReadonlyMap<string, string>;
  try {
    const answer = await cloudFormation.send(new DescribeStacksCommand({ StackName: options.stack }), {
      abortSignal: AbortSignal.timeout(options.timeoutSeconds * 1000),
    });
    const [stack] = answer.Stacks ?? [];
    if (!stack) throw new StackNotFoundError(options.stack, region);
    outputs = new Map(
      (stack.Outputs ?? []).flatMap((output) =>
        output.OutputKey && output.OutputValue ? [[output.OutputKey, output.OutputValue] as const] : [],
      ),
    );
  } catch (error) {
    throw error instanceof StackNotFoundError ? error : describeFailure(error);
  } finally {
    cloudFormation.destroy();
  }

  const readApiUrl = outputs.get(READ_API_OUTPUT);
  if (readApiUrl === undefined) {
    throw new StackOutputMissingError(options.stack, region, READ_API_OUTPUT, [...outputs.keys()]);
  }
  const apiRegion =
    /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(new URL(readApiUrl).hostname)?.[1] ?? region;
  const signer = new SignatureV4({ service: 'execute-api', region: apiRegion, credentials, sha256: Sha256 });

  const dashboardName = outputs.get(DASHBOARD_OUTPUT);
  return {
    stack: options.stack,
    region,
    readApiUrl,
    apiRegion,
    ...(dashboardName === undefined ? {} : { dashboardUrl: dashboardUrl(region, dashboardName) }),
    signer: async (request) => {
      const query: Record<string, string | string[]> = {};
      for (const [name, value] of request.url.searchParams) {
        const previous = query[name];
        query[name] = previous === undefined ? value : [...[previous].flat(), value];
      }
      const signed = await signer.sign({
        method: request.method,
        protocol: request.url.protocol,
        hostname: request.url.hostname,
        ...(request.url.port === '' ? {} : { port: Number(request.url.port) }),
        path: request.url.pathname,
        query,
        headers: { ...request.headers, host: request.url.host },
        ...(request.body === undefined ? {} : { body: request.body }),
      });
      // fetch sends the same Host itself and refuses to be given one.
      const { host: _host, ...headers } = signed.headers;
      return headers;
    },
    async reconcile(request, onWait) {
      const functionName = outputs.get(RECONCILE_FUNCTION_OUTPUT);
      if (functionName === undefined) {
        throw new StackOutputMissingError(options.stack, region, RECONCILE_FUNCTION_OUTPUT, [
          ...outputs.keys(),
        ]);
      }
      return invokeReconcile(functionName, request, { ...clientConfig, region }, options, onWait);
    },
  };
}

/** The dashboard's page in the AWS console of the stack's own region. */
export function dashboardUrl(region: string, dashboardName: string): string {
  return (
    `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}` +
    `#dashboards/dashboard/${encodeURIComponent(dashboardName)}`
  );
}

async function resolveCredentials(
  provider: AwsCredentialIdentityProvider,
  options: StackOptions,
): Promise<void> {
  try {
    await provider();
  } catch (error) {
    throw new NoCredentialsError(error instanceof Error ? error.message : String(error), options.profile);
  }
}

async function invokeReconcile(
  functionName: string,
  request: ReconcileRequest,
  clientConfig: { region: string; profile?: string; credentials: AwsCredentialIdentityProvider },
  options: StackOptions,
  onWait: ((elapsedSeconds: number) => void) | undefined,
): Promise<PlannedRunAnswer> {
  // One attempt: a retry after a slow answer would start a second run (or be throttled by concurrency 1).
  const lambda = new LambdaClient({
    ...clientConfig,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: INVOKE_TIMEOUT_SECONDS * 1000 },
  });
  const started = Date.now();
  const ticker = onWait
    ? setInterval(() => onWait(Math.round((Date.now() - started) / 1000)), 1000)
    : undefined;
  try {
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        Payload: new TextEncoder().encode(JSON.stringify({ trigger: 'manual', ...request })),
        LogType: 'Tail',
      }),
      { abortSignal: AbortSignal.timeout(INVOKE_TIMEOUT_SECONDS * 1000) },
    );
    const payload = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
    if (answer.FunctionError) {
      const failure = fieldsOf(payload);
      throw new ReconcileFunctionError(
        functionName,
        String(failure.errorType ?? answer.FunctionError),
        String(failure.errorMessage ?? payload),
        answer.LogResult ? Buffer.from(answer.LogResult, 'base64').toString('utf8') : undefined,
      );
    }
    return JSON.parse(payload) as PlannedRunAnswer;
  } catch (error) {
    if (error instanceof ReconcileFunctionError) throw error;
    throw awsFailure(error, {
      service: 'Lambda',
      action: 'lambda:InvokeFunction',
      resource: `arn:aws:lambda:${clientConfig.region}:<account>:function:${functionName}`,
      timeoutSeconds: INVOKE_TIMEOUT_SECONDS,
      profile: options.profile,
      specific: () =>
        error instanceof Error && error.name === 'TooManyRequestsException'
          ? new RunInProgressError(functionName)
          : undefined,
    });
  } finally {
    if (ticker) clearInterval(ticker);
    lambda.destroy();
  }
}

const CREDENTIAL_ERRORS =
  /^(ExpiredToken(Exception)?|InvalidClientTokenId|UnrecognizedClient(Exception)?|SignatureDoesNotMatch|InvalidSignatureException|IncompleteSignature|MissingAuthenticationToken)$/;

/** An AWS SDK failure as the CLI reports it: what to fix, naming the action and resource when IAM refused. */
function awsFailure(
  error: unknown,
  context: {
    readonly service: string;
    readonly action: string;
    readonly resource: string;
    readonly timeoutSeconds: number;
    readonly profile: string | undefined;
    /** A refusal specific to the call (stack not found, throttled run), when it is one. */
    readonly specific: () => Error | undefined;
  },
): Error {
  const specific = context.specific();
  if (specific) return specific;
  if (!(error instanceof Error)) return new Error(String(error));
  const message = error.message;
  if (/AccessDenied/.test(error.name) || /not authorized to perform/.test(message)) {
    const resource = /on resource: (arn:\S+?)(?: because .*| with an explicit deny.*)?$/.exec(message)?.[1];
    return new AccessDeniedError(context.action, resource ?? context.resource, message);
  }
  if (CREDENTIAL_ERRORS.test(error.name) || error.name === 'CredentialsProviderError') {
    return new CredentialsRefusedError(context.service, message, context.profile);
  }
  if (error.name === 'TimeoutError' || error.name === 'AbortError') {
    return context.action === 'lambda:InvokeFunction'
      ? new TimedOutError(
          context.service,
          context.timeoutSeconds,
          "The function's log says where the run stopped.",
        )
      : new TimedOutError(context.service, context.timeoutSeconds);
  }
  const code = (error as { code?: string }).code;
  if (code !== undefined && /^E[A-Z]+/.test(code)) return new UnreachableError(context.service, code);
  return error;
}
