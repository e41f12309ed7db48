import type { ParityOptions } from '../config/reconcile-options';
import type { Page } from '../domain/page';
import { decodeLogCursor, type LogWindow, logIndexFor } from '../ledger/delivery-log';
import type {
  DeliveryCounts,
  DeliveryLog,
  DeliveryLogRow,
  LedgerEntry,
  LedgerReader,
  LedgerStatus,
} from '../ledger/ports';
import {
  type Rejection,
  type RejectionReader,
  UNCONFIGURED_SOURCES,
  type UnrecordedCount,
  utcDay,
} from '../ledger/rejections';
import type { Clock } from '../shared/clock';
import { InvalidRequestError, NotFoundError } from '../shared/errors';
import type { AuditReader } from '../state/audit';
import { type Requeue, requeueParked } from '../state/parked';
import type {
  AriStore,
  HoldStore,
  MappingRef,
  MappingTarget,
  ParityStore,
  ReservationRecord,
  ReservationStore,
  ReviewStore,
} from '../state/ports';
import type { ReconcileRunStore } from '../state/reconcile-runs';
import { type MappingResolver, mappingKey } from '../state/resolver';
import type { DeadLetterQueues } from './dead-letters';
import type { ReplayControlDependencies } from './replays';
import type { ConfiguredSource } from './sources';

/** What GET /deliveries/{eventId} shows: the ledger entry, with the failure notes the consumer keeps on it. */
export type DeliveryRecord = LedgerEntry;

/** A ledger entry as `GET /deliveries/{eventId}` shows it, with the canonical event it queued when retained. */
export interface DeliveryDetail {
  readonly entry: DeliveryRecord;
  /** The queued canonical JSON: it holds no personal data. */
  readonly event?: string;
}

export interface ReadApiDependencies
  extends Partial<Pick<ReplayControlDependencies, 'replays' | 'replayWork'>> {
  readonly ari: Pick<AriStore, 'readNights'>;
  readonly reservations: Pick<ReservationStore, 'get'>;
  readonly deliveries: LedgerReader;
  /** The ledger browsed by source, status and time of receipt. */
  readonly deliveryLog: DeliveryLog;
  /** How long the ledger keeps an entry (the dedupe window): the widest window the delivery log reads. */
  readonly dedupeWindowSeconds: number;
  readonly review: ReviewStore;
  /** Current rate-parity findings per room night, as the reconciliation's parity check left them. */
  readonly parity: Pick<ParityStore, 'list'>;
  /** The properties whose rate parity is checked and their tolerances, as configured; absent, none is. */
  readonly parityOptions?: ParityOptions;
  /** What reconciliation overwrote or only observed, per room night; every deployed read function has it. */
  readonly audit?: AuditReader;
  /** Requests the edge refused for good, and how many it only counted. */
  readonly rejections: RejectionReader;
  readonly mappings: Pick<MappingResolver, 'put' | 'list'>;
  readonly requeue: Requeue;
  readonly clock: Clock;
  /** The configured source ids: a mapping's scope is one of them, or `*` for every source. */
  readonly sourceIds: ReadonlySet<string>;
  /** Told how many parked events a new mapping sent back to the queue. */
  readonly signal?: (signal: { readonly kind: 'parked_released'; readonly count: number }) => void;
  /** The configured sources, in configuration order, for GET /sources and holds. */
  readonly sources: readonly ConfiguredSource[];
  /** Holds on sources (the Controls table). */
  readonly holds: HoldStore;
  /** The dead-letter queues of the events queue and of the scheduled reconciliation. */
  readonly deadLetters: DeadLetterQueues;
  /** Reconciliation runs, for `/reconciliation/runs`; every deployed read function has it, a test may not. */
  readonly runs?: Pick<ReconcileRunStore, 'get' | 'list'>;
}

export async function getReservation(
  reservationId: string,
  deps: Pick<ReadApiDependencies, 'reservations'>,
): Promise<ReservationRecord> {
  const record = await deps.reservations.get(reservationId);
  if (!record) {
    throw new NotFoundError(
      'reservation_not_found',
      `No reservation ${JSON.stringify(reservationId)}. Reservation ids are <sourceId>:<the provider's reservation id>.`,
    );
  }
  return record;
}

