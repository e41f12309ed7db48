/**
 * The settings every AWS SDK client in ParitySync's functions is built with: explicit connection and request
 * timeouts and a bounded number of attempts, so that a stalled service costs a known, short time instead of
 * the SDK's defaults (no timeout at all: a request waits as long as the connection stays open).
 *
 * Use it as the client's configuration, adding anything else the client needs:
 * `new DynamoDBClient(awsClientConfig('ingest'))`, `new SQSClient({ ...awsClientConfig('apply'), endpoint })`.
 */

export interface AwsClientProfile {
  /** Longest wait for a TCP (and TLS) connection, per attempt. */
  readonly connectionTimeoutMs: number;
  /** Longest wait for one attempt's whole answer, connection included. */
  readonly requestTimeoutMs: number;
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
}

/**
 * Per function. The ingest and read functions answer HTTP callers within their 10 s timeout; the apply function
 * works through an SQS batch within 30 s, where failing one event and letting SQS redeliver it beats the
 * function timing out with the whole batch; the reconcile function has a budget of minutes and a 60 s margin
 * to save its checkpoint.
 */
export const AWS_CLIENT_PROFILES = {
  ingest: { connectionTimeoutMs: 500, requestTimeoutMs: 1_000, maxAttempts: 2 },
  read: { connectionTimeoutMs: 500, requestTimeoutMs: 2_000, maxAttempts: 2 },
  apply: { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 3 },
  reconcile: { connectionTimeoutMs: 1_000, requestTimeoutMs: 5_000, maxAttempts: 5 },
  // A page at a time within 60 s: a slow call retried beats the work message coming back after its timeout.
  replay: { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 3 },
  // A stream batch within 30 s: a night that still fails is reported and its records retried by the event source.
  parity: { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 3 },
} as const satisfies Record<string, AwsClientProfile>;

export type AwsClientRole = keyof typeof AWS_CLIENT_PROFILES;

/**
 * The SDK's largest backoff before retry number `n` (0-based), in ms: it waits a random time below
 * 1 s × 2^n after a throttling error, and less after others.
 */
const MAX_BACKOFF_BASE_MS = 1_000;
const MAX_BACKOFF_MS = 20_000;

/**
 * The longest one SDK call can take under a profile: every attempt timing out, with the largest backoff between
 * them. A throttling answer that carries a retry-after hint can stretch one wait by up to 5 s more; AWS services
 * rarely send one.
 */
export function worstCaseCallMs(profile: AwsClientProfile): number {
  let total = profile.maxAttempts * profile.requestTimeoutMs;
  for (let retry = 0; retry < profile.maxAttempts - 1; retry++) {
    total += Math.min(MAX_BACKOFF_MS, MAX_BACKOFF_BASE_MS * 2 ** retry);
  }
  return total;
}

/** What SDK v3 clients (DynamoDBClient, SQSClient, SecretsManagerClient) accept as configuration. */
export interface AwsClientConfig {
  readonly maxAttempts: number;
  readonly requestHandler: {
    readonly connectionTimeout: number;
    readonly requestTimeout: number;
    /** Without it the SDK only logs a warning when the request timeout passes, and keeps waiting. */
    readonly throwOnRequestTimeout: true;
  };
}

export function awsClientConfig(role: AwsClientRole): AwsClientConfig {
  const profile: AwsClientProfile = AWS_CLIENT_PROFILES[role];
  return {
    maxAttempts: profile.maxAttempts,
    requestHandler: {
      connectionTimeout: profile.connectionTimeoutMs,
      requestTimeout: profile.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  };
}
