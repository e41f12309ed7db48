import type { SourceKind } from '../domain/canonical';
import type { Page } from '../domain/page';
import type { LedgerStatus } from './statuses';

// The statuses have a module of their own, which imports nothing: see statuses.ts.
export { LEDGER_STATUSES, type LedgerStatus } from './statuses';

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

/**
 * The statuses a replayed event may be settled from: besides SETTLEABLE_STATUSES, the final `applied` and
 * `rejected`, since a replay runs apply again on purpose (after a configuration fix, say) and records what it
 * found this time. `recorded` was never queued and stays as it is.
 */
export const RESETTLEABLE_STATUSES: readonly LedgerStatus[] = [...SETTLEABLE_STATUSES, 'applied', 'rejected'];

/** How a settle treats an entry already settled for good. */
export interface SettleOptions {
  /**
   * The replay job that sent the event again: an `applied` or `rejected` entry takes the new outcome
   * (RESETTLEABLE_STATUSES) instead of keeping its first one, once per job. The entry remembers the job
   * (`replayedBy`), so a second delivery of the same replayed message settles nothing: one job applies an event
   * once, as the queue's at-least-once delivery would otherwise allow twice.
   */
  readonly replay?: string;
}

/**
 * Where the consumer's last allowed attempt may leave an event, on its way to the dead-letter queue: anything
 * not yet settled for good. `applied` and `rejected` are final, and `recorded` was never queued.
 */
export const DEAD_LETTERABLE_STATUSES: readonly LedgerStatus[] = ['received', 'enqueued', 'parked', 'held'];

/**
 * The largest canonical event the ledger keeps for replay, in bytes of its JSON. DynamoDB refuses an item over
 * 400 KB, attribute names included; this leaves room for the entry's other fields and failure notes.
 */
export const MAX_RETAINED_EVENT_BYTES = 350_000;

/** Whether the ledger keeps this event JSON for replay. */
export function isRetainable(eventJson: string): boolean {
  // Every character takes at least one byte: most events are decided without counting UTF-8 bytes.
  if (eventJson.length > MAX_RETAINED_EVENT_BYTES) return false;
  return (
    eventJson.length * 3 <= MAX_RETAINED_EVENT_BYTES ||
    Buffer.byteLength(eventJson) <= MAX_RETAINED_EVENT_BYTES
  );
}

/**
 * The entry a status change applies to. A change of status names the source too: the log's by-source-and-status
 * index is keyed by both, and DynamoDB cannot join two attributes in an update. It is the event's own source.
 */
export interface LedgerRef {
  readonly eventId: string;
  readonly sourceId: string;
}

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
  /**
   * Set once the edge has queued the event: true when the ledger keeps its canonical JSON (it can be replayed),
   * false when the event was larger than MAX_RETAINED_EVENT_BYTES.
   */
  readonly retained?: boolean;
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
  /** The entry and, when it was retained, the canonical JSON it queued, read together. */
  getWithEvent(
    eventId: string,
  ): Promise<{ readonly entry: LedgerEntry; readonly event?: string } | undefined>;
}

/**
 * The edge's deduplication store. `claim` is one conditional write: it creates the entry, or takes over an
 * entry still `received` whose lease has expired (the enqueue failed or the Lambda died after claiming),
 * so a sender's retry always gets the event enqueued and nothing is lost between the two writes.
 */
export interface DeliveryLedger extends LedgerReader {
  claim(entry: LedgerEntry, nowMs: number): Promise<ClaimOutcome>;
  /**
   * `received` → `enqueued` (with the queue's message id) or `recorded`. An enqueued event's canonical JSON, as
   * it was queued, is kept on the entry for replay when it is at most MAX_RETAINED_EVENT_BYTES long; `retained`
   * says whether it was.
   */
  confirm(
    ref: LedgerRef,
    status: 'enqueued' | 'recorded',
    at: string,
    messageId?: string,
    event?: string,
  ): Promise<void>;
  /**
   * Gives up the lease after a failed enqueue so the sender's immediate retry can take over. Only the claim that
   * set `leaseUntil` is released: once a later delivery has taken the event over, its lease stands.
   */
  release(eventId: string, leaseUntil: number): Promise<void>;
}

/** The ledger's side of applying: records the outcome exactly once per event, and why attempts failed. */
export interface ApplyLedger {
  status(eventId: string): Promise<LedgerStatus | undefined>;
  /**
   * True when this call recorded the outcome; false when the entry was already settled (or has expired). With
   * `replay`, an applied or rejected entry is settled again, once per replay job.
   */
  settle(
    ref: LedgerRef,
    status: SettledStatus,
    at: string,
    reason?: string,
    options?: SettleOptions,
  ): Promise<boolean>;
  /**
   * Records why the latest attempt failed as `lastError` / `lastErrorAt` (cut to MAX_NOTE_LENGTH), leaving the
   * status alone so that a redrive can still apply the event. An entry the ledger no longer holds is not
   * recreated: it would be a stub without the fields the edge writes.
   */
  note(eventId: string, reason: string, at: string): Promise<void>;
  /**
   * The last allowed attempt failed and SQS moves the event to the dead-letter queue next: records `reason` as
   * `note` does and, from DEAD_LETTERABLE_STATUSES only, marks the entry `dead-lettered` with `reason` as its
   * reason. An event applied or rejected meanwhile keeps its outcome. True when this call marked it.
   */
  deadLetter(ref: LedgerRef, reason: string, at: string): Promise<boolean>;
}

/** The canonical events the ledger keeps for replay (see `DeliveryLedger.confirm`). */
export interface RetainedEvents {
  /** The event's JSON as it was queued; undefined when the entry is gone or the event was not retained. */
  retainedEvent(eventId: string): Promise<string | undefined>;
}

/** One page of `GET /deliveries`: the filters pick the index, `type` filters within it. */
export interface DeliveryLogQuery {
  readonly sourceId?: string;
  readonly status?: LedgerStatus;
  /** The provider's event type or the canonical type. */
  readonly type?: string;
  /** On `receivedAt`, as Date#toISOString writes it: `from` inclusive, `to` exclusive. */
  readonly from: string;
  readonly to: string;
  readonly limit: number;
  /** The `cursor` of the page before, issued for this same query. */
  readonly cursor?: string;
}

/** A row of the delivery log: the entry as the log indexes hold it, without the lease, notes or event. */
export interface DeliveryLogRow {
  readonly eventId: string;
  readonly sourceId: string;
  readonly kind: SourceKind;
  readonly providerEventType: string;
  readonly canonicalType?: string;
  readonly status: LedgerStatus;
  readonly reason?: string;
  readonly occurredAt: string;
  readonly receivedAt: string;
  readonly updatedAt: string;
  readonly deliveryCount: number;
  readonly retained?: boolean;
}

export interface DeliveryCountsQuery {
  readonly sourceId?: string;
  readonly from: string;
  readonly to: string;
}

export type DeliveryCounts = Readonly<Record<LedgerStatus, number>>;

/** The ledger as an operator browses it: newest first, by source and status, within a window of receipt. */
export interface DeliveryLog {
  /**
   * One page, newest first. Without `type` a page holds `limit` rows unless it is the last; with `type` the
   * rows are filtered after they are read, so a page may hold fewer (even none) while a cursor follows.
   */
  list(query: DeliveryLogQuery): Promise<Page<DeliveryLogRow>>;
  /** How many entries received in the window are in each status now. */
  counts(query: DeliveryCountsQuery): Promise<DeliveryCounts>;
}
