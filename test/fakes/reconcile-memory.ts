import type { Page } from '../../lambdas/apply/ports';
import type {
  AuditLog,
  AuditRecord,
  ParityQuery,
  ParityRecord,
  ParityStore,
} from '../../lambdas/reconcile/ports';

/** In-memory reconciliation ports with the contracts described in lambdas/reconcile/ports.ts. */
export class InMemoryAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];
  async append(records: readonly AuditRecord[]): Promise<void> {
    this.records.push(...records);
  }
}

export class InMemoryParityStore implements ParityStore {
  readonly nights = new Map<string, ParityRecord>();
  puts = 0;

  async putNight(record: ParityRecord): Promise<void> {
    this.puts += 1;
    const { propertyId, date, roomTypeId, ratePlanId } = record.key;
    this.nights.set(JSON.stringify([propertyId, date, roomTypeId, ratePlanId]), record);
  }

  /** The cursor is the position after the last record returned, which is stable while nothing is written. */
  async list(query: ParityQuery): Promise<Page<ParityRecord>> {
    const matching = [...this.nights.entries()]
      .filter(
        ([, record]) =>
          record.findings.length > 0 &&
          record.key.propertyId === query.propertyId &&
          record.key.date >= query.from &&
          record.key.date <= query.to,
      )
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, record]) => record);
    const start = query.cursor === undefined ? 0 : Number(query.cursor);
    const items = matching.slice(start, start + query.limit);
    const next = start + items.length;
    return next < matching.length ? { items, cursor: String(next) } : { items };
  }
}
