import type { ServiceNotice } from '../domain/canonical';

/**
 * The custom metrics ParitySync's functions emit, and the names the dashboard and alarms read them by: one list,
 * so that a renamed metric cannot silently leave a widget or an alarm watching nothing.
 */

/** The CloudWatch namespace every function emits to unless POWERTOOLS_METRICS_NAMESPACE says otherwise. */
export const DEFAULT_METRICS_NAMESPACE = 'ParitySync';

/**
 * The `service` dimension Powertools adds to every metric: each function's POWERTOOLS_SERVICE_NAME. The same
 * metric name from two functions (EventsRejected) is told apart by it.
 */
export const METRIC_SERVICES = {
  ingest: 'paritysync-ingest',
  apply: 'paritysync-apply',
  read: 'paritysync-read',
  reconcile: 'paritysync-reconcile',
  replay: 'paritysync-replay',
  parity: 'paritysync-parity',
} as const;

/** What the ingest function emits, once per delivery. */
export const INGEST_METRICS = {
  /** Every delivery that reached the function. */
  received: 'EventsReceived',
  /** Newly accepted events, with the dimension `action` (`enqueued` or `recorded`). */
  accepted: 'EventsAccepted',
  /** Deliveries of an event the ledger already holds: answered 200, nothing queued again. */
  duplicates: 'DuplicateDeliveries',
  /** Refused deliveries, with the dimension `reason`: the error code the sender was answered with. */
  rejected: 'EventsRejected',
  /** Refusals because the signature was missing or wrong (a subset of EventsRejected). */
  signatureFailures: 'SignatureFailures',
  /** Time from the function receiving the delivery to its answer. */
  latency: 'IngestLatencyMs',
  /** Refusals (4xx) the rejection log could not record; the sender's answer was not affected. */
  rejectionsNotRecorded: 'RejectionsNotRecorded',
} as const;

/** What the apply consumer emits, per event (EventLagMs for applied events only) or per signal. */
export const APPLY_METRICS = {
  applied: 'EventsApplied',
  rejected: 'EventsRejected',
  parked: 'EventsParked',
  skipped: 'EventsSkipped',
  failures: 'ApplyFailures',
  /** Records received more than once: each is a retry of an earlier failed attempt. */
  retrySaturation: 'RetrySaturation',
  lag: 'EventLagMs',
  /** Provider notices that need an operator, with the dimension `notice` (token_expired, access_revoked). */
  serviceNotices: 'ServiceNotices',
  inventoryCapped: 'InventoryCapped',
  parkedReleased: 'ParkedReleased',
  /**
   * Events that reached apply although they break the applicability contract the edge enforces: a bug class, not
   * a sender error. Each is rejected with its problems on the ledger entry, never retried.
   */
  contractViolations: 'ContractViolations',
} as const;

/**
 * What the reconciliation function emits once per run: per polled source (dimension `source`) and per parity
 * property (dimension `property`). Both are bounded by the configuration, so their cardinality is too.
 */
export const RECONCILE_METRICS = {
  /** Source runs, with the dimension `outcome` (`reconciled` or `failed`). */
  runs: 'ReconcileRuns',
  /** Runs that stopped at their time budget and will resume from a cursor. */
  budgetExhausted: 'ReconcileBudgetExhausted',
  /** Mismatched / compared field groups of the run, in percent. */
  driftPercent: 'DriftPercent',
  comparedFields: 'ComparedFields',
  mismatchedFields: 'MismatchedFields',
  /** Mismatches the provider changed after our last write: webhooks that never reached us. */
  silentMisses: 'SilentMisses',
  correctedFields: 'CorrectedFields',
  nightsPolled: 'NightsPolled',
  /** Polled nights left out: malformed records and ids without a mapping. */
  nightsSkipped: 'NightsSkipped',
  pages: 'ReconcilePages',
  requests: 'ReconcileRequests',
  /** 429 answers from the provider. */
  throttled: 'ReconcileThrottled',
  retries: 'ReconcileRetries',
  /** 1 while the source's circuit breaker is open or half-open after the run, 0 when closed. */
  circuitOpen: 'CircuitOpen',
  /** Source runs that failed, with the dimension `reason` (circuit_open, provider_auth_failed, ...). */
  failures: 'ReconcileFailures',
  parityViolations: 'ParityViolations',
  parityCurrencyMismatches: 'ParityCurrencyMismatches',
  parityNightsChecked: 'ParityNightsChecked',
} as const;

