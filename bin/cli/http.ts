import { setTimeout as sleep } from 'node:timers/promises';
import type { FieldProblem } from '../../lambdas/shared/errors';
import {
  AccessDeniedError,
  ApiAnswerError,
  CredentialsRefusedError,
  NothingListeningError,
  TimedOutError,
  UnexpectedAnswerError,
  UnreachableError,
} from './errors';

export type HttpMethod = 'GET' | 'POST' | 'PUT';

export type QueryValue = string | number | boolean | readonly string[] | undefined;

/** One call of the read / admin API, relative to its base URL. */
export interface ApiRequest {
  readonly method: HttpMethod;
  /** Path segments below the base URL, unencoded: the transport encodes each one. */
  readonly path: readonly string[];
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /**
   * Sent as the Idempotency-Key header, for a request that acts: the API answers a repeat of the key with the
   * first answer, so the transport's own retries cannot act twice.
   */
  readonly idempotencyKey?: string;
}

/** What a signer sees of a request, exactly as it goes on the wire. */
export interface OutgoingRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Returns the headers to send (the given ones and the signature's). */
export type RequestSigner = (request: OutgoingRequest) => Promise<Record<string, string>>;

export interface TransportOptions {
  /** Base URL of the API, stage included for API Gateway. */
  readonly baseUrl: string;
  readonly timeoutSeconds: number;
  /** SigV4 for a deployed stack; absent for the local runtime, which is loopback-only and unauthenticated. */
  readonly signer?: RequestSigner;
  /** For the messages about credentials and permissions. */
  readonly region?: string;
  readonly profile?: string;
}

/**
 * Sends API calls with a timeout, signed when the target is a deployed stack, and turns every failure into an
 * error that says what to fix: the API's own `{ error, message, fields }`, API Gateway's IAM refusals, nothing
 * listening, no answer in time.
 */
export class ApiTransport {
  readonly baseUrl: string;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
  }

  /**
   * Sends the request; one that carries an idempotency key is sent again, with the same key, when the API was
   * briefly unable to answer or the same request is still being answered.
   */
  async call<T>(request: ApiRequest): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.callOnce<T>(request);
      } catch (error) {
        const wait = request.idempotencyKey === undefined ? undefined : retryDelayMs(error);
        if (wait === undefined || attempt >= MAX_ATTEMPTS) throw error;
        await sleep(wait);
      }
    }
  }

  private async callOnce<T>(request: ApiRequest): Promise<T> {
    const url = new URL(request.path.map(encodePathSegment).join('/'), this.baseUrl);
    url.search = encodeQuery(request.query ?? {});
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    // The key is among the headers the signer signs, so API Gateway checks it with the rest.
    const unsigned: Record<string, string> = {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(request.idempotencyKey === undefined ? {} : { 'idempotency-key': request.idempotencyKey }),
    };
    const headers = this.options.signer
      ? await this.options.signer({
          method: request.method,
          url,
          headers: unsigned,
          ...(body ? { body } : {}),
        })
      : unsigned;
    const what = `${request.method} ${url.origin}${url.pathname}`;

    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: request.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.options.timeoutSeconds * 1000),
      });
      text = await response.text();
    } catch (error) {
      throw this.networkFailure(error, what);
    }

    const parsed = parseJson(text);
    if (response.ok) {
      if (parsed === undefined) throw new UnexpectedAnswerError(what, response.status, text.slice(0, 200));
      return parsed as T;
    }
    throw this.refusal(request, url, response, parsed, text);
  }

  private networkFailure(error: unknown, what: string): Error {
    if (error instanceof Error && error.name === 'TimeoutError') {
      return new TimedOutError(what, this.options.timeoutSeconds);
    }
    const cause =
      error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : {};
    if (cause?.code === 'ECONNREFUSED' && this.options.signer === undefined) {
      return new NothingListeningError(this.options.baseUrl);
    }
    const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    return new UnreachableError(what, reason);
  }

  private refusal(request: ApiRequest, url: URL, response: Response, parsed: unknown, text: string): Error {
    const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    if (typeof body.error === 'string') {
      const message = typeof body.message === 'string' ? body.message : response.statusText;
      const hint =
        body.error === 'route_not_found'
          ? ` The target does not serve ${request.method} /${request.path[0] ?? ''}… yet: restart \`npm start\` ` +
            'on the current code, or deploy the current stack.'
          : '';
      return new ApiAnswerError(
        response.status,
        body.error,
        message + hint,
        Array.isArray(body.fields) ? (body.fields as FieldProblem[]) : undefined,
      );
    }
    // API Gateway's own answers: `{ message }` (or `{ Message }`) with the reason in x-amzn-ErrorType.
    const gatewayMessage = [body.message, body.Message].find((value) => typeof value === 'string') as
      | string
      | undefined;
    if (this.options.signer !== undefined && gatewayMessage !== undefined) {
      return this.gatewayRefusal(request, url, response, gatewayMessage);
    }
    return new UnexpectedAnswerError(
      `${request.method} ${url.origin}${url.pathname}`,
      response.status,
      text.slice(0, 200),
    );
  }

  private gatewayRefusal(request: ApiRequest, url: URL, response: Response, message: string): Error {
    const type = (response.headers.get('x-amzn-errortype') ?? '').split(':')[0] ?? '';
    if (type === 'AccessDeniedException' || /not authorized to perform/i.test(message)) {
      const resource =
        /on resource: (arn:\S+?)(?: with an explicit deny.*)?$/.exec(message)?.[1] ??
        executeApiArn(url, request.method, this.options.region);
      return new AccessDeniedError('execute-api:Invoke', resource, message);
    }
    if (type === 'MissingAuthenticationTokenException' || message === 'Missing Authentication Token') {
      return new ApiAnswerError(
        response.status,
        'missing_authentication_token',
        `API Gateway has no route ${request.method} ${url.pathname} on this stack, or the request was not ` +
          'signed. Deploy the current stack, which adds every operations route.',
      );
    }
    if (
      response.status === 403 &&
      (/Signature|Token|UnrecognizedClient/.test(type) || /signature|security token/i.test(message))
    ) {
      return new CredentialsRefusedError('API Gateway', message, this.options.profile);
    }
    return new ApiAnswerError(response.status, type || 'api_gateway_error', message);
  }
}

