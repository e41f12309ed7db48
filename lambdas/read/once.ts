import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyPersistenceLayerError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import { parseIsoDateTime } from '../domain/dates';
import { ConflictError, InvalidRequestError } from '../shared/errors';
import type { ReadAnswer, ReadApiResource, ReadRequest } from './router';

/** The request header that makes a request once-only; its name is matched in any case. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/**
 * The requests that act and that a client may make once-only with an Idempotency-Key. Without one they run every
 * time, as they are safe to repeat: a hold, resume or redrive asked again does what it says again.
 */
export const KEYED_ROUTES: ReadonlySet<ReadApiResource> = new Set<ReadApiResource>([
  '/replays',
  '/sources/{sourceId}/hold',
  '/sources/{sourceId}/resume',
  '/dlq/{queue}/redrive',
  '/dlq/{queue}/delete',
]);

/**
 * How long an answer is kept: long enough to absorb a client's or API Gateway's retry, and an operator pressing
 * twice.
 */
export const OPERATION_REQUEST_SECONDS = 600;

/** Clients send a UUID; the bound keeps a key within what the requests table is meant to hold. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** A request that is still being answered: its duplicate waits rather than acting a second time. */
export class RequestInProgressError extends ConflictError {}

/** What the idempotent function is given: JMESPath picks its key and the part a reused key must repeat. */
interface OnceInput {
  readonly headers: { readonly [IDEMPOTENCY_KEY_HEADER]?: string };
  /** The replay asked for, as it counts: a replay without a key is once-only by what it replays. */
  readonly replay?: unknown;
  /** What a repeated key must repeat: another request under a used key is refused. */
  readonly check: unknown;
  readonly request: ReadRequest;
}

/**
 * Runs KEYED_ROUTES' POSTs at most once per key within OPERATION_REQUEST_SECONDS (Powertools idempotency), and
 * answers a repeat with the first answer:
 * - a request with an Idempotency-Key header is keyed by it (a retry of the same request, not a new one);
 * - `POST /replays` without one is keyed by its source, window and statuses, so the same replay asked twice
 *   starts one job;
 * - hold, resume, redrive and delete without one run every time.
 * A request that fails leaves no record, so its retry runs.
 */
export function oncePerRequest(
  handle: (request: ReadRequest) => Promise<ReadAnswer>,
  persistenceStore: BasePersistenceLayer | undefined,
): (request: ReadRequest, context?: Context) => Promise<ReadAnswer> {
  if (persistenceStore === undefined) return handle;
  const config = new IdempotencyConfig({
    // One persistence layer holds one configuration, so the header and the replay share a key expression.
    eventKeyJmesPath: `headers."${IDEMPOTENCY_KEY_HEADER}" || replay`,
    payloadValidationJmesPath: 'check',
    expiresAfterSeconds: OPERATION_REQUEST_SECONDS,
  });
  const once = makeIdempotent(async (input: OnceInput) => handle(input.request), {
    persistenceStore,
    config,
    // Records outlive a deployment: a new function name must not forget them.
    keyPrefix: 'read-api',
  });
  return async (request, context) => {
    const input = onceInputOf(request);
    if (input === undefined) return handle(request);
    // A request cut short by the function's timeout stays in progress only for the time it had left.
    if (context !== undefined) config.registerLambdaContext(context);
    try {
      return await once(input);
    } catch (error) {
      throw answerable(error, request);
    }
  };
}

function onceInputOf(request: ReadRequest): OnceInput | undefined {
  if (!KEYED_ROUTES.has(request.resource) || request.method.toUpperCase() !== 'POST') return undefined;
  const key = request.idempotencyKey;
  if (key !== undefined) {
    if (!KEY_PATTERN.test(key)) {
      throw new InvalidRequestError(
        'invalid_idempotency_key',
        `The Idempotency-Key header has ${key.length} characters, or characters other than visible ASCII. ` +
          'Send 1 to 255 visible ASCII characters, a fresh UUID per operation, or leave the header out.',
      );
    }
    return {
      headers: { [IDEMPOTENCY_KEY_HEADER]: key },
      check: { resource: request.resource, path: request.pathParameters, body: bodyValue(request.body) },
      request,
    };
  }
  if (request.resource !== '/replays') return undefined;
  const replay = replayKeyOf(request.body);
  return { headers: {}, replay, check: replay, request };
}

/** A JSON body by its value, so that spacing and key order do not make it another; other text as it is. */
function bodyValue(body: string | undefined): unknown {
  const text = body?.trim() ?? '';
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    // Refused by the route, and a refusal is not remembered.
    return { text };
  }
}

/**
 * The replay as the job will run it: instants by the instant they name and statuses in any order. What the
 * route refuses is keyed as it came; its refusal leaves no record either way.
 */
function replayKeyOf(body: string | undefined): unknown {
  const value = bodyValue(body);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { body: value };
  const fields = value as Record<string, unknown>;
  const instant = (text: unknown) =>
    typeof text === 'string' ? (parseIsoDateTime(text)?.toISOString() ?? text) : text;
  const { statuses } = fields;
  return {
    replay: {
      ...fields,
      from: instant(fields.from),
      to: instant(fields.to),
      statuses: Array.isArray(statuses) ? [...statuses].map(String).sort() : statuses,
    },
  };
}

function answerable(error: unknown, request: ReadRequest): unknown {
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return new RequestInProgressError(
      'request_in_progress',
      `The same ${request.method} ${request.resource} (same Idempotency-Key, or for a replay the same source, ` +
        'window and statuses) is still being answered. Retry in a few seconds for its answer.',
    );
  }
  if (error instanceof IdempotencyValidationError) {
    return new InvalidRequestError(
      'idempotency_key_reused',
      `The Idempotency-Key ${JSON.stringify(request.idempotencyKey)} was used within the last ` +
        `${OPERATION_REQUEST_SECONDS / 60} minutes for another request (route, path or body differ). ` +
        'Send a fresh key for each operation.',
    );
  }
  // The store's own failure (throttled, unreachable), for the adapter to answer as such.
  if (error instanceof IdempotencyPersistenceLayerError && error.cause !== undefined) return error.cause;
  return error;
}
