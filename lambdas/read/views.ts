import type { ParityOptions } from '../config/reconcile-options';
import { formatMinorUnits, type Money } from '../domain/money';
import type { Page } from '../domain/page';
import type { RoomNightState, VersionedGroup } from '../domain/state';
import {
  type DeliveryCounts,
  type DeliveryLogRow,
  LEDGER_STATUSES,
  type LedgerStatus,
} from '../ledger/ports';
import type { Rejection, UnrecordedCount } from '../ledger/rejections';
import type { ReplayJob } from '../ledger/replay-jobs';
import type { MoveTask } from '../queue/ports';
import { withoutUndefined } from '../shared/objects';
import type { AuditRecord } from '../state/audit';
import type {
  MappingRef,
  MappingTarget,
  ParityFinding,
  ParityRecord,
  ParkedEvent,
  ReservationRecord,
} from '../state/ports';
import {
  driftPercentOf,
  type ItemCounts,
  type RunDetail,
  type RunSummary,
  type SourceFigures,
} from '../state/reconcile-runs';
import type { DeadLetterItem } from './dead-letters';
import type { DeliveryDetail, DeliveryRecord } from './read';
import type { SourceStatus } from './sources';
import type {
  AuditEntryView,
  DeadLetterView,
  DeliveryCountsView,
  DeliveryDetailView,
  DeliveryLogRowView,
  DeliveryView,
  ItemCountsView,
  MappingView,
  MoneyView,
  MoveTaskView,
  ParityFindingView,
  ParityNightView,
  ParityPropertiesView,
  ParkedEventView,
  ReconcileRunDetailView,
  ReconcileRunSourceView,
  ReconcileRunView,
  RejectionView,
  ReplayJobView,
  ReservationView,
  RoomNightView,
  SourceView,
  UnrecordedView,
} from './wire';

// What leaves the read API, field by field, so that nothing added to a stored record later leaves unreviewed; each
// view answers a shape of wire.ts.
// Money always as minor units, currency and a decimal string.

/**
 * The continuation of a paginated answer, the same on every route: `nextCursor` goes back unchanged as the
 * `cursor` query parameter, and is null on the last page.
 */
export function continuation(page: Pick<Page<unknown>, 'cursor'>): { nextCursor: string | null } {
  return { nextCursor: page.cursor ?? null };
}

export function moneyView(money: Money): MoneyView {
  return { amountMinor: money.amountMinor, currency: money.currency, amount: formatMinorUnits(money) };
}

export function parityNightView(record: ParityRecord): ParityNightView {
  return {
    date: record.key.date,
    roomTypeId: record.key.roomTypeId,
    ratePlanId: record.key.ratePlanId,
    checkedAt: record.checkedAt,
    findings: record.findings.map(parityFindingView),
  };
}

/** Without the night's key: the night carries it once. */
function parityFindingView(finding: ParityFinding): ParityFindingView {
  const common = {
    kind: finding.kind,
    truthChannel: finding.truthChannel,
    channel: finding.channel,
    truthRate: moneyView(finding.truthRate),
    channelRate: moneyView(finding.channelRate),
  };
  if (finding.kind === 'currency_mismatch') return common;
  return withoutUndefined({
    ...common,
    // channel − truth, in the truth's currency: negative when the channel undercuts it.
    difference: moneyView({ amountMinor: finding.difference, currency: finding.truthRate.currency }),
    percent: finding.percent,
  });
}

/** Each property whose parity is checked, with the tolerance in force for it: its own, or the default. */
export function parityPropertiesView(options: ParityOptions | undefined): ParityPropertiesView {
  return {
    items: (options?.properties ?? []).map((property) => ({
      propertyId: property.propertyId,
      sourceOfTruth: property.sourceOfTruth,
      tolerance: { ...(property.tolerance ?? options?.defaultTolerance ?? {}) },
    })),
  };
}

/** One audit record: the night it is about, what the run did, and the values before and after; not its expiry. */
export function auditEntryView(record: AuditRecord): AuditEntryView {
  return withoutUndefined({
    ...record.key,
    group: record.group,
    action: record.action,
    before: record.before,
    after: record.after,
    beforeVersion: record.beforeVersion,
    providerUpdatedAt: record.providerUpdatedAt,
    runId: record.runId,
    at: record.at,
  });
}

function versioned<T, V>(group: VersionedGroup<T> | undefined, view: (value: T) => V) {
  return group === undefined
    ? undefined
    : { ...view(group.value), version: group.version, eventId: group.eventId };
}

export function nightView(night: RoomNightState): RoomNightView {
  return withoutUndefined({
    ...night.key,
    rate: versioned(night.rate, moneyView),
    availability: versioned(night.availability, (value) => ({ ...value })),
    restrictions: versioned(night.restrictions, (value) => ({ ...value })),
  });
}