/** Three tries in all: an operator waits at most a few seconds more before reading the failure. */
const MAX_ATTEMPTS = 3;

/** How long to wait before sending a keyed request again, or undefined when sending it again would not help. */
function retryDelayMs(error: unknown): number | undefined {
  if (error instanceof UnreachableError) return 1_000;
  if (!(error instanceof ApiAnswerError)) return undefined;
  if (error.status === 503) return 2_000;
  if (error.status === 409 && error.code === 'request_in_progress') return 2_000;
  return undefined;
}

/** The IAM resource of one call: `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>`. */
function executeApiArn(url: URL, method: string, region: string | undefined): string {
  const host = /^([a-z0-9]+)\.execute-api\.([a-z0-9-]+)\./.exec(url.hostname);
  const [stage = '*', ...rest] = url.pathname.split('/').filter((segment) => segment !== '');
  return `arn:aws:execute-api:${host?.[2] ?? region ?? '*'}:*:${host?.[1] ?? '*'}/${stage}/${method}/${rest.join('/')}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * RFC 3986 encoding, as SigV4 canonicalises: encodeURIComponent leaves `!'()*` alone, which API Gateway would
 * then encode on its side and compute another signature.
 */
function strictEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function encodePathSegment(segment: string): string {
  return strictEncode(segment);
}

export function encodeQuery(query: Readonly<Record<string, QueryValue>>): string {
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [String(value)];
    for (const one of values) pairs.push(`${strictEncode(name)}=${strictEncode(one)}`);
  }
  return pairs.join('&');
}
