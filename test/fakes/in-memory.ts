import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import type { ClaimOutcome, DeliveryLedger, LedgerEntry } from '../../lambdas/ledger/ports';
import type { EventQueue } from '../../lambdas/queue/ports';

/**
 * In-memory ports with the same contract as the DynamoDB ledger and SQS queue: the ledger passes the same
 * contract suite as DynamoDbDeliveryLedger (test/ports). `failNext` makes the next calls throw, to exercise the
 * paths where the edge must answer 5xx and lose nothing.
 */
export class InMemoryLedger implements DeliveryLedger {
  readonly entries = new Map<string, LedgerEntry>();
  failNextClaims = 0;

  async claim(entry: LedgerEntry, nowMs: number): Promise<ClaimOutcome> {
    if (this.failNextClaims > 0) {
      this.failNextClaims--;
      throw new Error('ProvisionedThroughputExceededException: injected');
    }
    const existing = this.entries.get(entry.eventId);
    if (existing && !(existing.status === 'received' && (existing.leaseUntil ?? 0) < nowMs)) {
      return {
        outcome: existing.status === 'received' ? 'in_progress' : 'duplicate',
        entry: { ...existing },
      };
    }
    // As in DynamoDB, the ledger counts the claims itself; the entry's own deliveryCount is not taken.
    const claimed = withoutUndefined({
      ...entry,
      receivedAt: existing?.receivedAt ?? entry.receivedAt,
      deliveryCount: (existing?.deliveryCount ?? 0) + 1,
    });
    this.entries.set(entry.eventId, claimed);
    return { outcome: 'claimed', entry: { ...claimed } };
  }

  async confirm(
    eventId: string,
    status: 'enqueued' | 'recorded',
    at: string,
    messageId?: string,
  ): Promise<void> {
    const existing = this.entries.get(eventId);
    if (existing?.status !== 'received') return;
    const { leaseUntil: _released, ...rest } = existing;
    this.entries.set(eventId, { ...rest, status, updatedAt: at, ...(messageId ? { messageId } : {}) });
  }

  async release(eventId: string, leaseUntil: number): Promise<void> {
    const existing = this.entries.get(eventId);
    if (existing?.status === 'received' && existing.leaseUntil === leaseUntil) {
      this.entries.set(eventId, { ...existing, leaseUntil: 0 });
    }
  }

  async get(eventId: string): Promise<LedgerEntry | undefined> {
    const entry = this.entries.get(eventId);
    return entry === undefined ? undefined : { ...entry };
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
