import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONSOLE_PATH, consoleAsset, sendConsoleAsset } from '../../console/assets';
import type { ConsoleContext } from '../../console/context';
import { listen, sendJson } from '../../local/http';
import { encodePathSegment, encodeQuery, type HttpMethod, type RequestSigner } from './http';

/**
 * `paritysync console`: the operations console on loopback, its API calls forwarded to the read / admin API of
 * a deployed stack and signed with the operator's own credentials, so that IAM stays the gate and the stack
 * needs no public web surface. The page calls its own origin, so it runs unchanged here and on `npm start`.
 */

export interface ConsoleServerOptions {
  /** The API's base URL, stage included (the stack's ReadApiUrl output). */
  readonly apiUrl: string;
  /** SigV4 for a deployed stack; absent for the local runtime. */
  readonly signer?: RequestSigner;
  /** 0 picks a free port. */
  readonly port: number;
  readonly timeoutSeconds: number;
  /** What the page is told of where it runs: the stack, its region and dashboard. */
  readonly context?: ConsoleContext;
}

export interface ConsoleServer {
  /** The console's page, e.g. `http://127.0.0.1:3300/console`. */
  readonly url: string;
  close(): Promise<void>;
}

const METHODS: ReadonlySet<string> = new Set<HttpMethod>(['GET', 'POST', 'PUT']);
/** The request headers the API reads; nothing else of the browser's (cookies above all) leaves this machine. */
const FORWARDED_HEADERS = ['accept', 'content-type', 'idempotency-key'] as const;
/** API Gateway's own limit: a larger body would be refused there anyway. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const base = options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`;
  const server = createServer((request, response) => {
    answer(request, response, base, options).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      sendJson(response, 502, {
        error: 'console_forward_failed',
        message: `Could not reach the API at ${base}: ${error instanceof Error ? error.message : String(error)}`,
      });
    });
  });
  // Loopback only: whoever reaches this port acts with the operator's credentials.
  await listen(server, options.port, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${CONSOLE_PATH}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  base: string,
  options: ConsoleServerOptions,
): Promise<void> {
  const incoming = new URL(request.url ?? '/', 'http://console.local');
  const method = (request.method ?? 'GET').toUpperCase();
  if (method === 'GET') {
    const asset = await consoleAsset(
      incoming.pathname === '/' ? CONSOLE_PATH : incoming.pathname,
      options.context,
    );
    if (asset) {
      request.resume();
      sendConsoleAsset(response, asset);
      return;
    }
  }
  if (!METHODS.has(method)) {
    request.resume();
    sendJson(response, 405, {
      error: 'method_not_allowed',
      message: `The console forwards GET, POST and PUT to the API; ${method} is none of them.`,
    });
    return;
  }
  // A browser on another site may send requests to loopback: only the console's own page may act.
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `http://${request.headers.host}`) {
    request.resume();
    sendJson(response, 403, {
      error: 'foreign_origin',
      message: `Requests from ${origin} are refused: only the console's own page calls the API through here.`,
    });
    return;
  }

  const body = await readBody(request);
  // Re-encoded as the CLI encodes, so that the path and query signed are the ones API Gateway canonicalises.
  const path = incoming.pathname
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => encodePathSegment(decodeURIComponent(segment)))
    .join('/');
  const url = new URL(path, base);
  const query: Record<string, string[]> = {};
  for (const [name, value] of incoming.searchParams) query[name] = [...(query[name] ?? []), value];
  url.search = encodeQuery(query);

  const headers: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const text = body.length > 0 ? body.toString('utf8') : undefined;
  const signed = options.signer
    ? await options.signer({ method: method as HttpMethod, url, headers, ...(text ? { body: text } : {}) })
    : headers;
  const upstream = await fetch(url, {
    method,
    headers: signed,
    ...(text === undefined ? {} : { body: text }),
    signal: AbortSignal.timeout(options.timeoutSeconds * 1000),
  });
  const answerBody = Buffer.from(await upstream.arrayBuffer());
  response
    .writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
      'content-length': answerBody.length,
      'cache-control': 'no-store',
    })
    .end(answerBody);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.destroy();
        reject(new Error(`a request body over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}
