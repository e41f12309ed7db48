import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from '../../local/http';
import { type TestCredentials, verifySigV4 } from './sigv4';

/**
 * A deployed ParitySync stack as the operations CLI sees it, on loopback: CloudFormation's DescribeStacks (awsQuery,
 * XML), Lambda's Invoke (REST JSON), and the IAM-authorised read API behind API Gateway under the stage path
 * `/prod/`. Every request must carry a valid SigV4 signature for its service, checked against the known test
 * credentials; unsigned and mis-signed requests get the 403 answers AWS gives. Point the SDK at it with
 * AWS_ENDPOINT_URL_CLOUDFORMATION and AWS_ENDPOINT_URL_LAMBDA.
 */

export const STAGE = 'prod';

/** A call that verified, as the stub received it. */
export interface StackCall {
  readonly service: string;
  readonly accessKeyId: string;
  readonly region: string;
  readonly method: string;
  /** Below the stage for the read API; the operation otherwise. */
  readonly operation: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
}

/** A refused call, with AWS's reason. */
export interface RefusedCall {
  readonly service: string;
  readonly type: string;
  readonly path: string;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface StackStubOptions {
  readonly credentials: readonly TestCredentials[];
  /** Stack name → outputs. `ReadApiUrl` is filled in with the stub's own URL when set to `{stub}`. */
  readonly stacks: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Access keys whose identity IAM does not allow to invoke the read API. */
  readonly deniedApiAccessKeys?: ReadonlySet<string>;
  /** The read API's answer to a verified call: the path below the stage. */
  readonly api: (call: StackCall) => ApiAnswer;
  /** The reconcile function: its payload in, its result or failure out. */
  readonly invoke?: (
    functionName: string,
    payload: unknown,
  ) =>
    | { readonly result: unknown }
    | { readonly errorType: string; readonly errorMessage: string }
    | 'throttled';
}

export interface StackStub {
  readonly url: string;
  /** The read API's base URL, stage included, as the stack's ReadApiUrl output gives it. */
  readonly readApiUrl: string;
  readonly calls: StackCall[];
  readonly refused: RefusedCall[];
  close(): Promise<void>;
}

const ACCOUNT = '123456789012';
const API_ID = 'stubapi';

export async function startStackStub(options: StackStubOptions): Promise<StackStub> {
  const calls: StackCall[] = [];
  const refused: RefusedCall[] = [];
  const byKey = new Map(options.credentials.map((credentials) => [credentials.accessKeyId, credentials]));
  let readApiUrl = '';

  const server = createServer((request, response) => {
    readBody(request)
      .then((body) => route(request, body, response))
      .catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
  });

  async function route(request: IncomingMessage, body: Buffer, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://stub');
    const service = url.pathname.startsWith('/2015-03-31/functions/')
      ? 'lambda'
      : url.pathname.startsWith(`/${STAGE}/`)
        ? 'execute-api'
        : 'cloudformation';
    const verified = await verifySigV4(request, body, { credentials: (key) => byKey.get(key), service });
    if (!verified.ok) {
      refused.push({ service, type: verified.type, path: url.pathname });
      refuse(service, response, verified.type, verified.message);
      return;
    }
    const call = {
      service,
      accessKeyId: verified.accessKeyId,
      region: verified.region,
      method: request.method ?? 'GET',
      query: Object.fromEntries(url.searchParams),
      body: body.toString('utf8'),
      headers: request.headers,
    };
    if (service === 'cloudformation') {
      const form = new URLSearchParams(call.body);
      calls.push({ ...call, operation: form.get('Action') ?? '' });
      describeStacks(form, verified.region, response);
    } else if (service === 'lambda') {
      const functionName = decodeURIComponent(url.pathname.split('/')[3] ?? '');
      calls.push({ ...call, operation: `Invoke ${functionName}` });
      invoke(functionName, call.body, request, response);
    } else {
      const operation = url.pathname.slice(STAGE.length + 1);
      calls.push({ ...call, operation });
      if (options.deniedApiAccessKeys?.has(verified.accessKeyId)) {
        const resource = `arn:aws:execute-api:${verified.region}:********9012:${API_ID}/${STAGE}/${call.method}${operation}`;
        json(
          response,
          403,
          {
            Message: `User: arn:aws:iam::${ACCOUNT}:user/readonly is not authorized to perform: execute-api:Invoke on resource: ${resource}`,
          },
          'AccessDeniedException',
        );
        return;
      }
      const answer = options.api({ ...call, operation });
      json(response, answer.status, answer.body);
    }
  }

  function describeStacks(form: URLSearchParams, region: string, response: ServerResponse): void {
    const name = form.get('StackName') ?? '';
    const outputs = options.stacks.get(name);
    if (form.get('Action') !== 'DescribeStacks' || outputs === undefined) {
      xml(
        response,
        400,
        `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>` +
          `<Code>ValidationError</Code><Message>Stack with id ${escapeXml(name)} does not exist</Message></Error>` +
          `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
      return;
    }
    const members = Object.entries(outputs)
      .map(
        ([key, value]) =>
          `<member><OutputKey>${escapeXml(key)}</OutputKey><OutputValue>${escapeXml(value === '{stub}' ? readApiUrl : value)}</OutputValue></member>`,
      )
      .join('');
    xml(
      response,
      200,
      `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult>` +
        `<Stacks><member><StackName>${escapeXml(name)}</StackName>` +
        `<StackId>arn:aws:cloudformation:${region}:${ACCOUNT}:stack/${escapeXml(name)}/${randomUUID()}</StackId>` +
        `<CreationTime>2025-06-01T09:00:00.000Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus>` +
        `<Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    );
  }

  function invoke(
    functionName: string,
    body: string,
    request: IncomingMessage,
    response: ServerResponse,
  ): void {
    const outcome = options.invoke?.(functionName, JSON.parse(body || '{}'));
    if (outcome === undefined) {
      json(
        response,
        404,
        { Type: 'User', message: `Function not found: ${functionName}` },
        'ResourceNotFoundException',
      );
      return;
    }
    if (outcome === 'throttled') {
      json(
        response,
        429,
        {
          Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
          Type: 'User',
          message: 'Rate Exceeded.',
        },
        'TooManyRequestsException',
      );
      return;
    }
    const tail =
      request.headers['x-amz-log-type'] === 'Tail'
        ? {
            'x-amz-log-result': Buffer.from(
              `START RequestId: stub\n${'errorType' in outcome ? 'ERROR Reconciliation failed\n' : ''}END RequestId: stub\n`,
            ).toString('base64'),
          }
        : {};
    const failed = 'errorType' in outcome;
    const payload = Buffer.from(
      JSON.stringify(
        failed
          ? { errorType: outcome.errorType, errorMessage: outcome.errorMessage, trace: [] }
          : outcome.result,
      ),
    );
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': payload.length,
      'x-amz-executed-version': '$LATEST',
      'x-amzn-requestid': randomUUID(),
      ...(failed ? { 'x-amz-function-error': 'Unhandled' } : {}),
      ...tail,
    });
    response.end(payload);
  }

  await listen(server, 0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  readApiUrl = `${url}/${STAGE}/`;
  return {
    url,
    readApiUrl,
    calls,
    refused,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** How each service words a refused signature. */
function refuse(service: string, response: ServerResponse, type: string, message: string): void {
  if (service === 'cloudformation') {
    const code =
      type === 'UnrecognizedClientException'
        ? 'InvalidClientTokenId'
        : type === 'MissingAuthenticationTokenException'
          ? 'MissingAuthenticationToken'
          : 'SignatureDoesNotMatch';
    xml(
      response,
      403,
      `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>` +
        `<Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
    );
    return;
  }
  json(response, 403, { message }, type);
}

function json(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': bytes.length,
    'x-amzn-requestid': randomUUID(),
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  response.end(bytes);
}

function xml(response: ServerResponse, status: number, body: string): void {
  const bytes = Buffer.from(body);
  response.writeHead(status, { 'content-type': 'text/xml', 'content-length': bytes.length });
  response.end(bytes);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
