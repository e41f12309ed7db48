import type { TestProject } from 'vitest/node';
import { type Emulators, startEmulators } from '../../local/emulators';

declare module 'vitest' {
  export interface ProvidedContext {
    /** DynamoDB Local on 127.0.0.1, shared by every test file of the run. */
    dynamodbEndpoint: string;
    /** fauxqs (SQS) on 127.0.0.1, shared by every test file of the run. */
    sqsEndpoint: string;
  }
}

/**
 * The emulators of the run, started by the first project whose global setup runs and stopped with the last
 * one's teardown: projects that list this setup run it in the one vitest process, and a second DynamoDB Local
 * would cost a Java start and half its share of the CPU.
 */
interface Shared {
  readonly emulators: Promise<Emulators>;
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
    shared = { emulators: startEmulators(), users: 0 };
    registry[SHARED] = shared;
  }
  shared.users += 1;
  const emulators = await shared.emulators;
  if (process.env.PARITYSYNC_TEST_TIMINGS) {
    console.info(`emulators ready in ${Math.round(performance.now() - startedAt)} ms`);
  }
  project.provide('dynamodbEndpoint', emulators.dynamodbEndpoint);
  project.provide('sqsEndpoint', emulators.sqsEndpoint);
  const own = shared;
  return async () => {
    own.users -= 1;
    if (own.users > 0) return;
    if (registry[SHARED] === own) delete registry[SHARED];
    await emulators.stop();
  };
}
