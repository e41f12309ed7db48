import type { TestProject } from 'vitest/node';
import { startEmulators } from '../../local/emulators';

declare module 'vitest' {
  export interface ProvidedContext {
    /** DynamoDB Local on 127.0.0.1, shared by every test file of the run. */
    dynamodbEndpoint: string;
    /** fauxqs (SQS) on 127.0.0.1, shared by every test file of the run. */
    sqsEndpoint: string;
  }
}

/**
 * Starts the emulators once per run (DynamoDB Local takes a couple of seconds to boot); test files isolate
 * themselves with their own resource-name prefix (see provisionIsolated in ./aws.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The SDK's Node 20 end-of-support notice says nothing about the code under test.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const startedAt = performance.now();
  const emulators = await startEmulators();
  if (process.env.PARITYSYNC_TEST_TIMINGS) {
    console.info(`emulators ready in ${Math.round(performance.now() - startedAt)} ms`);
  }
  project.provide('dynamodbEndpoint', emulators.dynamodbEndpoint);
  project.provide('sqsEndpoint', emulators.sqsEndpoint);
  return () => emulators.stop();
}
