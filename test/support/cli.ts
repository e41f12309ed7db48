import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { build } from 'esbuild';
import { runParitySync } from '../../bin/cli/program';

const root = resolve(__dirname, '../..');
/** The bundle's external packages resolve from the project's node_modules, as they do under tsx. */
const NODE_MODULES = join(root, 'node_modules');
const DEFAULT_TIMEOUT_MS = 60_000;

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** The whole environment of the run: nothing of the test process's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long the run may take before it is reported with code -1. */
  readonly timeoutMs?: number;
}

/** A stream that keeps what is written to it, as a pipe gives it to its reader: never a terminal. */
function collector(): { readonly stream: Writable; text(): string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      decodeStrings: false,
      write(chunk: string | Buffer, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    text: () => chunks.join(''),
  };
}

/**
 * Runs the operations CLI in this process, as the binary runs it (runParitySync), with exactly the environment
 * given, and returns its exit code and output. Never rejects on a failing command: the CLI reports it on stderr
 * with code 1 as the binary does. A command that serves until stopped (console) stops once it has started.
 *
 * The AWS SDK reads its settings (credentials, region, endpoints) from process.env, not from the environment
 * given: a run against a deployed stack belongs in runCliProcess.
 */
export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const stdout = collector();
  const stderr = collector();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    runParitySync(args, { stdout: stdout.stream, stderr: stderr.stream, env: { ...options.env } }).catch(
      (error: unknown) => {
        // runParitySync reports every failure itself: this is a fault of the CLI, shown as Node shows one.
        stderr.stream.write(`${error instanceof Error ? error.stack : String(error)}\n`);
        return 1;
      },
    ),
    new Promise<number>((timedOut) => {
      timer = setTimeout(() => {
        stderr.stream.write(`\n(no exit within ${timeoutMs} ms)\n`);
        timedOut(-1);
      }, timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

let bundled: Promise<string> | undefined;

/**
 * bin/paritysync.ts compiled once per test process: the same code `tsx bin/paritysync.ts` runs, without paying
 * tsx's start-up for every command a test runs. Packages stay external, loaded from node_modules as under tsx.
 */
function cliBundle(): Promise<string> {
  if (bundled === undefined) {
    const outfile = join(mkdtempSync(join(tmpdir(), 'paritysync-cli-')), 'cli.cjs');
    bundled = build({
      entryPoints: [join(root, 'bin', 'paritysync.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    }).then(() => outfile);
  }
  return bundled;
}

/**
 * Runs the operations CLI as an operator does, the binary in a child process with exactly the environment given
 * (plus PATH), and returns its exit code and output. Never rejects on a failing command. For what only a process
 * shows (its exit code, its own streams) and for the AWS SDK, which reads its settings from the process's
 * environment and ~/.aws; a few hundred milliseconds of CPU each, which runCli saves.
 */
export async function runCliProcess(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const cli = await cliBundle();
  return new Promise((done) => {
    execFile(
      process.execPath,
      [cli, ...args],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_PATH: NODE_MODULES,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...options.env,
        },
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}