export function reservationView(record: ReservationRecord): ReservationView {
  return withoutUndefined({
    id: record.id,
    sourceId: record.sourceId,
    reservationExternalId: record.reservationExternalId,
    propertyId: record.propertyId,
    propertyExternalId: record.propertyExternalId,
    status: record.status,
    arrivalDate: record.arrivalDate,
    departureDate: record.departureDate,
    roomTypeExternalId: record.roomTypeExternalId,
    roomNumber: record.roomNumber,
    channel: record.channel,
    guestExternalId: record.guestExternalId,
    total: record.total ? moneyView(record.total) : undefined,
    version: record.version,
    eventId: record.eventId,
  });
}

/** One delivery: its ledger entry, and the canonical event it queued when the ledger kept it (`retained`). */
export function deliveryDetailView({ entry, event }: DeliveryDetail): DeliveryDetailView {
  return withoutUndefined({ ...deliveryView(entry), retained: entry.retained, event: parsedEvent(event) });
}

/** The retained JSON as an object; left out should it ever not parse, rather than failing the whole answer. */
function parsedEvent(event: string | undefined): unknown {
  if (event === undefined) return undefined;
  try {
    return JSON.parse(event);
  } catch {
    return undefined;
  }
}

export function deliveryView(entry: DeliveryRecord): DeliveryView {
  return withoutUndefined({
    eventId: entry.eventId,
    sourceId: entry.sourceId,
    kind: entry.kind,
    providerEventType: entry.providerEventType,
    canonicalType: entry.canonicalType,
    idempotencyKey: entry.idempotencyKey,
    status: entry.status,
    reason: entry.reason,
    lastError: entry.lastError,
    lastErrorAt: entry.lastErrorAt,
    occurredAt: entry.occurredAt,
    receivedAt: entry.receivedAt,
    updatedAt: entry.updatedAt,
    deliveryCount: entry.deliveryCount,
    messageId: entry.messageId,
    expiresAt: new Date(entry.expiresAt * 1000).toISOString(),
  });
}

/** A row of the delivery log: what happened to one delivery; `retained` says whether it can be replayed. */
export function deliveryLogRowView(row: DeliveryLogRow): DeliveryLogRowView {
  return withoutUndefined({
    eventId: row.eventId,
    sourceId: row.sourceId,
    kind: row.kind,
    providerEventType: row.providerEventType,
    canonicalType: row.canonicalType,
    status: row.status,
    reason: row.reason,
    occurredAt: row.occurredAt,
    receivedAt: row.receivedAt,
    updatedAt: row.updatedAt,
    deliveryCount: row.deliveryCount,
    retained: row.retained,
  });
}

/** Every status, zero included, in the order an entry moves through them, and their total. */
export function deliveryCountsView(counts: DeliveryCounts): Pick<DeliveryCountsView, 'counts' | 'total'> {
  return {
    counts: Object.fromEntries(LEDGER_STATUSES.map((status) => [status, counts[status]])) as Record<
      LedgerStatus,
      number
    >,
    total: LEDGER_STATUSES.reduce((sum, status) => sum + counts[status], 0),
  };
}

/** The parked event's envelope and why it waits; its payload stays in the review table. */
export function parkedView(parked: ParkedEvent): ParkedEventView {
  return {
    eventId: parked.event.eventId,
    sourceId: parked.event.sourceId,
    kind: parked.event.kind,
    type: parked.event.type,
    providerEventType: parked.event.providerEventType,
    occurredAt: parked.event.occurredAt,
    reason: parked.reason,
    waitingFor: parked.waitingFor,
    parkedAt: parked.parkedAt,
  };
}

/** A mapping as it was stored: where it applies and what it maps to. */
export function mappingView(ref: MappingRef, target: MappingTarget): MappingView {
  return withoutUndefined({
    scope: ref.scope,
    entity: ref.entity,
    externalId: ref.externalId,
    internalId: target.internalId,
    propertyId: target.propertyId,
  });
}

/** A refused request as recorded: its shape and why it was refused, never its body or header values. */
export function rejectionView(rejection: Rejection): RejectionView {
  return withoutUndefined({
    at: rejection.at,
    sourceId: rejection.sourceId,
    senderAddress: rejection.senderAddress,
    status: rejection.status,
    reason: rejection.reason,
    headerNames: [...rejection.headerNames],
    bodyBytes: rejection.bodyBytes,
    bodySha256: rejection.bodySha256,
    requestId: rejection.requestId,
    expiresAt: new Date(rejection.expiresAt * 1000).toISOString(),
  });
}

/** Rejections only counted on one UTC day: `sourceId` is a configured source, or "(unconfigured)" for all others. */
export function unrecordedView(count: UnrecordedCount): UnrecordedView {
  return { sourceId: count.bucket, day: count.day, count: count.count };
}

