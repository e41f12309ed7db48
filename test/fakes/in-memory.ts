import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import type { Page } from '../../lambdas/domain/page';
import { compareVersions } from '../../lambdas/domain/state';
import { decodeLogCursor, encodeLogCursor, logAtOf, logIndexFor } from '../../lambdas/ledger/delivery-log';
import {
  type ApplyLedger,
  type ClaimOutcome,
  DEAD_LETTERABLE_STATUSES,
  type DeliveryCounts,
  type DeliveryCountsQuery,
  type DeliveryLedger,
  type DeliveryLog,
  type DeliveryLogQuery,
  type DeliveryLogRow,
  isRetainable,
  LEDGER_STATUSES,
  type LedgerEntry,
  type LedgerRef,
  type LedgerStatus,
  MAX_NOTE_LENGTH,
  RESETTLEABLE_STATUSES,
  SETTLEABLE_STATUSES,
  type SettledStatus,
  type SettleOptions,
} from '../../lambdas/ledger/ports';
import type { EventQueue } from '../../lambdas/queue/ports';

/**
 * In-memory ports with the same contract as the DynamoDB ledger and SQS queue: the ledger, like
 * DynamoDbDeliveryLedger, serves the edge, apply and the read API, and passes the same contract suites
 * (test/ports). `failNext` makes the next calls throw, to exercise the paths where the edge must answer 5xx and
 * lose nothing. Each operation checks and writes with no await in between, so concurrent calls cannot both win.
 */
export class InMemoryLedger implements DeliveryLedger, ApplyLedger, DeliveryLog {
  readonly entries = new Map<string, LedgerEntry>();
  /** The replay job that last settled each entry again (the DynamoDB item's `replayedBy`). */
  private readonly replayedBy = new Map<string, string>();
  /** The canonical JSON kept for replay, by event id. */
  readonly events = new Map<string, string>();
  failNextClaims = 0;

  async claim(entry: LedgerEntry, nowMs: number): Promise<ClaimOutcome> {
    if (this.failNextClaims > 0) {
      this.failNextClaims--;
      throw new Error('ProvisionedThroughputExceededException: injected');
    }
    const existing = this.find(entry.eventId);
    if (existing && !(existing.status === 'received' && (existing.leaseUntil ?? 0) < nowMs)) {
      return {
        outcome: existing.status === 'received' ? 'in_progress' : 'duplicate',
        entry: { ...existing },
      };
    }
    // As in DynamoDB, the ledger counts the claims itself and keeps the failure notes of earlier attempts; the
    // entry's own deliveryCount and notes are not taken.
    const { lastError: _error, lastErrorAt: _errorAt, ...claimed } = entry;
    const stored = withoutUndefined({
      ...claimed,
      receivedAt: existing?.receivedAt ?? entry.receivedAt,
      deliveryCount: (existing?.deliveryCount ?? 0) + 1,
      lastError: existing?.lastError,
      lastErrorAt: existing?.lastErrorAt,
    });
    this.entries.set(entry.eventId, stored);
    return { outcome: 'claimed', entry: { ...stored } };
  }

  async confirm(
    ref: LedgerRef,
    status: 'enqueued' | 'recorded',
    at: string,
    messageId?: string,
    event?: string,
  ): Promise<void> {
    const { eventId } = ref;
    const existing = this.find(eventId);
    if (existing?.status !== 'received') return;
    const { leaseUntil: _released, ...rest } = existing;
    const retained = status === 'enqueued' && event !== undefined ? isRetainable(event) : undefined;
    if (retained && event !== undefined) this.events.set(eventId, event);
    this.entries.set(eventId, {
      ...rest,
      status,
      updatedAt: at,
      ...(messageId ? { messageId } : {}),
      ...(retained === undefined ? {} : { retained }),
    });
  }

  async release(eventId: string, leaseUntil: number): Promise<void> {
    const existing = this.find(eventId);
    if (existing?.status === 'received' && existing.leaseUntil === leaseUntil) {
      this.entries.set(eventId, { ...existing, leaseUntil: 0 });
    }
  }

  async get(eventId: string): Promise<LedgerEntry | undefined> {
    const entry = this.find(eventId);
    return entry === undefined ? undefined : { ...entry };
  }

  async getWithEvent(
    eventId: string,
  ): Promise<{ readonly entry: LedgerEntry; readonly event?: string } | undefined> {
    const entry = this.find(eventId);
    if (entry === undefined) return undefined;
    const event = this.events.get(eventId);
    return { entry: { ...entry }, ...(event === undefined ? {} : { event }) };
  }

  async status(eventId: string): Promise<LedgerStatus | undefined> {
    return this.find(eventId)?.status;
  }

