import type { Restrictions } from '../domain/canonical';
import type { Money } from '../domain/money';
import type { FieldGroup, RoomNightKey } from '../domain/state';

/**
 * One room night as a provider's polling API reports it, already mapped to internal ids. `key.channel` is the
 * polled source id (or `<sourceId>:<channelId>` for a channel manager naming a channel), exactly as the apply
 * pipeline would have keyed a webhook from the same source, so the two views of the night meet in one item.
 */
export interface PolledNight {
  readonly key: RoomNightKey;
  /** Absent when the provider did not report the rate: the class is then not compared. */
  readonly rate?: Money;
  /** Rooms the provider offers (before any local inventory constraint). */
  readonly availability?: number;
  readonly restrictions?: Restrictions;
  /** When the provider last changed the night: decides whether its values are newer than ours. */
  readonly updatedAt: Date;
}

/**
 * Why a reconciliation touched (or only looked at) a field group. `observed` records a mismatch left in place
 * because drift stayed under the threshold, so operators can still see what the provider disagrees about.
 */
export type AuditAction = 'overwritten' | 'observed';

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

/** Append-only record of what reconciliation changed; nothing reads it back in the domain. */
export interface AuditLog {
  append(records: readonly AuditRecord[]): Promise<void>;
}
