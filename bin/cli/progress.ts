import { SingleBar } from 'cli-progress';
import type { CliStream } from './io';

export interface ProgressState {
  readonly value: number;
  readonly total: number;
  /** What is being worked on now. */
  readonly step?: string;
  readonly detail?: string;
}

export interface Progress {
  update(state: ProgressState): void;
  /** Leaves the last state on screen (a TTY) or in the log (otherwise). */
  stop(): void;
}

/** Below this, a change of detail alone does not earn a new line in a log. */
const PLAIN_DETAIL_INTERVAL_MS = 5_000;

/**
 * Progress of long work, on stderr so that stdout stays the answer: a bar (cli-progress) on a terminal, and
 * otherwise plain lines, one whenever a step completes (and at most every few seconds for detail), which read
 * well in CI logs and pipes.
 */
export function startProgress(
  label: string,
  options: { readonly enabled: boolean; readonly stream: CliStream },
): Progress {
  if (!options.enabled) return { update: () => undefined, stop: () => undefined };
  const { stream } = options;
  return stream.isTTY ? barProgress(label, stream) : plainProgress(label, stream);
}

function barProgress(label: string, stream: CliStream): Progress {
  const bar = new SingleBar({
    format: ` ${label} {bar} {value}/{total} {text}`,
    hideCursor: true,
    clearOnComplete: false,
    stream,
  });
  let started = false;
  return {
    update(state) {
      const payload = { text: [state.step, state.detail].filter(Boolean).join(' | ') };
      if (!started) {
        bar.start(Math.max(1, state.total), state.value, payload);
        started = true;
        return;
      }
      bar.setTotal(Math.max(1, state.total));
      bar.update(state.value, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function plainProgress(label: string, stream: CliStream): Progress {
  let printed: ProgressState | undefined;
  let pending: ProgressState | undefined;
  let printedAt = 0;
  const line = (state: ProgressState) =>
    `${label}: ${state.value}/${state.total}` +
    (state.step ? ` ${state.step}` : '') +
    (state.detail ? ` (${state.detail})` : '');
  const print = (state: ProgressState) => {
    stream.write(`${line(state)}\n`);
    printed = state;
    pending = undefined;
    printedAt = Date.now();
  };
  return {
    update(state) {
      const moved =
        printed === undefined ||
        state.value !== printed.value ||
        state.total !== printed.total ||
        state.step !== printed.step;
      const saysMore = printed === undefined || line(state) !== line(printed);
      if (moved || (saysMore && Date.now() - printedAt >= PLAIN_DETAIL_INTERVAL_MS)) print(state);
      else if (saysMore) pending = state;
    },
    stop() {
      if (pending !== undefined) print(pending);
    },
  };
}
