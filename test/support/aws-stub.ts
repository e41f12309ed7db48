import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from '../../local/http';

/** A call the stub received, named by the service in its SigV4 credential scope and its operation. */
export interface StubCall {
  readonly service: string;
  readonly operation: string;
  /** The SecretId of a GetSecretValue call. */
  readonly secretId?: string;
}

export interface AwsStub {
  /** Base URL on loopback, for AWS_ENDPOINT_URL_SECRETS_MANAGER and as the catch-all AWS_ENDPOINT_URL. */
  readonly url: string;
  /** Every call received, in order. */
  readonly calls: readonly StubCall[];
  close(): Promise<void>;
}

const JSON_1_1 = 'application/x-amz-json-1.1';

/**
 * Secrets Manager's GetSecretValue over its JSON protocol, serving the given secrets by name or ARN; every
 * other call, to any service, is answered with an error and recorded. Used as the endpoint of every AWS
 * service the emulators do not cover, so a function can never reach a real AWS endpoint.
 */
export async function startAwsStub(secrets: ReadonlyMap<string, string>): Promise<AwsStub> {
  const calls: StubCall[] = [];
  const server = createServer((request, response) => {
    readBody(request)
      .then((body) => answer(request, body, response))
      .catch((error: unknown) => reply(response, 500, { __type: 'InternalFailure', message: String(error) }));
  });

  function answer(request: IncomingMessage, body: string, response: ServerResponse): void {
    const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(
      request.headers.authorization ?? '',
    )?.[1];
    const target = request.headers['x-amz-target'];
    const operation = typeof target === 'string' ? target : `${request.method} ${request.url}`;
    if (service !== 'secretsmanager' || operation !== 'secretsmanager.GetSecretValue') {
      calls.push({ service: service ?? '(unsigned)', operation });
      reply(response, 400, {
        __type: 'UnrecognizedClientException',
        message: `${operation} (${service}) is not emulated by the test's AWS stub`,
      });
      return;
    }
    const { SecretId: secretId } = JSON.parse(body) as { SecretId?: string };
    calls.push({ service, operation, ...(secretId === undefined ? {} : { secretId }) });
    const value = secretId === undefined ? undefined : secrets.get(secretId);
    if (secretId === undefined || value === undefined) {
      reply(response, 400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
      return;
    }
    const name = secretId.startsWith('arn:') ? (secretId.split(':secret:')[1] ?? secretId) : secretId;
    reply(response, 200, {
      ARN: secretId.startsWith('arn:')
        ? secretId
        : `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-AbCdEf`,
      Name: name,
      SecretString: value,
      VersionId: randomUUID(),
      VersionStages: ['AWSCURRENT'],
      CreatedDate: Math.floor(Date.now() / 1000),
    });
  }

  await listen(server, 0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function reply(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, {
    'content-type': JSON_1_1,
    'content-length': bytes.length,
    'x-amzn-requestid': randomUUID(),
  });
  response.end(bytes);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
