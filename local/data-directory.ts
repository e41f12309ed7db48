import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigurationError } from '../lambdas/shared/errors';

/** Where the local runtime keeps its state when asked to: one folder per emulator, and a lock. */
export interface DataDirectoryLayout {
  readonly root: string;
  /** DynamoDB Local's database (`-dbPath`). */
  readonly dynamodb: string;
  /** The SQS emulator's snapshot and journal (see queue-journal.ts). */
  readonly queues: string;
}

export function dataDirectoryLayout(root: string): DataDirectoryLayout {
  return { root, dynamodb: join(root, 'dynamodb'), queues: join(root, 'sqs') };
}

/**
 * Checks a data directory named on the command line or in the environment, creating it if missing, and returns
 * its absolute path: DynamoDB Local resolves a relative one against its own working directory.
 */
export function prepareDataDirectory(raw: string, origin: string, cwd: string = process.cwd()): string {
  const fail = (message: string, cause?: unknown) =>
    new ConfigurationError(
      `Invalid data directory for the local runtime:\n  - ${origin}=${JSON.stringify(raw)}: ${message}`,
      [{ path: origin, message }],
      { cause },
    );
  if (raw.trim() === '') throw fail('must name a directory, e.g. .paritysync/data');
  const path = resolve(cwd, raw);
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw fail(`${path} (or a folder on its way) is a file, not a directory; name a directory`, error);
    }
    throw fail(`${path} cannot be created (${code}); name a directory you can write to`, error);
  }
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw fail(
      `${path} is not readable and writable by this user; fix its permissions or name another`,
      error,
    );
  }
  return path;
}

const LOCK_FILE = 'paritysync.lock';

/**
 * Claims the directory for this process: two runtimes writing one DynamoDB database and one queue journal would
 * corrupt both. A lock left by a process that no longer runs (killed, crashed) is taken over. Returns the release.
 */
export function lockDataDirectory(root: string): () => void {
  const path = join(root, LOCK_FILE);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 1) throw error;
      const holder = Number.parseInt(readIfPresent(path), 10);
      if (Number.isInteger(holder) && isRunning(holder)) {
        const message =
          `${root} is in use by process ${holder}${holder === process.pid ? ' (this one)' : ''}, another local ` +
          `runtime. Stop it, or use another data directory. If no such runtime runs, delete ${path}.`;
        throw new ConfigurationError(message, [{ path: 'data directory', message }]);
      }
      rmSync(path, { force: true });
    }
  }
  const release = () => {
    process.off('exit', release);
    rmSync(path, { force: true });
  };
  process.on('exit', release);
  return release;
}

function readIfPresent(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