/** A configured source and whether it is on hold: since when, by whom and why. */
export function sourceView(status: SourceStatus): SourceView {
  return withoutUndefined({
    sourceId: status.source.id,
    kind: status.source.kind,
    displayName: status.source.displayName,
    held: status.hold !== undefined,
    heldAt: status.hold?.heldAt,
    heldBy: status.hold?.by,
    reason: status.hold?.reason,
  });
}

/** A dead letter: nulls rather than absent fields, so that every row of a listing has the same columns. */
export function deadLetterView(item: DeadLetterItem): DeadLetterView {
  return {
    eventId: item.eventId ?? null,
    messageId: item.messageId,
    receiveCount: item.receiveCount,
    sentAt: item.sentAt,
    lastError: item.lastError ?? null,
    ...(item.streamBatch === undefined ? {} : { streamBatch: item.streamBatch }),
  };
}

export function moveTaskView(task: MoveTask): MoveTaskView {
  return withoutUndefined({
    taskHandle: task.taskHandle,
    status: task.status,
    moved: task.moved,
    toMove: task.toMove,
    startedAt: task.startedAt,
    failureReason: task.failureReason,
  });
}

/** A replay job as the API shows it; the cursor stays inside. */
export function replayJobView(job: ReplayJob): ReplayJobView {
  return {
    jobId: job.jobId,
    status: job.status,
    request: job.request,
    counts: job.counts,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.error === undefined ? {} : { error: job.error }),
  };
}

function itemCounts(counts: ItemCounts): ItemCountsView {
  return { planned: counts.planned, done: counts.done, failed: counts.failed };
}

function ended(counts: ItemCounts): 'running' | 'complete' {
  return counts.done + counts.failed >= counts.planned ? 'complete' : 'running';
}

/** A source's figures in one run: what the ops console plots over time (drift, silent misses, corrections). */
export function sourceRunView(source: SourceFigures): ReconcileRunSourceView {
  return {
    sourceId: source.sourceId,
    status: ended(source),
    items: itemCounts(source),
    driftPercent: driftPercentOf(source),
    compared: source.compared,
    mismatched: source.mismatched,
    silentMisses: source.silentMisses,
    correctedGroups: source.correctedGroups,
    skippedCorrections: source.skippedCorrections,
    nightsPolled: source.nightsPolled,
    nightsSkipped: source.skipped,
    requests: source.requests,
    throttled: source.throttled,
    retries: source.retries,
    budgetExhausted: source.budgetExhausted,
  };
}

export function reconcileRunView(run: RunSummary): ReconcileRunView {
  return {
    runId: run.runId,
    status: run.status,
    trigger: run.trigger,
    startedAt: run.startedAt,
    completedAt: run.completedAt ?? null,
    dryRun: run.dryRun,
    thresholdPercent: run.thresholdPercent,
    items: itemCounts(run),
    parity: {
      items: itemCounts(run.parity),
      nightsChecked: run.parity.nightsChecked,
      violations: run.parity.violations,
      currencyMismatches: run.parity.currencyMismatches,
    },
    sources: run.sources.map(sourceRunView),
  };
}

/**
 * A run in full: its summary, its drift per source and internal property (summed over the items that measured
 * it), and each work item's state. Items' full results stay in the run log.
 */
export function reconcileRunDetailView(run: RunDetail): ReconcileRunDetailView {
  const properties = new Map<
    string,
    {
      sourceId: string;
      propertyId: string;
      compared: number;
      mismatched: number;
      silentMisses: number;
      actions: Set<string>;
    }
  >();
  for (const item of run.items) {
    for (const property of item.properties ?? []) {
      const id = JSON.stringify([item.sourceId ?? '', property.propertyId]);
      const total = properties.get(id) ?? {
        sourceId: item.sourceId ?? '',
        propertyId: property.propertyId,
        compared: 0,
        mismatched: 0,
        silentMisses: 0,
        actions: new Set<string>(),
      };
      total.compared += property.compared;
      total.mismatched += property.mismatched;
      total.silentMisses += property.silentMisses;
      total.actions.add(property.action);
      properties.set(id, total);
    }
  }
  return {
    ...reconcileRunView(run),
    properties: [...properties.values()].map(({ actions, ...total }) => ({
      ...total,
      driftPercent: driftPercentOf(total),
      actions: [...actions].sort(),
    })),
    workItems: run.items.map((item) =>
      withoutUndefined({
        itemId: item.itemId,
        kind: item.kind,
        status: item.status,
        sourceId: item.sourceId,
        propertyId: item.propertyId,
        claimedAt: item.claimedAt,
        finishedAt: item.finishedAt,
        error: item.error,
        message: item.message,
      }),
    ),
  };
}
