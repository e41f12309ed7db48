import type { Page } from '../domain/page';

/**
 * The statuses of a rejection: the edge refused the request for good, and the sender must change it before
 * sending it again. 409 and 5xx answers are not rejections: the sender is asked to retry the same request.
 */
export const REJECTION_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 413, 415, 422]);

/**
 * The bound, and the count, every source id that is not configured falls under: ids made up by a sender must
 * not each get a bound of their own. Source ids are a-z, 0-9 and "-", so this can name no configured source.
 */
export const UNCONFIGURED_SOURCES = '(unconfigured)';

/**
 * One refused request, as the rejection log keeps it: who sent what shape of request and why it was refused.
 * Never the body, a header value, a secret or a signature.
 */
export interface Rejection {
  /** ISO instant at which the edge refused it. */
  readonly at: string;
  /** API Gateway's request id: two rejections in the same millisecond are told apart by it. */
  readonly requestId: string;
  /** The source id as the request's path gave it, configured or not. */
  readonly sourceId: string;
  readonly senderAddress?: string;
  readonly status: number;
  /** The error code the sender was answered with. */
  readonly reason: string;
  /** Lower-case, sorted. */
  readonly headerNames: readonly string[];
  readonly bodyBytes: number;
  readonly bodySha256: string;
  /** Epoch seconds; DynamoDB TTL removes the record after the retention. */
  readonly expiresAt: number;
}

/** The bound a rejection is recorded under. */
export interface RecordBound {
  /** Its source id when configured, otherwise UNCONFIGURED_SOURCES. */
  readonly bucket: string;
  /** Records kept per bucket and second of `at`; the rest are counted per bucket and UTC day. */
  readonly perSecond: number;
}

/** `recorded`: kept whole. `counted`: the second's bound was reached, so only the day's count went up. */
export type RecordOutcome = 'recorded' | 'counted';

/**
 * The edge's side. The bound is kept by the store itself (a conditional counter per bucket and second), not in
 * memory: every function instance refusing requests for one source shares it.
 */
export interface RejectionRecorder {
  record(rejection: Rejection, bound: RecordBound): Promise<RecordOutcome>;
}

export interface RejectionQuery {
  /** One source id as recorded; every source's when absent. */
  readonly sourceId?: string;
  /** One error code; every code when absent. */
  readonly reason?: string;
  /** Inclusive ISO instants, as `Date.toISOString` writes them. */
  readonly from: string;
  readonly to: string;
  readonly limit: number;
  /** The `cursor` of the page before, for the same query. */
  readonly cursor?: string;
}

/** Rejections refused beyond the bound and so not recorded, for one bucket and UTC day. */
export interface UnrecordedCount {
  readonly bucket: string;
  /** YYYY-MM-DD */
  readonly day: string;
  readonly count: number;
}

export interface UnrecordedQuery {
  /** One bucket; every bucket when absent. */
  readonly bucket?: string;
  /** Inclusive UTC days, YYYY-MM-DD. */
  readonly fromDay: string;
  readonly toDay: string;
}

/** The read API's side. */
export interface RejectionReader {
  /** Newest first. */
  list(query: RejectionQuery): Promise<Page<Rejection>>;
  /** Oldest day first; days and buckets with nothing counted are left out. */
  unrecorded(query: UnrecordedQuery): Promise<readonly UnrecordedCount[]>;
}

/** The UTC day of an ISO instant, as day counters are keyed. */
export function utcDay(at: string): string {
  return new Date(at).toISOString().slice(0, 10);
}
