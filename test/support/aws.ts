import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { LOCAL_AWS } from '../../local/emulators';
import { type ProvisionedTopology, provision } from '../../local/provision';

export interface LocalClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
}

const { region, credentials } = LOCAL_AWS;

/**
 * This worker's emulator endpoints, of those global-setup.ts provides to the `emulators` test project: one pair
 * per worker, chosen by the worker's pool id (1 to maxWorkers, steady for the worker's life).
 */
export function emulatorEndpoints(): { dynamodbEndpoint: string; sqsEndpoint: string } {
  const worker = Math.max(0, Number(process.env.VITEST_POOL_ID ?? '1') - 1);
  const dynamodbEndpoints = inject('dynamodbEndpoints') ?? [];
  const sqsEndpoints = inject('sqsEndpoints') ?? [];
  const dynamodbEndpoint = dynamodbEndpoints[worker % Math.max(1, dynamodbEndpoints.length)];
  const sqsEndpoint = sqsEndpoints[worker % Math.max(1, sqsEndpoints.length)];
  if (!dynamodbEndpoint || !sqsEndpoint) {
    throw new Error(
      'No emulators in this test run: tests that use DynamoDB or SQS belong under test/integration or test/e2e ' +
        '(the vitest project that starts the emulators).',
    );
  }
  return { dynamodbEndpoint, sqsEndpoint };
}

/** SDK clients pointed at the run's emulators. */
export function localClients(): LocalClients {
  const { dynamodbEndpoint, sqsEndpoint } = emulatorEndpoints();
  return {
    dynamodb: new DynamoDBClient({ endpoint: dynamodbEndpoint, region, credentials }),
    sqs: new SQSClient({ endpoint: sqsEndpoint, region, credentials }),
  };
}

export interface IsolatedTopology extends ProvisionedTopology, LocalClients {
  readonly prefix: string;
}

/** The whole topology under a random prefix, so test files running in parallel never share a table or queue. */
export async function provisionIsolated(clients: LocalClients = localClients()): Promise<IsolatedTopology> {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const topology = await provision({ ...clients, prefix });
  return { ...topology, ...clients, prefix };
}
