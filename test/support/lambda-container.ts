import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import type { DeployedFunction } from './deployed-stack';

const BOOTSTRAP = join(__dirname, 'lambda-bootstrap.mjs');
const projectModules = join(__dirname, '..', '..', 'node_modules');
const OUTPUT_TAIL_CHARS = 64 * 1024;

/** Variables Lambda sets itself and refuses in a function's configuration. */
const RESERVED_VARIABLES = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_DEFAULT_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_RUNTIME_API',
  'AWS_REGION',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'LAMBDA_RUNTIME_DIR',
  'LAMBDA_TASK_ROOT',
]);

/** Lambda's limit on a function's variables, names and values together. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

export function environmentBytes(variables: Readonly<Record<string, string>>): number {
  return Object.entries(variables).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
    0,
  );
}

/** Where a function's SDK clients are sent on this machine. */
export interface LocalEndpoints {
  readonly region: string;
  readonly dynamodb: string;
  readonly sqs: string;
  readonly secretsManager: string;
  /** Every other service: a stub that refuses and records, so nothing can reach a real AWS endpoint. */
  readonly anyOtherService: string;
}

/**
 * The process environment Lambda would give the function: its own variables as resolved from the template, what
 * the runtime sets (region, function name, handler), and placeholder credentials with endpoints on loopback in
 * place of the execution role and AWS's endpoints. Nothing of the developer's environment is passed on: no real
 * credentials, no profile, no shared config file.
 */
export function lambdaEnvironment(
  fn: DeployedFunction,
  variables: Readonly<Record<string, string>>,
  endpoints: LocalEndpoints,
): Record<string, string> {
  const reserved = Object.keys(variables).filter((name) => RESERVED_VARIABLES.has(name));
  if (reserved.length > 0) {
    throw new Error(
      `${fn.logicalId} sets ${reserved.join(', ')}, which Lambda reserves and refuses to deploy`,
    );
  }
  const nowhere = join(fn.codeDirectory, '..', 'no-such-aws-config');
  return {
    ...variables,
    AWS_REGION: endpoints.region,
    AWS_DEFAULT_REGION: endpoints.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.logicalId}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'local',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    LAMBDA_TASK_ROOT: fn.codeDirectory,
    _HANDLER: fn.handler,
    TZ: 'UTC',
    LANG: 'en_US.UTF-8',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: 'local',
    AWS_CONFIG_FILE: nowhere,
    AWS_SHARED_CREDENTIALS_FILE: nowhere,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: endpoints.anyOtherService,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
    // This machine's Node is older than Lambda's; the SDK's notice about that says nothing about the function.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/**
 * Lambda's Node.js runtimes provide the AWS SDK v3 (the bundles leave `@aws-sdk/*` out) and nothing else. A
 * `node_modules` holding only `@aws-sdk` next to the code directories gives the same here, and the code's other
 * imports must be in the bundle. Refuses to run where a `node_modules` further up would offer more.
 */
export function provideRuntimeSdk(assemblyDirectory: string): void {
  for (let dir = dirname(assemblyDirectory); dir !== parse(dir).root; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) {
      throw new Error(
        `${join(dir, 'node_modules')} would let a bundle import packages that Lambda does not provide; ` +
          'synthesise into a directory outside any Node.js project',
      );
    }
  }
  const scope = join(assemblyDirectory, 'node_modules', '@aws-sdk');
  mkdirSync(dirname(scope), { recursive: true });
  if (!existsSync(scope)) symlinkSync(join(projectModules, '@aws-sdk'), scope, 'dir');
}

/** The function failed to start: what Lambda reports as an Init error. */
export class FunctionInitError extends Error {
  constructor(
    readonly functionId: string,
    readonly errorType: string,
    readonly errorMessage: string,
    readonly output: string,
  ) {
    super(`${functionId} failed to start: ${errorType}: ${errorMessage}\n${output.slice(-4000)}`);
    this.name = 'FunctionInitError';
  }
}

