import type { RoomNightKey } from '../domain/room-night';
import type { Rejection } from '../ledger/rejections';
import type { ReplayJob, ReplayRequest } from '../ledger/replay-jobs';
import type { LedgerStatus } from '../ledger/statuses';
import type { MoveTask } from '../queue/ports';
import type { AuditRecord } from '../state/audit';
import type { ReservationRecord } from '../state/ports';
import type { ItemCounts, WorkItemRecord } from '../state/reconcile-runs';

/**
 * What the read / admin API answers, route by route: the one description of its JSON that the routes' views
 * (views.ts, router.ts), the operations CLI and the console's page all use. Types only: where an answer is a
 * stored record as it is (or less what stays inside), its type is the record's own. The console type-checks
 * against it in a browser's world, without Node's types, so it imports types only from modules that need none.
 * Money is always minor units, currency and a decimal string; instants are ISO-8601 UTC.
 */

/** Every paginated answer: `nextCursor` goes back unchanged as the `cursor` query parameter, null on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

export interface MoneyView {
  readonly amountMinor: number;
  readonly currency: string;
  readonly amount: string;
}

// ---------------------------------------------------------------------------------------------------------
// Deliveries

/** A row of `GET /deliveries`: what happened to one delivery; `retained` says whether it can be replayed. */
export interface DeliveryLogRowView {
  readonly eventId: string;
  readonly sourceId: string;
  readonly kind?: string;
  readonly providerEventType?: string;
  readonly canonicalType?: string;
  readonly status: LedgerStatus;
  readonly reason?: string;
  readonly occurredAt?: string;
  readonly receivedAt?: string;
  readonly updatedAt?: string;
  readonly deliveryCount?: number;
  readonly retained?: boolean;
}

/** `GET /deliveries`: a page of the log and the window of receipt it was read in. */
export interface DeliveryLogPage extends Page<DeliveryLogRowView> {
  readonly from: string;
  readonly to: string;
}

/** A ledger entry, with the failure notes the consumer keeps on it. */
export interface DeliveryView {
  readonly eventId: string;
  readonly sourceId: string;
  readonly kind?: string;
  readonly providerEventType?: string;
  readonly canonicalType?: string;
  readonly idempotencyKey?: string;
  readonly status: LedgerStatus;
  readonly reason?: string;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
  readonly occurredAt?: string;
  readonly receivedAt?: string;
  readonly updatedAt?: string;
  readonly deliveryCount?: number;
  readonly messageId?: string;
  readonly expiresAt: string;
}

/** `GET /deliveries/{eventId}`: the entry and, when the ledger kept it, the canonical event it queued. */
export interface DeliveryDetailView extends DeliveryView {
  /** False when the event was too large to keep: it cannot be replayed. */
  readonly retained?: boolean;
  /** The canonical event as queued: it holds no personal data. */
  readonly event?: unknown;
}

/** `GET /deliveries/counts`: the entries received in the window, by the status they are in now. */
export interface DeliveryCountsView {
  readonly source?: string;
  readonly from: string;
  readonly to: string;
  /** Every status, zero included. */
  readonly counts: Readonly<Record<LedgerStatus, number>>;
  readonly total: number;
}

// ---------------------------------------------------------------------------------------------------------
// Rejections at the edge

/** A refused request as recorded; its expiry as an instant. */
export interface RejectionView extends Omit<Rejection, 'expiresAt'> {
  readonly expiresAt: string;
}

/** Refused beyond the recording bound and only counted: per source (or "(unconfigured)") and UTC day. */
export interface UnrecordedView {
  readonly sourceId: string;
  readonly day: string;
  readonly count: number;
}

/** `GET /rejections`. */
export interface RejectionListing extends Page<RejectionView> {
  readonly from: string;
  readonly to: string;
  readonly unrecorded: { readonly total: number; readonly counts: readonly UnrecordedView[] };
}

// ---------------------------------------------------------------------------------------------------------
// State, mappings and parity

export interface VersionedView {
  readonly version: string;
  /** The event that wrote the value. */
  readonly eventId: string;
}

/** A room night of `GET /properties/{propertyId}/ari`: each field group with the version that wrote it. */
export interface RoomNightView {
  readonly propertyId: string;
  readonly roomTypeId: string;
  readonly ratePlanId: string;
  readonly channel: string;
  readonly date: string;
  readonly rate?: MoneyView & VersionedView;
  readonly availability?: {
    readonly rooms: number;
    readonly requested?: number;
    readonly cappedBy?: string;
  } & VersionedView;
  readonly restrictions?: {
    readonly minLengthOfStay?: number;
    readonly maxLengthOfStay?: number;
    readonly closedToArrival?: boolean;
    readonly closedToDeparture?: boolean;
    readonly stopSell?: boolean;
  } & VersionedView;
}

