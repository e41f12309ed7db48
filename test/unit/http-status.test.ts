import { describe, expect, it } from 'vitest';
import { PermanentApplyError } from '../../lambdas/apply/apply';
import { SecretUnavailableError } from '../../lambdas/config/secrets';
import { CircuitOpenError } from '../../lambdas/reconcile/circuit-breaker';
import { ProviderAuthError } from '../../lambdas/reconcile/polling-client';
import { ReconciliationFailedError, UnknownPolledSourceError } from '../../lambdas/reconcile/service';
import { InvalidCursorError } from '../../lambdas/shared/cursor';
import {
  AuthenticationError,
  ConfigurationError,
  DeliveryInProgressError,
  ForbiddenSenderError,
  MethodNotAllowedError,
  NotDurableError,
  PayloadTooLargeError,
  SchemaViolationError,
  StoreUnavailableError,
  UnknownSourceError,
  UnsupportedMediaTypeError,
} from '../../lambdas/shared/errors';
import { httpStatusOf } from '../../lambdas/shared/http-status';

describe('the HTTP status of a failure', () => {
  it.each([
    [new InvalidCursorError('it is not base64url text'), 400],
    [new UnknownPolledSourceError('no source "x" is configured'), 400],
    [new AuthenticationError('invalid_signature', 'no signature matches'), 401],
    [new ForbiddenSenderError('sender_not_allowed', 'outside the allowlist'), 403],
    [new UnknownSourceError('unknown_source', 'no such source'), 404],
    [new MethodNotAllowedError('method_not_allowed', 'GET only'), 405],
    [new DeliveryInProgressError('delivery_in_progress', 'another delivery is in flight'), 409],
    [new PayloadTooLargeError('payload_too_large', 'too many bytes'), 413],
    [new UnsupportedMediaTypeError('unsupported_media_type', 'not JSON'), 415],
    [
      new SchemaViolationError('schema_violation', 'bad fields', [{ path: 'data', message: 'required' }]),
      422,
    ],
    [new ProviderAuthError('the provider refused the token', 401), 502],
    [new CircuitOpenError('ota', new Date('2026-01-01T00:00:00Z'), 5), 502],
    [new NotDurableError('queue_unavailable', 'the queue did not answer'), 503],
    [new StoreUnavailableError('store_unavailable', 'the table did not answer'), 503],
  ])('answers %s with %i, decided by its class', (error, status) => {
    expect(httpStatusOf(error)).toBe(status);
  });

  it('gives no status to a fault in ParitySync or to an error that is not a ParitySyncError', () => {
    const report = { startedAt: '', finishedAt: '', dryRun: false, sources: [], parity: [] };
    expect(httpStatusOf(new ReconciliationFailedError('a step failed', report, []))).toBeUndefined();
    expect(httpStatusOf(new ConfigurationError('PORT is not a number'))).toBeUndefined();
    expect(httpStatusOf(new Error('boom'))).toBeUndefined();
    expect(httpStatusOf('boom')).toBeUndefined();
  });

  it('keeps errors free of any status: their body is code, message and the fields they name', () => {
    const error = new SchemaViolationError('schema_violation', 'bad fields', [
      { path: 'data', message: 'required' },
    ]);
    expect(error).not.toHaveProperty('status');
    expect(error.toBody()).toEqual({
      error: 'schema_violation',
      message: 'bad fields',
      fields: [{ path: 'data', message: 'required' }],
    });
    expect(new AuthenticationError('invalid_signature', 'no match').toBody()).toEqual({
      error: 'invalid_signature',
      message: 'no match',
    });
  });

  it('classes the failures domain code raises outside the edge by meaning', () => {
    expect(httpStatusOf(new SecretUnavailableError('SIGNING_SECRET', 'not set'))).toBe(503);
    const rejection = new PermanentApplyError('inventory_conflict', 'exceeds physical rooms 20');
    expect([rejection.reason, httpStatusOf(rejection)]).toEqual(['inventory_conflict', 422]);
  });
});