/** The handler threw, or the invocation timed out or crashed the process. */
export class FunctionInvocationError extends Error {
  constructor(
    readonly functionId: string,
    readonly errorType: string,
    readonly errorMessage: string,
    readonly output: string,
  ) {
    super(`${functionId} invocation failed: ${errorType}: ${errorMessage}\n${output.slice(-4000)}`);
    this.name = 'FunctionInvocationError';
  }
}

/** One warm execution environment of a function: started (cold start) once, invoked one event at a time. */
export interface FunctionContainer {
  readonly functionId: string;
  invoke(event: unknown): Promise<unknown>;
  /** What the function wrote to stdout and stderr so far (its logs and metrics), the latest part. */
  output(): string;
  stop(): Promise<void>;
}

type BootstrapMessage =
  | { type: 'ready' }
  | { type: 'init-error' | 'crash'; errorType: string; errorMessage: string }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; errorType: string; errorMessage: string };

/** Starts a function from its code directory in a process with exactly `environment`; resolves once it is ready. */
export async function startFunction(
  fn: DeployedFunction,
  environment: Readonly<Record<string, string>>,
  options: { readonly startTimeoutMs: number },
): Promise<FunctionContainer> {
  const child = spawn(process.execPath, [BOOTSTRAP, fn.codeDirectory, fn.handler], {
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const pending = new Map<number, (message: BootstrapMessage) => void>();
  let crashed: { errorType: string; errorMessage: string } | undefined;
  const failPending = (errorType: string, errorMessage: string) => {
    crashed ??= { errorType, errorMessage };
    for (const settle of pending.values()) settle({ type: 'crash', ...crashed });
    pending.clear();
  };

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new FunctionInitError(
          fn.logicalId,
          'Timeout',
          `not ready after ${options.startTimeoutMs} ms`,
          output,
        ),
      );
    }, options.startTimeoutMs);
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      // The exit can overtake the last piped output; let it drain before reporting.
      setImmediate(() =>
        reject(
          new FunctionInitError(fn.logicalId, 'Runtime.ExitError', `exited (${code ?? signal})`, output),
        ),
      );
    };
    child.once('exit', onExit);
    child.once('message', (message: BootstrapMessage) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      if (message.type === 'ready') resolve();
      else if (message.type === 'init-error' || message.type === 'crash') {
        reject(new FunctionInitError(fn.logicalId, message.errorType, message.errorMessage, output));
      } else reject(new Error(`${fn.logicalId} sent ${JSON.stringify(message)} before it was ready`));
    });
  });

  child.on('message', (message: BootstrapMessage) => {
    if (message.type === 'crash') failPending(message.errorType, message.errorMessage);
    else if (message.type === 'result' || message.type === 'error') pending.get(message.id)?.(message);
  });
  child.once('exit', (code, signal) => failPending('Runtime.ExitError', `exited (${code ?? signal})`));

  let nextId = 0;
  let previous: Promise<unknown> = Promise.resolve();
  const invokeNow = (event: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      if (crashed) {
        reject(new FunctionInvocationError(fn.logicalId, crashed.errorType, crashed.errorMessage, output));
        return;
      }
      const id = ++nextId;
      const timeoutMs = fn.timeoutSeconds * 1000;
      const timer = setTimeout(() => {
        pending.delete(id);
        child.kill('SIGKILL');
        reject(
          new FunctionInvocationError(fn.logicalId, 'Sandbox.Timedout', `after ${timeoutMs} ms`, output),
        );
      }, timeoutMs);
      pending.set(id, (message) => {
        clearTimeout(timer);
        pending.delete(id);
        if (message.type === 'result') resolve(message.result);
        else if (message.type === 'error' || message.type === 'crash') {
          reject(new FunctionInvocationError(fn.logicalId, message.errorType, message.errorMessage, output));
        }
      });
      const requestId = randomUUID();
      child.send({
        type: 'invoke',
        id,
        event,
        requestId,
        deadline: Date.now() + timeoutMs,
        invokedFunctionArn: `arn:aws:lambda:${environment.AWS_REGION}:000000000000:function:${fn.logicalId}`,
      });
    });

  return {
    functionId: fn.logicalId,
    // Lambda hands an execution environment one event at a time.
    invoke(event) {
      const result = previous.then(() => invokeNow(event));
      previous = result.catch(() => undefined);
      return result;
    },
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