/** `GET /reservations/{id}`: the record as stored, guest references only. */
export interface ReservationView extends Omit<ReservationRecord, 'total'> {
  readonly total?: MoneyView;
}

/** An event parked for want of a mapping or because its source is on hold; its payload stays inside. */
export interface ParkedEventView {
  readonly eventId: string;
  readonly sourceId: string;
  readonly kind?: string;
  readonly type?: string;
  readonly providerEventType?: string;
  readonly occurredAt?: string;
  readonly reason?: string;
  /** `<entity>|<externalId>` for a mapping, `hold|<sourceId>` for a hold. */
  readonly waitingFor?: string;
  readonly parkedAt?: string;
}

export interface MappingView {
  readonly scope: string;
  readonly entity: string;
  readonly externalId: string;
  readonly internalId: string;
  readonly propertyId?: string;
}

/** `PUT /mappings/{scope}/{entity}/{externalId}`: the mapping, and how many parked events went back. */
export interface MappingWritten {
  readonly mapping: MappingView;
  readonly released: number;
}

/** One channel's deviation from the source of truth on a night; `difference` = channel − truth. */
export interface ParityFindingView {
  readonly kind: string;
  readonly truthChannel: string;
  readonly channel: string;
  readonly truthRate: MoneyView;
  readonly channelRate: MoneyView;
  /** Absent when the currencies differ. */
  readonly difference?: MoneyView;
  readonly percent?: number;
}

export interface ParityNightView {
  readonly date: string;
  readonly roomTypeId: string;
  readonly ratePlanId: string;
  readonly checkedAt?: string;
  readonly findings: readonly ParityFindingView[];
}

/** What a listing of one property's nights covers: its stay dates from `from` to `to`, inclusive. */
export interface PropertyNightsView {
  readonly propertyId: string;
  readonly from: string;
  readonly to: string;
}

/** `GET /parity`: nights with findings, in date order; clean nights are not listed. */
export interface ParityListing extends PropertyNightsView {
  readonly nights: readonly ParityNightView[];
  readonly nextCursor: string | null;
}

export interface ParityToleranceView {
  readonly absoluteMinor?: number;
  readonly percent?: number;
}

/** A property whose rate parity is checked, as configured. */
export interface ParityPropertyView {
  readonly propertyId: string;
  /** The channel whose rate is right. */
  readonly sourceOfTruth: string;
  /** The property's own tolerance, or the default one. */
  readonly tolerance: ParityToleranceView;
}

/** `GET /parity/properties`. */
export interface ParityPropertiesView {
  readonly items: readonly ParityPropertyView[];
}

// ---------------------------------------------------------------------------------------------------------
// Reconciliation

/**
 * What reconciliation did to one field group of one room night: overwrote it, or saw it differ and left it. The
 * record as stored, its night's key spread into it.
 */
export type AuditEntryView = RoomNightKey & Omit<AuditRecord, 'key'>;

/** `GET /reconciliation/audit`: a property's nights in date order, each night's records by room type, rate plan, channel and field group, then in time order. */
export interface AuditListing extends Page<AuditEntryView>, PropertyNightsView {
  readonly action?: 'overwritten' | 'observed';
}

/** How many of a run's (or a source's) work items were planned and how many ended, either way. */
export type ItemCountsView = ItemCounts;

/** A polled source's figures in one run, summed over its items: what the console plots over time. */
export interface ReconcileRunSourceView {
  readonly sourceId: string;
  /** Complete once every item planned for the source ended. */
  readonly status: 'running' | 'complete';
  readonly items: ItemCountsView;
  /** mismatched / compared in percent; 0 when nothing was compared. */
  readonly driftPercent: number;
  /** Field groups compared, mismatched, and mismatched because a webhook never arrived. */
  readonly compared: number;
  readonly mismatched: number;
  readonly silentMisses: number;
  readonly correctedGroups: number;
  readonly skippedCorrections: number;
  readonly nightsPolled: number;
  /** Nights skipped: malformed, or not mapped. */
  readonly nightsSkipped: number;
  readonly requests: number;
  readonly throttled: number;
  readonly retries: number;
  /** Items that stopped at their time budget (the next run resumes from where they stopped). */
  readonly budgetExhausted: number;
}

/** A run as `GET /reconciliation/runs` lists it: its state and figures per polled source. */
export interface ReconcileRunView {
  readonly runId: string;
  readonly status: 'running' | 'complete';
  readonly trigger: 'schedule' | 'manual';
  readonly startedAt: string;
  readonly completedAt: string | null;
  readonly dryRun: boolean;
  /** The drift above which the run corrects (or alerts, in a dry run). */
  readonly thresholdPercent: number;
  readonly items: ItemCountsView;
  readonly parity: {
    readonly items: ItemCountsView;
    readonly nightsChecked: number;
    readonly violations: number;
    readonly currencyMismatches: number;
  };
  /**
   * Every polled source's figures in `GET /reconciliation/runs/{runId}`; in the listing, with `source`, that
   * source's figures alone, and without it none (the run log keeps runs by time apart from their sources).
   */
  readonly sources: readonly ReconcileRunSourceView[];
}

