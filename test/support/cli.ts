import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(__dirname, '../..');
/** The bundle's external packages resolve from the project's node_modules, as they do under tsx. */
const NODE_MODULES = join(root, 'node_modules');

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
          NODE_PATH: NODE_MODULES,
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
