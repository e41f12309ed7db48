import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { ReadAnswer, ReadApiResource, ReadRequest } from './router';

/** The requests that start work: repeated within OPERATION_REQUEST_SECONDS, they answer the first answer. */
export const ONCE_ROUTES: ReadonlySet<ReadApiResource> = new Set<ReadApiResource>([
  '/replays',
  '/sources/{sourceId}/hold',
  '/sources/{sourceId}/resume',
  '/dlq/{queue}/redrive',
]);

/**
 * How long a request's answer is kept: long enough to absorb a client's or API Gateway's retry, and an operator
 * pressing twice; short enough that holding a source again after a resume soon does what it says.
 */
export const OPERATION_REQUEST_SECONDS = 600;

/**
 * Runs the requests of ONCE_ROUTES at most once per key within OPERATION_REQUEST_SECONDS (Powertools
 * idempotency): the key is the route, its path parameters and its body, so the same operation asked twice starts
 * one job (or one hold, one redrive) and both callers get the same answer. A request that fails leaves no record,
 * so its retry runs. Other routes run as they are.
 */
export function oncePerRequest(
  handle: (request: ReadRequest) => Promise<ReadAnswer>,
  persistenceStore: BasePersistenceLayer | undefined,
): (request: ReadRequest) => Promise<ReadAnswer> {
  if (persistenceStore === undefined) return handle;
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    expiresAfterSeconds: OPERATION_REQUEST_SECONDS,
  });
  const once = makeIdempotent(
    async (input: { readonly key: unknown; readonly request: ReadRequest }) => handle(input.request),
    { persistenceStore, config },
  );
  return (request) =>
    ONCE_ROUTES.has(request.resource) && request.method.toUpperCase() === 'POST'
      ? once({ key: requestKey(request), request })
      : handle(request);
}

/** The route, path and body; a body that is JSON counts by its value, so spacing does not make it another. */
function requestKey(request: ReadRequest): unknown {
  const text = request.body?.trim() ?? '';
  let body: unknown = text;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    // An unreadable body is refused by the route; keyed by its text, the refusal is not remembered either way.
  }
  return { resource: request.resource, path: request.pathParameters, body };
}
