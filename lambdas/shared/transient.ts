import { isThrottlingError, isTransientError } from '@smithy/core/retry';

/**
 * Whether a failed call to DynamoDB or SQS is worth retrying later: the service did not answer (connection
 * refused or reset, timeout), answered that it is unavailable (5xx), or throttled the request. The AWS SDK's
 * own retry strategy classifies errors with these same functions, so "transient" means here what it means
 * when the SDK decides to retry; by the time an error reaches the caller, those retries are spent.
 */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // Both functions read optional fields ($metadata, $retryable, code, cause) of whatever they are given.
  const candidate = error as Parameters<typeof isTransientError>[0];
  return isThrottlingError(candidate) || isTransientError(candidate);
}
