import { defineConfig } from 'vitest/config';

/** Tests that talk to DynamoDB Local and fauxqs; only runs that include one of them start the emulators. */
const EMULATOR_TESTS = ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'];

export default defineConfig({
  test: {
    // Forks, not threads: CDK's esbuild bundling spawns processes with the worker's stdio, which worker threads
    // cannot hand over, and threads were no faster here. Each test file still gets a fresh module graph.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    env: {
      // The SDK's Node 20 end-of-support notice, once per worker, drowns the test output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: EMULATOR_TESTS },
      },
      {
        extends: true,
        test: {
          name: 'emulators',
          include: EMULATOR_TESTS,
          // Starts DynamoDB Local and fauxqs once for the whole run (vitest skips it when no file here is queued).
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
