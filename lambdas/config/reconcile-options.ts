import * as z from 'zod/mini';

/**
 * Reconciliation and parity options as the configuration file states them: the schemas and their defaults live
 * here, once, and the reconcile modules read the parsed values. An omitted group is parsed as `{}` (`prefault`),
 * so that it takes its fields' own defaults rather than a second copy of them.
 */

/** Retry delays for provider polling: exponential with full jitter (see reconcile/backoff.ts). */
export const BackoffSchema = z.strictObject({
  baseMs: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(60_000)), 200),
  capMs: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(900_000)), 20_000),
});
export type Backoff = z.infer<typeof BackoffSchema>;

export const CircuitBreakerSchema = z.strictObject({
  failureThreshold: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(1000)), 5),
  coolDownMs: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(86_400_000)), 60_000),
});
export type CircuitBreakerOptions = z.infer<typeof CircuitBreakerSchema>;

export const RateLimitSchema = z.strictObject({
  /** Sustained requests per second to one source. */
  requestsPerSecond: z.number().check(z.positive(), z.maximum(1000)),
  /** Requests that may go out back to back after an idle spell. */
  burst: z.number().check(z.int(), z.minimum(1), z.maximum(1000)),
  /** A per-property quota some providers add on top of the per-source one, e.g. 10 a minute. */
  perPropertyPerMinute: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(60_000))),
});
export type RateLimit = z.infer<typeof RateLimitSchema>;

export const PollingOptionsSchema = z.strictObject({
  baseUrl: z.url({
    protocol: /^https?$/,
    error: 'must be an http(s) URL such as https://api.example.com/v2',
  }),
  pageSize: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(1000)), 200),
  rateLimit: RateLimitSchema,
  /** Requests per page before giving up on 5xx, timeouts and malformed pages; 429s are not counted here. */
  maxAttempts: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(20)), 6),
  backoff: z.prefault(BackoffSchema, {}),
  requestTimeoutMs: z._default(z.number().check(z.int(), z.minimum(100), z.maximum(120_000)), 10_000),
  breaker: z.prefault(CircuitBreakerSchema, {}),
});
export type PollingOptions = z.infer<typeof PollingOptionsSchema>;

export const DriftOptionsSchema = z.strictObject({
  /**
   * Drift (mismatched / compared fields, in percent) above which local state is overwritten. 0.5 %: the variance
   * in rates and availability at which revenue teams usually trigger a reconciliation.
   */
  thresholdPercent: z._default(z.number().check(z.minimum(0), z.maximum(100)), 0.5),
  /** Measure and report only: no writes and no audit records. */
  dryRun: z._default(z.boolean(), false),
  /** Below the threshold, also write each mismatch to the audit log as `observed`. */
  recordObserved: z._default(z.boolean(), true),
});
export type DriftOptions = z.infer<typeof DriftOptionsSchema>;

/**
 * A difference is a violation when it exceeds either bound given. With no bound at all, any difference is one:
 * parity means equal rates unless the property says how much slack it accepts.
 */
export const ParityToleranceSchema = z.strictObject({
  /** Largest accepted difference in minor units (e.g. 100 = 1.00 EUR). */
  absoluteMinor: z.optional(z.number().check(z.int(), z.minimum(0))),
  /** Largest accepted difference as a percentage of the source of truth's rate. */
  percent: z.optional(z.number().check(z.minimum(0), z.maximum(1000))),
});
export type ParityTolerance = z.infer<typeof ParityToleranceSchema>;

export const ParityOptionsSchema = z
  .strictObject({
    properties: z._default(
      z.array(
        z.strictObject({
          propertyId: z.string().check(z.minLength(1)),
          /** The channel whose rate is right, normally the channel manager's source id. */
          sourceOfTruth: z.string().check(z.minLength(1)),
          /** Replaces the default tolerance for this property. */
          tolerance: z.optional(ParityToleranceSchema),
        }),
      ),
      [],
    ),
    defaultTolerance: z._default(ParityToleranceSchema, {}),
  })
  .check(
    z.refine(
      (options) => new Set(options.properties.map((p) => p.propertyId)).size === options.properties.length,
      {
        message: 'each propertyId may appear only once in parity.properties; merge the duplicate entries',
      },
    ),
  );
export type ParityOptions = z.infer<typeof ParityOptionsSchema>;
