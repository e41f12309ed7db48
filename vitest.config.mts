import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/** Tests that talk to DynamoDB Local and fauxqs; only runs that include one of them start the emulators. */
const EMULATOR_TESTS = ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'];

export default defineConfig({
  test: {
    // Forks, not threads: CDK's esbuild bundling spawns processes with the worker's stdio, which worker threads
    // cannot hand over, and threads were no faster here.
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: a single one on a 2-core machine, idle whenever a file
    // waits on an emulator, a child process or a timer. Two keep both cores busy there; a third gained little
    // and slowed the shared DynamoDB Local towards the functions' one-second request timeouts.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 20_000,
    hookTimeout: 30_000,
    env: {
      // The SDK's Node 20 end-of-support notice, once per worker, drowns the test output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // The X-Ray SDK, which the traced handlers load, otherwise installs an async hook that tracks every promise
      // of the worker (a sixth of an emulator test's CPU); tracing is off outside Lambda all the same. The
      // deployed-bundles test starts its functions with Lambda's environment, not this one, so they trace as deployed.
      AWS_XRAY_MANUAL_MODE: 'true',
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: EMULATOR_TESTS,
          // One process per worker for all of these files, so that aws-cdk-lib, the SDK and zod load once per
          // worker rather than once per file (about half of this project's time). These tests build what they
          // use and put back any environment variable they stub.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'emulators',
          include: EMULATOR_TESTS,
          // Starts DynamoDB Local and fauxqs once for the whole run (vitest skips it when no file here is queued).
          globalSetup: ['test/support/global-setup.ts'],
          // As the unit tests, one process per worker, so that the SDK, zod and Powertools load once per worker
          // rather than once per file (a fifth of these files' time). A local stack sets process.env and loads
          // the functions with it, so each file loads the project's own modules afresh and leaves process.env as
          // it found it.
          isolate: false,
          setupFiles: ['test/support/fresh-modules.ts'],
        },
      },
    ],
  },
});
