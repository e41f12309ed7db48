import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(__dirname, '../..');
/** Inside node_modules, so that the bundle's external packages resolve from the project as they do for tsx. */
const BUNDLE = join(root, 'node_modules', '.cache', 'paritysync-cli-test', `cli-${process.pid}.cjs`);

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let bundled: Promise<string> | undefined;

/**
 * bin/paritysync.ts compiled once per test process: the same code `tsx bin/paritysync.ts` runs, without paying
 * tsx's start-up for every command a test runs. Packages stay external, loaded from node_modules as under tsx.
 */
function cliBundle(): Promise<string> {
  bundled ??= build({
    entryPoints: [join(root, 'bin', 'paritysync.ts')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  }).then(() => BUNDLE);
  return bundled;
}

/**
 * Runs the operations CLI as an operator does in a child process, with exactly the environment given (plus
 * PATH), and returns its exit code and output. Never rejects on a failing command.
 */
export async function runCli(
  args: readonly string[],
  options: { readonly env?: Readonly<Record<string, string>>; readonly timeoutMs?: number } = {},
): Promise<CliRun> {
  const cli = await cliBundle();
  return new Promise((done) => {
    execFile(
      process.execPath,
      [cli, ...args],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...options.env,
        },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}
