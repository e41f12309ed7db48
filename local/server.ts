import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { listen, sendJson } from './http';
import { localLambdaContext } from './lambda-context';

/** A Lambda proxy integration's handler, as API Gateway invokes it. */
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LocalRoute {
  /** An HTTP method, or `ANY` for every method (as in API Gateway). */
  readonly method: string;
  /** The API Gateway resource path, e.g. `/webhooks/{sourceId}`; `{name+}` matches the rest of the path. */
  readonly resource: string;
  readonly handler: ProxyHandler;
}

/**
 * A route of the local runtime itself, not of API Gateway: it gets the raw request and response (to stream,
 * for instance). Matched on the exact path before the proxy routes.
 */
export interface ControlRoute {
  readonly method: string;
  readonly path: string;
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
}

export interface LocalApiOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Loopback only: the local API has no authentication in front of it. @default '127.0.0.1' */
  readonly host?: '127.0.0.1' | '::1';
  readonly routes: readonly LocalRoute[];
  readonly controlRoutes?: readonly ControlRoute[];
  /** Where handler failures are reported. @default console.error */
  readonly logError?: (message: string, error: unknown) => void;
  /** How long a handler may run, reported to it through `getRemainingTimeInMillis`. @default 29000 */
  readonly timeoutMs?: number;
}

export interface LocalApi {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** API Gateway's hard payload limit. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

const STAGE = 'local';
/** How long a refused upload may keep sending (into the void) before its connection is closed. */
const LINGER_MS = 2_000;

/**
 * A stand-in for API Gateway (REST API, Lambda proxy integration, binaryMediaTypes ['*\/*']): each request is
 * turned into the proxy event API Gateway would send, the route's handler is invoked, and its result is written
 * back. Routes are passed in, so the server knows nothing of the functions it fronts.
 */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const host = options.host ?? '127.0.0.1';
  const routes = options.routes.map(compileRoute);
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const timeoutMs = options.timeoutMs ?? 29_000;

  const controlRoutes = options.controlRoutes ?? [];
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    const control = controlRoutes.find(
      (route) =>
        route.path === path && route.method.toUpperCase() === (request.method ?? 'GET').toUpperCase(),
    );
    const handled = control
      ? control.handle(request, response)
      : handleRequest(request, response, routes, logError, timeoutMs);
    handled.catch((error: unknown) => {
      logError('Local API failed to answer a request', error);
      if (!response.headersSent) sendJson(response, 500, { error: 'local_api_error' });
      else response.destroy();
    });
  };
  const server = createServer(onRequest);
  // A client that asks before sending (Expect: 100-continue) gets its 413 without uploading the body at all.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    if (declaredLength(request) <= MAX_REQUEST_BYTES) response.writeContinue();
    onRequest(request, response);
  });
  await listen(server, options.port, host);
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

interface CompiledRoute extends LocalRoute {
  readonly pattern: RegExp;
  readonly parameterNames: readonly string[];
}