  async settle(
    ref: LedgerRef,
    status: SettledStatus,
    at: string,
    reason?: string,
    options: SettleOptions = {},
  ): Promise<boolean> {
    const { eventId } = ref;
    const existing = this.find(eventId);
    const from = options.replay === undefined ? SETTLEABLE_STATUSES : RESETTLEABLE_STATUSES;
    if (existing === undefined || !from.includes(existing.status)) return false;
    if (options.replay !== undefined) {
      if (this.replayedBy.get(eventId) === options.replay) return false;
      this.replayedBy.set(eventId, options.replay);
    }
    const { leaseUntil: _released, reason: _earlier, ...rest } = existing;
    this.entries.set(eventId, {
      ...rest,
      status,
      updatedAt: at,
      ...(reason === undefined ? {} : { reason }),
    });
    return true;
  }

  async note(eventId: string, reason: string, at: string): Promise<void> {
    const existing = this.find(eventId);
    if (existing === undefined) return;
    this.entries.set(eventId, { ...existing, lastError: reason.slice(0, MAX_NOTE_LENGTH), lastErrorAt: at });
  }

  async deadLetter(ref: LedgerRef, reason: string, at: string): Promise<boolean> {
    const existing = this.find(ref.eventId);
    if (existing === undefined || !DEAD_LETTERABLE_STATUSES.includes(existing.status)) {
      await this.note(ref.eventId, reason, at);
      return false;
    }
    const { leaseUntil: _released, ...rest } = existing;
    const note = reason.slice(0, MAX_NOTE_LENGTH);
    this.entries.set(ref.eventId, {
      ...rest,
      status: 'dead-lettered',
      updatedAt: at,
      reason: note,
      lastError: note,
      lastErrorAt: at,
    });
    return true;
  }

  /** The same pages as the DynamoDB indexes give, read from every entry: filtered, newest first. */
  async list(query: DeliveryLogQuery): Promise<Page<DeliveryLogRow>> {
    const index = logIndexFor(query);
    const window = { from: query.from, to: query.to };
    const after =
      query.cursor === undefined ? undefined : decodeLogCursor(query.cursor, index, window).position.logAt;
    const matching = this.inWindow(query)
      .filter(
        ({ entry }) =>
          (query.status === undefined || entry.status === query.status) &&
          (query.type === undefined ||
            entry.providerEventType === query.type ||
            entry.canonicalType === query.type),
      )
      .filter(({ logAt }) => after === undefined || compareVersions(logAt, after) < 0);
    const page = matching.slice(0, query.limit);
    const last = page.at(-1);
    const rows = page.map(({ entry }) => logRowOf(entry));
    if (matching.length <= query.limit || last === undefined) return { items: rows };
    return {
      items: rows,
      cursor: encodeLogCursor(index, window, { eventId: last.entry.eventId, logAt: last.logAt }),
    };
  }

  async counts(query: DeliveryCountsQuery): Promise<DeliveryCounts> {
    const counts = Object.fromEntries(LEDGER_STATUSES.map((status) => [status, 0])) as Record<
      LedgerStatus,
      number
    >;
    for (const { entry } of this.inWindow(query)) counts[entry.status]++;
    return counts;
  }

  /** The source's entries received in the window, newest first. */
  private inWindow(query: DeliveryCountsQuery): { entry: LedgerEntry; logAt: string }[] {
    return [...this.entries.values()]
      .filter(
        (entry) =>
          (query.sourceId === undefined || entry.sourceId === query.sourceId) &&
          entry.receivedAt >= query.from &&
          entry.receivedAt < query.to,
      )
      .map((entry) => ({ entry, logAt: logAtOf(entry.receivedAt, entry.eventId) }))
      .sort((a, b) => compareVersions(b.logAt, a.logAt));
  }

  /** The entry every operation starts from; a subclass may decide what an event it does not hold reads as. */
  protected find(eventId: string): LedgerEntry | undefined {
    return this.entries.get(eventId);
  }
}

function logRowOf(entry: LedgerEntry): DeliveryLogRow {
  return withoutUndefined({
    eventId: entry.eventId,
    sourceId: entry.sourceId,
    kind: entry.kind,
    providerEventType: entry.providerEventType,
    canonicalType: entry.canonicalType,
    status: entry.status,
    reason: entry.reason,
    occurredAt: entry.occurredAt,
    receivedAt: entry.receivedAt,
    updatedAt: entry.updatedAt,
    deliveryCount: entry.deliveryCount,
    retained: entry.retained,
  });
}

/** A stored entry has no key for an absent optional field, as one read back from DynamoDB has none. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

export class InMemoryQueue implements EventQueue {
  readonly messages: CanonicalEvent[] = [];
  failNextSends = 0;

  async enqueue(event: CanonicalEvent): Promise<{ messageId: string; body: string }> {
    if (this.failNextSends > 0) {
      this.failNextSends--;
      throw new Error('AWS.SimpleQueueService.ServiceUnavailable: injected');
    }
    // Round-trip through JSON, as SQS does, so tests see exactly what a consumer would.
    const body = JSON.stringify(event);
    this.messages.push(JSON.parse(body) as CanonicalEvent);
    return { messageId: `msg-${this.messages.length}`, body };
  }
}