export async function getDelivery(
  eventId: string,
  deps: Pick<ReadApiDependencies, 'deliveries'>,
): Promise<DeliveryDetail> {
  const detail = await deps.deliveries.getWithEvent(eventId);
  if (!detail) {
    throw new NotFoundError(
      'delivery_not_found',
      `No delivery ledger entry for ${JSON.stringify(eventId)}. Event ids look like evt_… and are answered by the ` +
        'webhook endpoint; entries expire after the dedupe window.',
    );
  }
  return detail;
}

/**
 * Adds (or replaces) a mapping, then puts every event parked for want of it back on the queue.
 * Returns how many events went back.
 */
export async function putMapping(
  ref: MappingRef,
  target: MappingTarget,
  origin: string,
  deps: ReadApiDependencies,
): Promise<number> {
  await deps.mappings.put(ref, target, deps.clock.now().toISOString(), origin);
  const count = await requeueParked(deps.review, deps.requeue, mappingKey(ref.entity, ref.externalId));
  if (count > 0) deps.signal?.({ kind: 'parked_released', count });
  return count;
}

export interface RejectionsRequest {
  /** As recorded: the source id the refused request's path named, configured or not. */
  readonly sourceId?: string;
  readonly reason?: string;
  /** Default: 24 hours before `to`. */
  readonly from?: Date;
  /** Default: now. */
  readonly to?: Date;
  readonly limit: number;
  readonly cursor?: string;
}

export interface RejectionListing {
  readonly from: string;
  readonly to: string;
  readonly page: Page<Rejection>;
  /**
   * What was refused beyond the bound and only counted, per bucket and UTC day, for the days the window
   * touches. Not per reason: a count says how many, never why.
   */
  readonly unrecorded: readonly UnrecordedCount[];
}

const DEFAULT_REJECTIONS_WINDOW_MS = 24 * 3600 * 1000;
/** The earliest instant a record's key can hold: Date.toISOString writes earlier years with a sign. */
const EARLIEST_INSTANT = Date.parse('0000-01-01T00:00:00.000Z');

/**
 * A page of the rejection log, newest first, with the counts of the rejections not recorded in the days of the
 * window. Those of a source id that is not configured are counted together with every such id's.
 */
export async function listRejections(
  request: RejectionsRequest,
  deps: Pick<ReadApiDependencies, 'rejections' | 'clock' | 'sourceIds'>,
): Promise<RejectionListing> {
  const to = request.to ?? deps.clock.now();
  const from =
    request.from ?? new Date(Math.max(EARLIEST_INSTANT, to.getTime() - DEFAULT_REJECTIONS_WINDOW_MS));
  if (from.getTime() > to.getTime()) {
    throw new InvalidRequestError(
      'invalid_query',
      `The window runs backwards: from ${from.toISOString()} is after to ${to.toISOString()}.`,
      { fields: [{ path: 'from', message: `must not be after to (${to.toISOString()}); swap them` }] },
    );
  }
  const window = { from: from.toISOString(), to: to.toISOString() };
  const bucket =
    request.sourceId === undefined
      ? undefined
      : deps.sourceIds.has(request.sourceId)
        ? request.sourceId
        : UNCONFIGURED_SOURCES;
  const [page, unrecorded] = await Promise.all([
    deps.rejections.list({
      ...window,
      ...(request.sourceId === undefined ? {} : { sourceId: request.sourceId }),
      ...(request.reason === undefined ? {} : { reason: request.reason }),
      limit: request.limit,
      ...(request.cursor === undefined ? {} : { cursor: request.cursor }),
    }),
    deps.rejections.unrecorded({
      ...(bucket === undefined ? {} : { bucket }),
      fromDay: utcDay(window.from),
      toDay: utcDay(window.to),
    }),
  ]);
  return { ...window, page, unrecorded };
}

