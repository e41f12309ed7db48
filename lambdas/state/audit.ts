import type { NightRangeQuery, Page } from '../domain/page';
import type { FieldGroup, RoomNightKey } from '../domain/room-night';

/**
 * Why a reconciliation touched (or only looked at) a field group. `observed` records a mismatch left in place
 * because drift stayed under the threshold, so operators can still see what the provider disagrees about.
 */
export const AUDIT_ACTIONS = ['overwritten', 'observed'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditRecord {
  readonly key: RoomNightKey;
  readonly group: FieldGroup;
  readonly action: AuditAction;
  /** The local value before the run; absent when the night had no value for this group. */
  readonly before?: unknown;
  /** The provider's value (for `overwritten`: what was written). */
  readonly after: unknown;
  /** Version the local value carried, for tracing which event wrote it. */
  readonly beforeVersion?: string;
  readonly providerUpdatedAt: string;
  readonly runId: string;
  /** When the run recorded it (the injected clock), ISO-8601. */
  readonly at: string;
}

/** Append-only record of what reconciliation changed; reconciliation itself never reads it back. */
export interface AuditLog {
  append(records: readonly AuditRecord[]): Promise<void>;
}

/** A page of one property's audit over an inclusive range of stay dates, optionally of one action only. */
export interface AuditQuery extends NightRangeQuery {
  readonly propertyId: string;
  readonly action?: AuditAction;
}

/** The audit as an operator reads it: nights in date order, each night's records by room type, rate plan, channel and field group, then in time order. */
export interface AuditReader {
  list(query: AuditQuery): Promise<Page<AuditRecord>>;
}
