import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const TSX = join(root, 'node_modules', '.bin', 'tsx');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the operations CLI as an operator does (`tsx bin/paritysync.ts …`) in a child process, with exactly the
 * environment given (plus PATH), and returns its exit code and output. Never rejects on a failing command.
 */
export function runCli(
  args: readonly string[],
  options: { readonly env?: Readonly<Record<string, string>>; readonly timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      TSX,
      ['bin/paritysync.ts', ...args],
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
