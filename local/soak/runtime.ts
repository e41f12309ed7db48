import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { CONSUMER_START_PATH, CONSUMER_STOP_PATH } from '../start';

/**
 * The local runtime as a child process: the program `npm start` runs, started directly with tsx's loader so that
 * the process the soak kills is the runtime itself (npm and the tsx launcher are separate processes, and killing
 * them would orphan the runtime rather than crash it). Linux only: pids and memory are read from /proc.
 */
export interface RuntimeProcess {
  readonly pid: number;
  readonly url: string;
  readonly eventsQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** Where its stdout and stderr were written. */
  readonly logFiles: readonly string[];
  readonly exited: Promise<void>;
  /** The Java process of the DynamoDB Local it supervises, if one runs now. */
  dynamodbPid(): number | undefined;
  /** SIGTERM, then SIGKILL if it has not gone within the grace time. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export interface RuntimeOptions {
  readonly repository: string;
  readonly dataDirectory: string;
  readonly port: number;
  /** Instance number, for the log file names. */
  readonly instance: number;
  readonly logDirectory: string;
  readonly startTimeoutMs: number;
}

export async function startRuntime(options: RuntimeOptions): Promise<RuntimeProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'local/start.ts', '--data-dir', options.dataDirectory],
    {
      cwd: options.repository,
      env: {
        ...process.env,
        PORT: String(options.port),
        // The simulator and its demo webhooks would add traffic the soak does not account for.
        PARITYSYNC_DEMO: 'off',
        // Reconciliation polls the simulator, which is off.
        PARITYSYNC_RECONCILE_SECONDS: '0',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('The local runtime could not be started');
  const stdoutFile = join(options.logDirectory, `runtime-${options.instance}.stdout.log`);
  const stderrFile = join(options.logDirectory, `runtime-${options.instance}.stderr.log`);
  const logs = [
    child.stdout?.pipe(createWriteStream(stdoutFile)),
    child.stderr?.pipe(createWriteStream(stderrFile)),
  ];
  // Exited once its output is on disk too, so that the log files can be read in full.
  const exited = Promise.all([
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    }),
    ...logs.map((log) => (log ? finished(log).catch(() => undefined) : undefined)),
  ]).then(() => undefined);

  const banner = await waitForBanner(child, exited, options.startTimeoutMs, stderrFile);
  const field = (label: string) => {
    const found = new RegExp(`^${label}:\\s+(\\S+)`, 'm').exec(banner)?.[1];
    if (found === undefined)
      throw new Error(`The runtime's start-up output has no "${label}" line:\n${banner}`);
    return found;
  };
  const url = /ParitySync edge listening on (\S+)/.exec(banner)?.[1] ?? `http://127.0.0.1:${options.port}`;

  const stop = async (graceMs = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(force);
  };
  return {
    pid,
    url,
    eventsQueueUrl: field('Events queue'),
    deadLetterQueueUrl: field('Dead letters'),
    logFiles: [stdoutFile, stderrFile],
    exited,
    dynamodbPid: () => childProcesses(pid).find((p) => p.command.includes('DynamoDBLocal.jar'))?.pid,
    stop,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function waitForBanner(
  child: ChildProcess,
  exited: Promise<void>,
  timeoutMs: number,
  stderrFile: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`The local runtime was not ready within ${timeoutMs} ms. Its output:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      // The banner ends with this line; everything the soak reads from it is printed before.
      if (output.includes('Stop with Ctrl+C.')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(output);
      }
    };
    child.stdout?.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(
        new Error(
          `The local runtime exited during start-up (status ${child.exitCode ?? child.signalCode}). ` +
            `Its output:\n${output}\n${readIfPresent(stderrFile)}`,
        ),
      );
    });
  });
}

export interface ProcessInfo {
  readonly pid: number;
  readonly command: string;
}

/** Direct children of `parent`, from /proc. */
export function childProcesses(parent: number): ProcessInfo[] {
  const children: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readIfPresent(`/proc/${name}/stat`);
    // The command name is in parentheses and may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) !== parent) continue;
    children.push({
      pid: Number(name),
      command: readIfPresent(`/proc/${name}/cmdline`).replaceAll('\0', ' '),
    });
  }
  return children;
}

/** Whether a process runs (a zombie, dead but not yet reaped, does not). */
export function isAlive(pid: number): boolean {
  const stat = readIfPresent(`/proc/${pid}/stat`);
  if (stat === '') return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

/** Resident memory in MiB, or undefined once the process is gone. */
export function residentMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(readIfPresent(`/proc/${pid}/status`))?.[1];
  return kib === undefined ? undefined : Math.round(Number(kib) / 1024);
}

/**
 * Asks the runtime to disable (`stop`) or enable (`start`) its consumer. Stopping waits for the batch in flight,
 * which a slow DynamoDB can stretch to its SDK bounds for every record.
 */
export async function switchConsumer(url: string, to: 'stop' | 'start'): Promise<void> {
  const path = to === 'stop' ? CONSUMER_STOP_PATH : CONSUMER_START_PATH;
  const response = await fetch(`${url}${path}`, { method: 'POST', signal: AbortSignal.timeout(120_000) });
  if (response.status !== 200) {
    throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  }
}

function readIfPresent(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