/** What the reconciliation work DLQ's consumer emits, per message it handled (service `paritysync-reconcile`). */
export const RECONCILE_WORK_METRICS = {
  /**
   * Work items whose message reached the work DLQ: their worker failed or was stopped on every receive. Each
   * was ended as failed in its run, by its worker's last receive or by the DLQ's consumer.
   */
  deadLettered: 'WorkItemsDeadLettered',
  /**
   * Dead-lettered messages the DLQ's consumer could not end the item of this time (the run log unavailable, a
   * worker still holding the item): each is reported failed alone and retried from the DLQ, its run still open.
   * A partial batch failure is not a Lambda error, so this is what tells.
   */
  deadLetterNotEnded: 'WorkDeadLettersNotEnded',
} as const;

/**
 * What the parity-on-change function emits once per batch of stream records: counts of distinct changed nights.
 * A night already out of parity that changes and stays out counts as flagged again: telling it apart would cost
 * a read of its findings per change.
 */
export const PARITY_METRICS = {
  /** Changed nights of a parity property within the horizon whose channels were read and compared. */
  nightsChecked: 'NightsChecked',
  /** Checked nights out of parity: their findings written. */
  nightsFlagged: 'NightsFlagged',
  /** Checked nights back in parity: their earlier findings cleared. */
  nightsCleared: 'NightsCleared',
  /** Nights whose check failed: their records are retried, then dead-lettered. */
  checkFailures: 'CheckFailures',
} as const;

/** The values of the `notice` dimension of ServiceNotices. */
export const SERVICE_NOTICES = ['token_expired', 'access_revoked'] as const satisfies ReadonlyArray<
  ServiceNotice['notice']
>;

/** Dimension names used next to `service`. */
export const METRIC_DIMENSIONS = {
  action: 'action',
  reason: 'reason',
  notice: 'notice',
  source: 'source',
  property: 'property',
  outcome: 'outcome',
} as const;

/**
 * Every `reason` the ingest function may report on EventsRejected. Anything else is reported as `other`, so the
 * dimension's cardinality (and the CloudWatch bill) stays bounded whatever an error carries.
 */
export const INGEST_REJECTION_REASONS = [
  // 400
  'invalid_json',
  'invalid_encoding',
  'duplicate_key',
  'forbidden_key',
  'too_deep',
  'imprecise_number',
  'missing_header',
  'bad_header',
  // 401
  'missing_signature',
  'missing_timestamp',
  'invalid_signature',
  'timestamp_out_of_tolerance',
  'stale_event',
  // 403, 404, 409, 413, 415, 422
  'sender_not_allowed',
  'unknown_source',
  'delivery_in_progress',
  'payload_too_large',
  'unsupported_media_type',
  'schema_violation',
  'unknown_event_type',
  'not_applicable',
  // 5xx: the event was not made durable, or the function failed unexpectedly
  'ledger_unavailable',
  'ledger_too_slow',
  'enqueue_failed',
  'secrets_unavailable',
  'internal_error',
  'other',
] as const;

export type IngestRejectionReason = (typeof INGEST_REJECTION_REASONS)[number];

/** Codes that mean the signature could not be verified: counted as SignatureFailures as well. */
export const SIGNATURE_FAILURE_CODES: ReadonlySet<string> = new Set([
  'invalid_signature',
  'missing_signature',
]);
