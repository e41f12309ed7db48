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

/** The run's emulator endpoints, provided by global-setup.ts to the `emulators` test project. */
export function emulatorEndpoints(): { dynamodbEndpoint: string; sqsEndpoint: string } {
  const dynamodbEndpoint = inject('dynamodbEndpoint');
  const sqsEndpoint = inject('sqsEndpoint');
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