// ---------------------------------------------------------------------------------------------------------
// The delivery log

/** What the log reads when the request names no window: the last day. */
export const DEFAULT_LOG_WINDOW_SECONDS = 24 * 3600;

export interface DeliveryLogRequest {
  readonly sourceId?: string;
  readonly status?: LedgerStatus;
  readonly type?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly limit: number;
  readonly cursor?: string;
}

/** One page of the log, with the window it was read in: a cursor carries it to the next page. */
export interface DeliveryLogPage extends Page<DeliveryLogRow> {
  readonly window: LogWindow;
}

/**
 * The deliveries received in a window, newest first. With a cursor, the window is the one the cursor was issued
 * for: `from` and `to` left out are taken from it (so that paging through "the last 24 hours" does not slide with
 * the clock), and those named must be its own.
 */
export async function listDeliveries(
  request: DeliveryLogRequest,
  deps: Pick<ReadApiDependencies, 'deliveryLog' | 'dedupeWindowSeconds' | 'clock'>,
): Promise<DeliveryLogPage> {
  const issued =
    request.cursor === undefined ? undefined : decodeLogCursor(request.cursor, logIndexFor(request)).window;
  const window =
    issued === undefined
      ? logWindow(request, deps)
      : { from: request.from?.toISOString() ?? issued.from, to: request.to?.toISOString() ?? issued.to };
  const page = await deps.deliveryLog.list({
    ...(request.sourceId === undefined ? {} : { sourceId: request.sourceId }),
    ...(request.status === undefined ? {} : { status: request.status }),
    ...(request.type === undefined ? {} : { type: request.type }),
    ...window,
    limit: request.limit,
    ...(request.cursor === undefined ? {} : { cursor: request.cursor }),
  });
  return { ...page, window };
}

/** How many deliveries received in the window are in each status now. */
export async function countDeliveries(
  request: { readonly sourceId?: string; readonly from?: Date; readonly to?: Date },
  deps: Pick<ReadApiDependencies, 'deliveryLog' | 'dedupeWindowSeconds' | 'clock'>,
): Promise<{ readonly window: LogWindow; readonly counts: DeliveryCounts }> {
  const window = logWindow(request, deps);
  const counts = await deps.deliveryLog.counts({
    ...(request.sourceId === undefined ? {} : { sourceId: request.sourceId }),
    ...window,
  });
  return { window, counts };
}

/**
 * `from` inclusive to `to` exclusive. Without `to`, up to now; without `from`, the day before `to`. At most the
 * dedupe window long: the ledger holds nothing older.
 */
function logWindow(
  request: { readonly from?: Date; readonly to?: Date },
  deps: Pick<ReadApiDependencies, 'dedupeWindowSeconds' | 'clock'>,
): LogWindow {
  const to = request.to ?? deps.clock.now();
  const from = request.from ?? new Date(to.getTime() - DEFAULT_LOG_WINDOW_SECONDS * 1000);
  const invalid = (path: 'from' | 'to', message: string) =>
    new InvalidRequestError('invalid_query', `The window of receipt is not valid: ${path} ${message}.`, {
      fields: [{ path, message }],
    });
  if (from.getTime() >= to.getTime()) {
    throw request.to === undefined
      ? invalid('from', `must be before now (${to.toISOString()}): without "to" the window ends now`)
      : invalid(
          'to',
          `must be after from (${from.toISOString()}): the window runs from "from" up to, not including, "to"`,
        );
  }
  const spanSeconds = (to.getTime() - from.getTime()) / 1000;
  if (spanSeconds > deps.dedupeWindowSeconds) {
    throw invalid(
      'from',
      `makes a window of ${(spanSeconds / 86_400).toFixed(1)} days (${from.toISOString()} to ` +
        `${to.toISOString()}); entries expire after ${deps.dedupeWindowSeconds / 86_400} days (the dedupe ` +
        'window), so no longer window is read: move from later or to earlier',
    );
  }
  return { from: from.toISOString(), to: to.toISOString() };
}
