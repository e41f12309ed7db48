#!/usr/bin/env -S npx tsx
import { runParitySync } from './cli/program';

let stopped = false;

/**
 * Ctrl+C or SIGTERM, listened for only once a command that serves until stopped (console) asks: any other
 * command still ends on Ctrl+C as a process does.
 */
function untilStopped(): Promise<void> {
  return new Promise((stop) => {
    const onSignal = () => {
      stopped = true;
      stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

void runParitySync(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  untilStopped,
}).then((code) => {
  // The operator asked to stop now: a keep-alive connection to the API does not hold the process open.
  if (stopped) process.exit(code);
  process.exitCode = code;
});