/** `GET /reconciliation/runs`: runs started in [from, to), newest first. */
export interface ReconcileRunListing extends Page<ReconcileRunView> {
  readonly source?: string;
  readonly from: string;
  readonly to: string;
}

/** A source's drift on one internal property in a run, summed over the items that measured it. */
export interface ReconcileRunPropertyView {
  readonly sourceId: string;
  readonly propertyId: string;
  readonly compared: number;
  readonly mismatched: number;
  readonly silentMisses: number;
  readonly driftPercent: number;
  /** What the items did about it, sorted: `corrected`, `observed`, `dry_run` or `in_sync`. */
  readonly actions: readonly string[];
}

/** A work item of a run as the run log holds it; its full result and drift per property stay in the log. */
export type ReconcileWorkItemView = Omit<WorkItemRecord, 'result' | 'properties'>;

/** `GET /reconciliation/runs/{runId}`: the run, its drift per source and property, and its work items. */
export interface ReconcileRunDetailView extends ReconcileRunView {
  readonly properties: readonly ReconcileRunPropertyView[];
  readonly workItems: readonly ReconcileWorkItemView[];
}

// ---------------------------------------------------------------------------------------------------------
// Sources and holds

export interface SourceView {
  readonly sourceId: string;
  readonly kind: string;
  readonly displayName?: string;
  readonly held: boolean;
  readonly heldAt?: string;
  readonly heldBy?: string;
  readonly reason?: string;
}

/** `POST /sources/{sourceId}/hold`. */
export interface HoldView extends SourceView {
  /** False when the source was already held: the hold in place is answered unchanged. */
  readonly created: boolean;
}

/** `POST /sources/{sourceId}/resume`: one step, released a page at a time; `nextCursor` continues it until null. */
export interface ResumeView {
  readonly sourceId: string;
  readonly held: false;
  /** Whether this call ended a hold (false when the source was not held, or a cursor continued a resume). */
  readonly resumed: boolean;
  readonly released: number;
  readonly nextCursor: string | null;
}

// ---------------------------------------------------------------------------------------------------------
// Dead-letter queues

/** Nulls rather than absent fields, so that every row of a listing has the same columns. */
export interface DeadLetterView {
  readonly eventId: string | null;
  readonly messageId: string;
  readonly receiveCount: number;
  readonly sentAt: string;
  readonly lastError: string | null;
  /** Where a parity stream batch was in the ARI table's stream: its records are not in the message. */
  readonly streamBatch?: StreamBatchView;
}

export interface StreamBatchView {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
  readonly firstArrivedAt?: string;
  readonly lastArrivedAt?: string;
}

/** An SQS move task: RUNNING, COMPLETED, CANCELLING, CANCELLED or FAILED. */
export type MoveTaskView = MoveTask;

/** `GET /dlq/{queue}`. */
export interface DeadLetterListing {
  readonly queue: string;
  /** SQS's approximate count of the messages in the queue, listed or not. */
  readonly approximateCount: number;
  /** From the head of the queue; SQS has no cursor to page through the rest. */
  readonly items: readonly DeadLetterView[];
  /** The latest move task from the queue, where the stack uses them. */
  readonly moveTask?: MoveTaskView;
}

/**
 * `POST /dlq/{queue}/redrive`. `move-task`: SQS moves the whole queue in the background (follow it on
 * `GET /dlq/{queue}`). `resend`: the messages received and sent back within the request's time, `complete` when
 * nothing was left to do; with chosen event ids, `notMoved` names those it moved no message for.
 */
export type RedriveView =
  | { readonly queue: string; readonly via: 'move-task'; readonly moved: null; readonly taskHandle: string }
  | ResentView
  | ChosenResentView;

export interface ResentView {
  readonly queue: string;
  readonly via: 'resend';
  readonly moved: number;
  readonly complete: boolean;
}

export interface ChosenResentView extends ResentView {
  readonly notMoved: readonly string[];
}

/** `POST /dlq/{queue}/delete`: `notDeleted` were not in the queue, or out of view. */
export interface DeadLettersDeletedView {
  readonly queue: string;
  readonly deleted: number;
  readonly complete: boolean;
  readonly notDeleted: readonly string[];
}

// ---------------------------------------------------------------------------------------------------------
// Replay jobs

export type ReplayRequestView = ReplayRequest;

/** A replay job; its cursor stays inside. */
export type ReplayJobView = Omit<ReplayJob, 'cursor'>;
