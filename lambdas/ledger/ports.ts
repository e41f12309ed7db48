import type { SourceKind } from '../domain/canonical';

/**
 * Delivery ledger statuses. The edge writes `received` (a claim with a short lease), then `enqueued` once SQS
 * has the event, or `recorded` for types ParitySync does not act on. The apply pipeline moves `enqueued`
 * on to `applied`, `rejected`, `parked` (waiting for a mapping) or `held` (its source is on hold), and marks
 * `dead-lettered` an event whose last allowed attempt failed, on its way to the dead-letter queue.
 */
export const LEDGER_STATUSES = [
  'received',
  'enqueued',
  'recorded',
  'applied',
  'rejected',
  'parked',
  'held',
  'dead-lettered',
] as const;
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];

/** The outcomes apply records. */
export type SettledStatus = 'applied' | 'rejected' | 'parked' | 'held';

/**
 * The statuses apply may still settle from: not yet applied (`received` when apply beat the edge's confirm),
 * waiting (`parked`, `held`), or redriven from the dead-letter queue. `applied` and `rejected` are final.
 */
export const SETTLEABLE_STATUSES: readonly LedgerStatus[] = [
  'received',
  'enqueued',
  'parked',
  'held',
  'dead-lettered',
];

export interface LedgerEntry {
  readonly eventId: string;
  readonly sourceId: string;
  readonly kind: SourceKind;
  readonly idempotencyKey: string;
  readonly providerEventType: string;
  readonly canonicalType?: string;
  readonly status: LedgerStatus;
  readonly occurredAt: string;
  readonly receivedAt: string;
  readonly updatedAt: string;
  /** Epoch ms until which the claiming request owns the enqueue; only meaningful while `received`. */
  readonly leaseUntil?: number;
  readonly deliveryCount: number;
  readonly messageId?: string;
  readonly reason?: string;
  /** Why the latest attempt to apply the event failed; an event that ends in the DLQ keeps saying why. */
  readonly lastError?: string;
  readonly lastErrorAt?: string;
  /** Epoch seconds; DynamoDB TTL removes the entry after the dedupe window. */
  readonly expiresAt: number;
}

/** Long enough for an SDK error's name and message; `note` cuts longer reasons so the entry stays small. */
export const MAX_NOTE_LENGTH = 1000;

export type ClaimOutcome =
  /** This request owns the event: it must enqueue it (or record it) and then confirm. */
  | { readonly outcome: 'claimed'; readonly entry: LedgerEntry }
  /** The event is already durable: a duplicate. */
  | { readonly outcome: 'duplicate'; readonly entry: LedgerEntry }
  /** Another request holds an unexpired lease on it. */
  | { readonly outcome: 'in_progress'; readonly entry: LedgerEntry };

/** The ledger as the read API sees it: one entry per event, with its outcome and failure notes. */
export interface LedgerReader {
  get(eventId: string): Promise<LedgerEntry | undefined>;
}

/**
 * The edge's deduplication store. `claim` is one conditional write: it creates the entry, or takes over an
 * entry still `received` whose lease has expired (the enqueue failed or the Lambda died after claiming),
 * so a sender's retry always gets the event enqueued and nothing is lost between the two writes.
 */
export interface DeliveryLedger extends LedgerReader {
  claim(entry: LedgerEntry, nowMs: number): Promise<ClaimOutcome>;
  /** `received` → `enqueued` (with the queue's message id) or `recorded`. */
  confirm(eventId: string, status: 'enqueued' | 'recorded', at: string, messageId?: string): Promise<void>;
  /**
   * Gives up the lease after a failed enqueue so the sender's immediate retry can take over. Only the claim that
   * set `leaseUntil` is released: once a later delivery has taken the event over, its lease stands.
   */
  release(eventId: string, leaseUntil: number): Promise<void>;
}

/** The ledger's side of applying: records the outcome exactly once per event, and why attempts failed. */
export interface ApplyLedger {
  status(eventId: string): Promise<LedgerStatus | undefined>;
  /** True when this call recorded the outcome; false when the entry was already settled (or has expired). */
  settle(eventId: string, status: SettledStatus, at: string, reason?: string): Promise<boolean>;
  /**
   * Records why the latest attempt failed as `lastError` / `lastErrorAt` (cut to MAX_NOTE_LENGTH), leaving the
   * status alone so that a redrive can still apply the event. An entry the ledger no longer holds is not
   * recreated: it would be a stub without the fields the edge writes.
   */
  note(eventId: string, reason: string, at: string): Promise<void>;
}
