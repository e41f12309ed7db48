import type { FieldProblem } from '../domain/problems';

export type { FieldProblem };

/**
 * Every failure a sender can cause or observe maps to one of these. Each carries the HTTP status the edge
 * answers with and a stable machine-readable `code`; the message says what was received and how to fix it.
 */
export abstract class ParitySyncError extends Error {
  abstract readonly status: number;
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** The JSON body the edge returns. Never includes secrets, signatures or payload values. */
  toBody(): Record<string, unknown> {
    return { error: this.code, message: this.message };
  }
}

/** 400: the request cannot be read (malformed JSON, duplicate or forbidden keys, malformed or missing headers). */
export class BadRequestError extends ParitySyncError {
  readonly status = 400;
}

/** 401: authenticity could not be established (signature missing or wrong, timestamp outside tolerance). */
export class AuthenticationError extends ParitySyncError {
  readonly status = 401;
}

/** 403: the sender's address is outside the source's allowlist. */
export class ForbiddenSenderError extends ParitySyncError {
  readonly status = 403;
}

/** 404: no source with this id is configured. */
export class UnknownSourceError extends ParitySyncError {
  readonly status = 404;
}

/** 405: only POST is accepted on the ingest route. */
export class MethodNotAllowedError extends ParitySyncError {
  readonly status = 405;
}

/** 409: another delivery of the same event is being made durable right now; retrying shortly is safe. */
export class DeliveryInProgressError extends ParitySyncError {
  readonly status = 409;
}

/** 413: the body exceeds the configured cap. */
export class PayloadTooLargeError extends ParitySyncError {
  readonly status = 413;
}

/** 415: the body is not declared as JSON. */
export class UnsupportedMediaTypeError extends ParitySyncError {
  readonly status = 415;
}

/** 422: the JSON is well formed and authentic but does not match the kind's schema. */
export class SchemaViolationError extends ParitySyncError {
  readonly status = 422;
  readonly fields: readonly FieldProblem[];

  constructor(code: string, message: string, fields: readonly FieldProblem[], options?: { cause?: unknown }) {
    super(code, message, options);
    this.fields = fields;
  }

  override toBody(): Record<string, unknown> {
    return { ...super.toBody(), fields: this.fields };
  }
}

/** 503: the event could not be made durable (ledger or queue unavailable). The sender must retry. */
export class NotDurableError extends ParitySyncError {
  readonly status = 503;
}

/**
 * 503: a store the request needs (DynamoDB, SQS) did not answer or refused for now (timeout, connection
 * failure, throttling). Nothing about the request is wrong; the same request is expected to succeed later.
 */
export class StoreUnavailableError extends ParitySyncError {
  readonly status = 503;
}

/** Raised at synth or start-up for an invalid configuration or environment; never reaches a sender. */
export class ConfigurationError extends Error {
  readonly problems: readonly FieldProblem[];

  constructor(message: string, problems: readonly FieldProblem[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigurationError';
    this.problems = problems;
  }
}
