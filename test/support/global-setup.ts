import type { TestProject } from 'vitest/node';
import { type Emulators, startEmulators } from '../../local/emulators';

declare module 'vitest' {
  export interface ProvidedContext {
    /**
     * One DynamoDB Local on 127.0.0.1 per test worker: a test file uses its worker's (see emulatorEndpoints in
     * ./aws.ts), and the workers' files share it one after another.
     */
    dynamodbEndpoints: string[];
    /** fauxqs (SQS) on 127.0.0.1, one per test worker as DynamoDB Local. */
    sqsEndpoints: string[];
  }
}

/**
 * The emulators of the run, started by the first project whose global setup runs and stopped with the last
 * one's teardown: projects that list this setup run it in the one vitest process, and a second DynamoDB Local
 * would cost a Java start and half its share of the CPU.
 */
interface Shared {
  readonly emulators: Promise<Emulators[]>;
  users: number;
}
const SHARED = Symbol.for('paritysync.test.emulators');
const registry = globalThis as { [SHARED]?: Shared };

/**
 * Starts the emulators once per run (DynamoDB Local takes a couple of seconds to boot); test files isolate
 * themselves with their own resource-name prefix (see provisionIsolated in ./aws.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The SDK's Node 20 end-of-support notice says nothing about the code under test.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const startedAt = performance.now();
  let shared = registry[SHARED];
  if (shared === undefined) {
    // DynamoDB Local answers one request at a time (its SQLite store is behind one lock), so that a single one
    // for the whole run kept one core busy while the test workers waited on it. One per worker spreads that
    // work over the cores for one more Java start each.
    const workers = Math.max(1, project.globalConfig.maxWorkers);
    shared = { emulators: startEach(workers), users: 0 };
    registry[SHARED] = shared;
  }
  shared.users += 1;
  const emulators = await shared.emulators;
  if (process.env.PARITYSYNC_TEST_TIMINGS) {
    console.info(`emulators ready in ${Math.round(performance.now() - startedAt)} ms`);
  }
  project.provide(
    'dynamodbEndpoints',
    emulators.map((running) => running.dynamodbEndpoint),
  );
  project.provide(
    'sqsEndpoints',
    emulators.map((running) => running.sqsEndpoint),
  );
  const own = shared;
  return async () => {
    own.users -= 1;
    if (own.users > 0) return;
    if (registry[SHARED] === own) delete registry[SHARED];
    await Promise.all(emulators.map((running) => running.stop()));
  };
}

/** One emulator pair per worker; if any fails to start, the others are stopped before the error is thrown. */
async function startEach(count: number): Promise<Emulators[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => startEmulators()));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed === undefined)
    return started.map((result) => (result as PromiseFulfilledResult<Emulators>).value);
  await Promise.all(
    started.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)),
  );
  throw failed.reason;
}
