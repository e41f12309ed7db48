import { Console } from 'node:console';

/**
 * What one run of the operations CLI reads and writes: the process's own streams and environment for the
 * binary, a caller's for a run in process. Nothing under bin/cli touches `process` itself, so that runs side by
 * side share nothing.
 */

/**
 * Where a run writes. A stream that says it is a terminal gets a progress bar, which cli-progress draws with
 * cursor movements on a Node writable; any other gets plain lines.
 */
export type CliStream = NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };

export interface CliIo {
  readonly stdout: CliStream;
  readonly stderr: CliStream;
  /** The variables the CLI reads (PORT, PARITYSYNC_CONFIG). The AWS SDK reads its own from process.env. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Resolves when the operator asks a command that serves until stopped (`console`) to stop: Ctrl+C or SIGTERM
   * for the binary. Without it, such a command stops as soon as it has started and said where it serves.
   */
  readonly untilStopped?: () => Promise<void>;
}

/** One run: its io, and the exit code of a command that ends without throwing but did not do everything asked. */
export class CliSession {
  private code = 0;
  /** The global console's writing, on this run's streams: a reader that went away (`| head`) is no error. */
  private readonly console: Console;

  constructor(readonly io: CliIo) {
    this.console = new Console({ stdout: io.stdout, stderr: io.stderr });
  }

  /** A line of the answer, on stdout. */
  print(text: string): void {
    this.console.log(text);
  }

  /** A line for the operator that is not the answer, on stderr. */
  tell(text: string): void {
    this.console.error(text);
  }

  /** The run exits 1 once the command ends: part of what was asked was not done. */
  fail(): void {
    this.code = 1;
  }

  get exitCode(): number {
    return this.code;
  }
}
