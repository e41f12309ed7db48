import {
  AuthenticationError,
  ConflictError,
  ForbiddenSenderError,
  InvalidRequestError,
  MethodNotAllowedError,
  NotFoundError,
  ParitySyncError,
  PayloadTooLargeError,
  ProviderFailureError,
  UnavailableError,
  UnprocessableError,
  UnsupportedMediaTypeError,
} from './errors';

/**
 * The one place an error's HTTP status is decided, for the HTTP adapters and the local servers alone: the first
 * entry whose class the error is an instance of. Domain code throws by meaning and never sees a status.
 */
const HTTP_STATUSES: ReadonlyArray<readonly [abstract new (...args: never[]) => ParitySyncError, number]> = [
  [InvalidRequestError, 400],
  [AuthenticationError, 401],
  [ForbiddenSenderError, 403],
  [NotFoundError, 404],
  [MethodNotAllowedError, 405],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [UnprocessableError, 422],
  [ProviderFailureError, 502],
  [UnavailableError, 503],
];

/**
 * The status a failure is answered with, or undefined when it is not a failure anyone outside can act on (any
 * other error, a ParitySyncError of no listed class included): a fault in ParitySync, which the adapter answers
 * with 500 and logs.
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (!(error instanceof ParitySyncError)) return undefined;
  return HTTP_STATUSES.find(([kind]) => error instanceof kind)?.[1];
}
