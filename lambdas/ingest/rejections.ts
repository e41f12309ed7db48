import {
  REJECTION_STATUSES,
  type RecordOutcome,
  type Rejection,
  type RejectionRecorder,
  UNCONFIGURED_SOURCES,
} from '../ledger/rejections';
import type { Clock } from '../shared/clock';
import type { Crypto } from '../shared/crypto';
import type { IngestRequest } from './ingest';
import type { PreparedSource } from './sources';

/** Where the edge records the requests it refuses for good, and how many per source and second. */
export interface RejectionRecording {
  readonly recorder: RejectionRecorder;
  readonly recordsPerSecond: number;
  readonly retentionSeconds: number;
}

export interface RejectionDependencies {
  readonly sources: ReadonlyMap<string, PreparedSource>;
  readonly rejections: RejectionRecording;
  readonly clock: Clock;
  readonly crypto: Crypto;
}

/** How the edge answered a refused request, and API Gateway's id for it. */
export interface Refusal {
  readonly status: number;
  /** The error code the sender was answered with. */
  readonly code: string;
  readonly requestId: string;
}

export type RejectionRecordingResult =
  /** A retryable refusal (409, 5xx): nothing to record. */
  | { readonly outcome: 'not_a_rejection' }
  | { readonly outcome: RecordOutcome }
  /** The log could not be written; the sender's answer stands, the caller logs and counts this. */
  | { readonly outcome: 'failed'; readonly cause: unknown };

// The path, the header names and the address are the sender's to choose: each is cut so that a record stays small.
const MAX_SOURCE_ID_LENGTH = 128;
const MAX_HEADER_NAMES = 64;
const MAX_HEADER_NAME_LENGTH = 128;
const MAX_ADDRESS_LENGTH = 64;

/**
 * Records a refused request in the rejection log: its time, the source id from its path, the sender's address,
 * the answer, the names of its headers and its body's size and SHA-256. Never the body, a header value, a secret
 * or a signature. A source id that is not configured falls under the bound all such ids share, so that a flood of
 * made-up ids cannot grow the log either. Never throws: a failure to record must not change the answer.
 */
export async function recordRejection(
  request: IngestRequest,
  refusal: Refusal,
  deps: RejectionDependencies,
): Promise<RejectionRecordingResult> {
  if (!REJECTION_STATUSES.has(refusal.status)) return { outcome: 'not_a_rejection' };
  try {
    const now = deps.clock.now();
    const { rejections } = deps;
    const sourceId = request.sourceId.slice(0, MAX_SOURCE_ID_LENGTH) || UNCONFIGURED_SOURCES;
    const rejection: Rejection = {
      at: now.toISOString(),
      requestId: refusal.requestId,
      sourceId,
      ...(request.sourceIp ? { senderAddress: request.sourceIp.slice(0, MAX_ADDRESS_LENGTH) } : {}),
      status: refusal.status,
      reason: refusal.code,
      headerNames: headerNamesOf(request.headers),
      bodyBytes: request.rawBody.length,
      bodySha256: deps.crypto.sha256Hex(request.rawBody),
      expiresAt: Math.floor(now.getTime() / 1000) + rejections.retentionSeconds,
    };
    const bucket = deps.sources.has(request.sourceId) ? request.sourceId : UNCONFIGURED_SOURCES;
    const outcome = await rejections.recorder.record(rejection, {
      bucket,
      perSecond: rejections.recordsPerSecond,
    });
    return { outcome };
  } catch (cause) {
    return { outcome: 'failed', cause };
  }
}

function headerNamesOf(headers: IngestRequest['headers']): string[] {
  const names = Object.keys(headers)
    .filter((name) => headers[name] !== undefined)
    .map((name) => name.toLowerCase().slice(0, MAX_HEADER_NAME_LENGTH));
  return [...new Set(names)].sort().slice(0, MAX_HEADER_NAMES);
}