function compileRoute(route: LocalRoute): CompiledRoute {
  const parameterNames: string[] = [];
  const source = route.resource
    .split('/')
    .map((segment) => {
      const parameter = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(segment);
      if (!parameter) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      parameterNames.push(parameter[1] ?? '');
      return parameter[2] === '+' ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { ...route, method: route.method.toUpperCase(), pattern: new RegExp(`^${source}$`), parameterNames };
}

async function handleRequest(
  request: IncomingMessage,
  response: ServerResponse,
  routes: readonly CompiledRoute[],
  logError: (message: string, error: unknown) => void,
  timeoutMs: number,
): Promise<void> {
  const requestTimeEpoch = Date.now();
  const method = (request.method ?? 'GET').toUpperCase();
  const url = new URL(request.url ?? '/', 'http://local');
  const path = url.pathname;

  const match = findRoute(routes, method, path);
  if (!match) {
    sendJson(response, 404, {
      error: 'route_not_found',
      message: `No route for ${method} ${path}. Routes: ${routes.map((r) => `${r.method} ${r.resource}`).join(', ')}`,
    });
    request.resume();
    return;
  }

  if (declaredLength(request) > MAX_REQUEST_BYTES) {
    refuseTooLarge(request, response);
    return;
  }
  const body = await readBody(request);
  if (body === 'too_large') {
    refuseTooLarge(request, response);
    return;
  }

  const event = toProxyEvent(request, method, url, match, body, requestTimeEpoch);
  const context = localLambdaContext(
    'paritysync-local',
    event.requestContext.requestId,
    requestTimeEpoch + timeoutMs,
  );
  let result: APIGatewayProxyResult;
  try {
    result = await match.route.handler(event, context);
  } catch (error) {
    logError(`Handler for ${match.route.method} ${match.route.resource} threw`, error);
    sendJson(response, 502, {
      error: 'internal_error',
      message: 'The function failed; see the local runtime log.',
    });
    return;
  }
  if (!isProxyResult(result)) {
    logError(
      `Handler for ${match.route.method} ${match.route.resource} returned a malformed proxy result`,
      result,
    );
    sendJson(response, 502, { error: 'internal_error', message: 'Malformed Lambda proxy response' });
    return;
  }
  writeResult(response, result);
}

interface RouteMatch {
  readonly route: CompiledRoute;
  readonly pathParameters: Record<string, string> | null;
}

function findRoute(routes: readonly CompiledRoute[], method: string, path: string): RouteMatch | undefined {
  for (const route of routes) {
    if (route.method !== 'ANY' && route.method !== method) continue;
    const found = route.pattern.exec(path);
    if (!found) continue;
    if (route.parameterNames.length === 0) return { route, pathParameters: null };
    const pathParameters: Record<string, string> = {};
    route.parameterNames.forEach((name, index) => {
      pathParameters[name] = safeDecode(found[index + 1] ?? '');
    });
    return { route, pathParameters };
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function declaredLength(request: IncomingMessage): number {
  return Number(request.headers['content-length'] ?? 0);
}

/** Reads the raw body, and stops keeping it as soon as it passes API Gateway's limit. */
function readBody(request: IncomingMessage): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        request.off('data', onData);
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

function refuseTooLarge(request: IncomingMessage, response: ServerResponse): void {
  response.setHeader('connection', 'close');
  sendJson(response, 413, {
    error: 'payload_too_large',
    message: `Request bodies are limited to ${MAX_REQUEST_BYTES} bytes (API Gateway's limit).`,
  });
  // The rest of the body is discarded, never kept. Closing at once would make the kernel reset the connection
  // over the unread bytes, and the client would see ECONNRESET instead of the 413; so linger briefly, as web
  // servers do, then close whatever is still sending.
  request.resume();
  response.once('finish', () => setTimeout(() => request.socket.destroy(), LINGER_MS).unref());
}

function toProxyEvent(
  request: IncomingMessage,
  method: string,
  url: URL,
  match: RouteMatch,
  body: Buffer,
  requestTimeEpoch: number,
): APIGatewayProxyEvent {
  const sourceIp = (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const { headers, multiValueHeaders } = collectHeaders(
    request.rawHeaders,
    sourceIp,
    request.socket.localPort,
  );
  const { single: queryStringParameters, multi: multiValueQueryStringParameters } = collectQuery(
    url.searchParams,
  );
  const requestId = randomUUID();
  return {
    resource: match.route.resource,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: match.pathParameters,
    stageVariables: null,
    body: body.length > 0 ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      domainName: request.headers.host ?? '',
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: request.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/${STAGE}${url.pathname}`,
      protocol: `HTTP/${request.httpVersion}`,
      requestId,
      requestTimeEpoch,
      resourceId: 'local',
      resourcePath: match.route.resource,
      stage: STAGE,
    },
  };
}

/**
 * `headers` keeps the last value of each header and `multiValueHeaders` all of them, both under the name as the
 * client spelled it. Like API Gateway, X-Forwarded-For gets the caller's address appended, so code that trusts
 * it instead of `requestContext.identity.sourceIp` behaves here as badly as it would in AWS.
 */
function collectHeaders(
  rawHeaders: readonly string[],
  sourceIp: string,
  localPort: number | undefined,
): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const spelling = new Map<string, string>();
  const multiValueHeaders: Record<string, string[]> = {};
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    const spelled = spelling.get(key) ?? name;
    spelling.set(key, spelled);
    multiValueHeaders[spelled] ??= [];
    multiValueHeaders[spelled].push(value);
  };
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    add(rawHeaders[index] ?? '', rawHeaders[index + 1] ?? '');
  }
  const forwardedFor = spelling.get('x-forwarded-for');
  if (forwardedFor !== undefined) {
    const values = multiValueHeaders[forwardedFor] ?? [];
    values.push(`${values.pop() ?? ''}, ${sourceIp}`.replace(/^, /, ''));
    multiValueHeaders[forwardedFor] = values;
  } else {
    add('X-Forwarded-For', sourceIp);
  }
  if (!spelling.has('x-forwarded-proto')) add('X-Forwarded-Proto', 'http');
  if (!spelling.has('x-forwarded-port')) add('X-Forwarded-Port', String(localPort ?? ''));

  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(multiValueHeaders)) {
    const last = values.at(-1);
    if (last !== undefined) headers[name] = last;
  }
  return { headers, multiValueHeaders };
}

function collectQuery(params: URLSearchParams): {
  single: Record<string, string> | null;
  multi: Record<string, string[]> | null;
} {
  const multi: Record<string, string[]> = {};
  for (const [name, value] of params) {
    multi[name] ??= [];
    multi[name].push(value);
  }
  const names = Object.keys(multi);
  if (names.length === 0) return { single: null, multi: null };
  const single: Record<string, string> = {};
  for (const name of names) single[name] = multi[name]?.at(-1) ?? '';
  return { single, multi };
}

function isProxyResult(value: unknown): value is APIGatewayProxyResult {
  if (typeof value !== 'object' || value === null) return false;
  const result = value as Partial<APIGatewayProxyResult>;
  return (
    Number.isInteger(result.statusCode) &&
    (result.body === undefined || typeof result.body === 'string') &&
    (result.headers === undefined || typeof result.headers === 'object')
  );
}

function writeResult(response: ServerResponse, result: APIGatewayProxyResult): void {
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    response.setHeader(name, values.map(String));
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    response.setHeader(name, String(value));
  }
  const body = result.body ?? '';
  const bytes = result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  response.statusCode = result.statusCode;
  response.setHeader('content-length', bytes.length);
  response.end(bytes);
}
