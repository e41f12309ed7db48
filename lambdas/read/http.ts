import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  InvalidRequestError,
  MethodNotAllowedError,
  NotFoundError,
  ParitySyncError,
  StoreUnavailableError,
} from '../shared/errors';
import { httpStatusOf } from '../shared/http-status';
import { decodeUtf8 } from '../shared/strict-json';
import { isTransientAwsError } from '../shared/transient';
import { RedriveInProgressError } from './dead-letters';
import { IDEMPOTENCY_KEY_HEADER, oncePerRequest, RequestInProgressError } from './once';
import type { ReadApiDependencies } from './read';
import { handleReadRequest, READ_API_ROUTES, type ReadRequest, SUCCESS_STATUS } from './router';

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/** Long enough for throttling to ease or a restarting store to come back; short for an operator waiting. */
const STORE_RETRY_AFTER_SECONDS = '5';

/**
 * The failures the read API answers as such, with the status lambdas/shared/http-status.ts gives their class.
 * Any other error, a ParitySyncError of another class included, is a fault in ParitySync, answered 500.
 */
const READ_API_FAILURES: ReadonlyArray<abstract new (...args: never[]) => ParitySyncError> = [
  // Unreadable or invalid query, path, body or cursor.
  InvalidRequestError,
  NotFoundError,
  MethodNotAllowedError,
  // A dead-letter redrive while SQS is still moving the queue.
  RedriveInProgressError,
  // The same once-only request, still being answered.
  RequestInProgressError,
  StoreUnavailableError,
];

interface Answer {
  readonly status: number;
  /** A route's answer (one of wire.ts), or an error's `{ error, message }`. */
  readonly body: object;
}

const COMPILED_ROUTES = READ_API_ROUTES.map((route) => {
  const names: string[] = [];
  const pattern = route.resource.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { ...route, pattern: new RegExp(`^${pattern}$`), names };
});

/**
 * The route of a proxy event: its resource when API Gateway matched one of ours, otherwise its path (behind a
 * greedy `{proxy+}` resource, for example), matched against the same templates.
 */
function routeOf(event: APIGatewayProxyEvent): Pick<ReadRequest, 'resource' | 'pathParameters'> | undefined {
  const known = READ_API_ROUTES.find((route) => route.resource === event.resource);
  if (known) return { resource: known.resource, pathParameters: event.pathParameters ?? {} };
  for (const route of COMPILED_ROUTES) {
    const match = route.pattern.exec(event.path ?? '');
    if (!match) continue;
    const pathParameters: Record<string, string> = {};
    route.names.forEach((name, index) => {
      const raw = match[index + 1] ?? '';
      try {
        pathParameters[name] = decodeURIComponent(raw);
      } catch {
        pathParameters[name] = raw;
      }
    });
    return { resource: route.resource, pathParameters };
  }
  return undefined;
}

/**
 * Who is asking: with IAM authorisation, API Gateway names the signing identity; unsigned (locally, on
 * loopback), only the address is known.
 */
function callerOf(event: APIGatewayProxyEvent): { caller?: string } {
  const identity = event.requestContext?.identity;
  const caller =
    identity?.userArn ??
    identity?.caller ??
    (identity?.sourceIp ? `unsigned caller at ${identity.sourceIp}` : null);
  return caller ? { caller } : {};
}

/** A header's value by its name in any case: clients and proxies write header names as they please. */
function headerOf(event: APIGatewayProxyEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name && value !== undefined) return value;
  }
  return undefined;
}

function bodyText(event: APIGatewayProxyEvent): string | undefined {
  if (event.body == null) return undefined;
  return event.isBase64Encoded ? decodeUtf8(Buffer.from(event.body, 'base64')) : event.body;
}

/** Maps API Gateway proxy events to the routes, errors to the edge's JSON error shape, one log line per request. */
export function createReadApiHandler(
  deps: ReadApiDependencies,
  logger: Logger,
  /** Where the requests that start work are remembered (see oncePerRequest); without it each one runs. */
  operationRequests?: BasePersistenceLayer,
): (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult> {
  const handle = oncePerRequest((request) => handleReadRequest(request, deps), operationRequests);
  return async (event, context) => {
    const started = deps.clock.now().getTime();
    const route = routeOf(event);
    let answer: Answer;
    try {
      if (route === undefined) {
        throw new NotFoundError('route_not_found', `No route ${event.httpMethod} ${event.path}.`);
      }
      const idempotencyKey = headerOf(event, IDEMPOTENCY_KEY_HEADER);
      const body = await handle(
        {
          method: event.httpMethod,
          ...route,
          query: event.queryStringParameters ?? {},
          body: bodyText(event),
          ...(event.requestContext?.requestId ? { requestId: event.requestContext.requestId } : {}),
          ...callerOf(event),
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        },
        context,
      );
      answer = { status: SUCCESS_STATUS[route.resource] ?? 200, body };
    } catch (error) {
      answer = failureAnswer(event, route, error);
    }
    logger.info('request', {
      method: event.httpMethod,
      resource: route?.resource ?? event.path,
      status: answer.status,
      ...(answer.status >= 400 ? { error: (answer.body as { error?: unknown }).error } : {}),
      latencyMs: deps.clock.now().getTime() - started,
    });
    const headers =
      answer.status === 503 ? { ...JSON_HEADERS, 'retry-after': STORE_RETRY_AFTER_SECONDS } : JSON_HEADERS;
    return { statusCode: answer.status, headers, body: JSON.stringify(answer.body) };
  };

  function failureAnswer(
    event: APIGatewayProxyEvent,
    route: { readonly resource: string } | undefined,
    error: unknown,
  ): Answer {
    const failure = error instanceof ParitySyncError ? error : storeUnavailable(error);
    const status = READ_API_FAILURES.some((kind) => failure instanceof kind)
      ? httpStatusOf(failure)
      : undefined;
    if (failure !== undefined && status !== undefined) {
      if (failure instanceof StoreUnavailableError) {
        logger.warn('read API store unavailable', describeFailure(event, route, error));
      }
      return { status, body: failure.toBody() };
    }
    const requestId = event.requestContext?.requestId;
    logger.error('read API request failed', { ...describeFailure(event, route, error), requestId });
    return {
      status: 500,
      body: {
        error: 'internal_error',
        message:
          'The read API failed on this request: a fault in ParitySync, not in the request, so retrying will ' +
          `not help. The error is in the read function's log${requestId ? ` under request id ${requestId}` : ''}.`,
      },
    };
  }
}

function storeUnavailable(error: unknown): StoreUnavailableError | undefined {
  if (!isTransientAwsError(error)) return undefined;
  // The Node error code (ECONNREFUSED) says more than the name (Error) when there is one.
  const what =
    (error as Partial<NodeJS.ErrnoException>).code ?? (error as Partial<Error>).name ?? 'no answer';
  return new StoreUnavailableError(
    'store_unavailable',
    `The state store did not answer this request (${what}), so it could not be served. ` +
      `Retry it in ${STORE_RETRY_AFTER_SECONDS} seconds; repeating it is safe.`,
    { cause: error },
  );
}

function describeFailure(
  event: APIGatewayProxyEvent,
  route: { readonly resource: string } | undefined,
  error: unknown,
): Record<string, unknown> {
  return {
    method: event.httpMethod,
    resource: route?.resource,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  };
}
