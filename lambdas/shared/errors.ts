import type { FieldProblem } from '../domain/problems';

export type { FieldProblem };

export interface ParitySyncErrorOptions {
  readonly cause?: unknown;
  /** The fields of what was received that are at fault, when the failure is about named fields. */
  readonly fields?: readonly FieldProblem[];
}

/**
 * Every failure ParitySync recognises is one of these: a class that says what went wrong, a stable
 * machine-readable `code`, and a message that says what was received and how to fix it. Errors know nothing of
 * transports: the HTTP adapters decide the status of each class (lambdas/shared/http-status.ts).
 */
export abstract class ParitySyncError extends Error {
  readonly code: string;
  readonly fields?: readonly FieldProblem[];

  constructor(code: string, message: string, options: ParitySyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    if (options.fields !== undefined) this.fields = options.fields;
  }

  /** The JSON body an answer carries. Never includes secrets, signatures or payload values. */
  toBody(): Record<string, unknown> {
    return {
      error: this.code,
      message: this.message,
      ...(this.fields === undefined ? {} : { fields: this.fields }),
    };
  }
}

/**
 * What was received cannot be read or asks for something that cannot be served: malformed JSON, duplicate or
 * forbidden keys, malformed or missing headers, an invalid query, cursor or invocation.
 */
export class InvalidRequestError extends ParitySyncError {}

/** Authenticity could not be established (signature missing or wrong, timestamp outside tolerance). */
export class AuthenticationError extends ParitySyncError {}

/** The sender is not allowed to deliver for this source (its address is outside the source's allowlist). */
export class ForbiddenSenderError extends ParitySyncError {}

/** The id names nothing ParitySync holds or is configured with. */
export class NotFoundError extends ParitySyncError {}

/** No source with this id is configured. */
export class UnknownSourceError extends NotFoundError {}

/** The route exists but does not offer this operation. */
export class MethodNotAllowedError extends ParitySyncError {}

/** The request collides with work in progress or with the state held; asking again later may succeed. */
export class ConflictError extends ParitySyncError {}

/** Another delivery of the same event is being made durable right now; retrying shortly is safe. */
export class DeliveryInProgressError extends ConflictError {}

/** The body exceeds the configured cap. */
export class PayloadTooLargeError extends ParitySyncError {}

/** The body is not declared as JSON. */
export class UnsupportedMediaTypeError extends ParitySyncError {}

/** Well formed and authentic, but it cannot be processed as sent, whatever the number of attempts. */
export class UnprocessableError extends ParitySyncError {}

/** The JSON does not match the kind's schema; `fields` names every offending field. */
export class SchemaViolationError extends UnprocessableError {
  declare readonly fields: readonly FieldProblem[];

  constructor(code: string, message: string, fields: readonly FieldProblem[], options?: { cause?: unknown }) {
    super(code, message, { ...options, fields });
  }
}

/** Something the work needs did not answer or refused for now; the same request is expected to succeed later. */
export class UnavailableError extends ParitySyncError {}

/** The event could not be made durable (ledger or queue unavailable). The sender must retry. */
export class NotDurableError extends UnavailableError {}

/**
 * A store the request needs (DynamoDB, SQS) did not answer or refused for now (timeout, connection failure,
 * throttling). Nothing about the request is wrong.
 */
export class StoreUnavailableError extends UnavailableError {}

/**
 * A provider's API failed us (unavailable, refused our credential, answered nonsense, or is paused by its
 * breaker). Reconciliation reports these per source instead of failing the run: they are the provider's, not
 * ParitySync's.
 */
export class ProviderFailureError extends ParitySyncError {}

/** Raised at synth or start-up for an invalid configuration or environment; never reaches a sender. */
export class ConfigurationError extends ParitySyncError {
  declare readonly fields: readonly FieldProblem[];

  constructor(message: string, problems: readonly FieldProblem[] = [], options?: { cause?: unknown }) {
    super('invalid_configuration', message, { ...options, fields: problems });
  }

  /** Every invalid setting, by path. */
  get problems(): readonly FieldProblem[] {
    return this.fields;
  }
}
