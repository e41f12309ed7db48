import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import {
  type ApplyLedger,
  type ClaimOutcome,
  type DeliveryLedger,
  type LedgerEntry,
  type LedgerStatus,
  MAX_NOTE_LENGTH,
  SETTLEABLE_STATUSES,
  type SettledStatus,
} from '../../lambdas/ledger/ports';
import type { EventQueue } from '../../lambdas/queue/ports';

/**
 * In-memory ports with the same contract as the DynamoDB ledger and SQS queue: the ledger, like
 * DynamoDbDeliveryLedger, serves the edge, apply and the read API, and passes the same contract suites
 * (test/ports). `failNext` makes the next calls throw, to exercise the paths where the edge must answer 5xx and
 * lose nothing. Each operation checks and writes with no await in between, so concurrent calls cannot both win.
 */
export class InMemoryLedger implements DeliveryLedger, ApplyLedger {
  readonly entries = new Map<string, LedgerEntry>();
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
    eventId: string,
    status: 'enqueued' | 'recorded',
    at: string,
    messageId?: string,
  ): Promise<void> {
    const existing = this.find(eventId);
    if (existing?.status !== 'received') return;
    const { leaseUntil: _released, ...rest } = existing;
    this.entries.set(eventId, { ...rest, status, updatedAt: at, ...(messageId ? { messageId } : {}) });
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

  async status(eventId: string): Promise<LedgerStatus | undefined> {
    return this.find(eventId)?.status;
  }

  async settle(eventId: string, status: SettledStatus, at: string, reason?: string): Promise<boolean> {
    const existing = this.find(eventId);
    if (existing === undefined || !SETTLEABLE_STATUSES.includes(existing.status)) return false;
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

  /** The entry every operation starts from; a subclass may decide what an event it does not hold reads as. */
  protected find(eventId: string): LedgerEntry | undefined {
    return this.entries.get(eventId);
  }
}

/** A stored entry has no key for an absent optional field, as one read back from DynamoDB has none. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

export class InMemoryQueue implements EventQueue {
  readonly messages: CanonicalEvent[] = [];
  failNextSends = 0;

  async enqueue(event: CanonicalEvent): Promise<{ messageId: string }> {
    if (this.failNextSends > 0) {
      this.failNextSends--;
      throw new Error('AWS.SimpleQueueService.ServiceUnavailable: injected');
    }
    // Round-trip through JSON, as SQS does, so tests see exactly what a consumer would.
    this.messages.push(JSON.parse(JSON.stringify(event)) as CanonicalEvent);
    return { messageId: `msg-${this.messages.length}` };
  }
}
