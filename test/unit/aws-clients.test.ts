import { describe, expect, it } from 'vitest';
import { RECONCILE_TIMEOUT_MARGIN_SECONDS } from '../../lambdas/config/schema';
import {
  AWS_CLIENT_PROFILES,
  type AwsClientRole,
  awsClientConfig,
  worstCaseCallMs,
} from '../../lambdas/shared/aws-clients';
import { APPLY_TIMEOUT } from '../../lib/apply-pipeline';

/** The ingest and read functions' timeout (lib/ingest-api.ts, lib/read-api.ts). */
const API_FUNCTION_TIMEOUT_MS = 10_000;

describe('AWS client settings', () => {
  it('bounds a call by every attempt timing out plus the largest backoff before each retry', () => {
    expect(worstCaseCallMs({ connectionTimeoutMs: 100, requestTimeoutMs: 1_000, maxAttempts: 1 })).toBe(
      1_000,
    );
    expect(worstCaseCallMs({ connectionTimeoutMs: 100, requestTimeoutMs: 1_000, maxAttempts: 3 })).toBe(
      3 * 1_000 + 1_000 + 2_000,
    );
  });

  it.each(Object.keys(AWS_CLIENT_PROFILES) as AwsClientRole[])(
    'gives %s clients timeouts that raise an error, and a bounded number of attempts',
    (role) => {
      const config = awsClientConfig(role);
      expect(config.requestHandler.throwOnRequestTimeout).toBe(true);
      expect(config.requestHandler.connectionTimeout).toBeGreaterThan(0);
      expect(config.requestHandler.requestTimeout).toBeGreaterThanOrEqual(
        config.requestHandler.connectionTimeout,
      );
      expect(config.maxAttempts).toBeGreaterThanOrEqual(2);
    },
  );

  it('lets the edge claim, enqueue and confirm, each at its bound, within the ingest function timeout', () => {
    expect(3 * worstCaseCallMs(AWS_CLIENT_PROFILES.ingest)).toBeLessThan(API_FUNCTION_TIMEOUT_MS);
  });

  it('gives up a read API call within half of the function timeout', () => {
    expect(worstCaseCallMs(AWS_CLIENT_PROFILES.read)).toBeLessThanOrEqual(API_FUNCTION_TIMEOUT_MS / 2);
  });

  it('fails an apply call well before the function times out with the whole batch', () => {
    expect(worstCaseCallMs(AWS_CLIENT_PROFILES.apply)).toBeLessThanOrEqual(
      APPLY_TIMEOUT.toMilliseconds() / 2,
    );
  });

  it('fits a reconcile call into the margin a run keeps for saving its checkpoint', () => {
    expect(worstCaseCallMs(AWS_CLIENT_PROFILES.reconcile)).toBeLessThan(
      RECONCILE_TIMEOUT_MARGIN_SECONDS * 1_000,
    );
  });
});
