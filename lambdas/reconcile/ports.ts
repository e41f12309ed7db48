import type { FieldGroup, RoomNightKey } from '../apply/model';
import type { Page } from '../apply/ports';
import type { Restrictions } from '../domain/canonical';
import type { Money } from '../domain/money';

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

/** A room night across channels: the unit rate parity compares. */
export interface ParityNightKey {
  readonly propertyId: string;
  readonly roomTypeId: string;
  readonly ratePlanId: string;
  /** Stay date, YYYY-MM-DD. */
  readonly date: string;
}

export interface PriceViolation {
  readonly kind: 'price';
  readonly key: ParityNightKey;
  readonly truthChannel: string;
  readonly channel: string;
  readonly truthRate: Money;
  readonly channelRate: Money;
  /** channel − truth, in minor units: negative when the channel undercuts the source of truth. */
  readonly difference: number;
  /** |difference| as a percentage of the truth rate; absent when the truth rate is zero. */
  readonly percent?: number;
}

/** The rates cannot be compared at all; kept apart from price violations so currency setup errors stand out. */
export interface CurrencyMismatch {
  readonly kind: 'currency_mismatch';
  readonly key: ParityNightKey;
  readonly truthChannel: string;
  readonly channel: string;
  readonly truthRate: Money;
  readonly channelRate: Money;
}

export type ParityFinding = PriceViolation | CurrencyMismatch;

export interface ParityRecord {
  readonly key: ParityNightKey;
  readonly findings: readonly ParityFinding[];
  /** When the night was last checked, ISO-8601. */
  readonly checkedAt: string;
}

export interface ParityQuery {
  readonly propertyId: string;
  readonly from: string;
  readonly to: string;
  readonly limit: number;
  readonly cursor?: string;
}

/** Current parity findings per room night, for the read API (`GET /parity`). */
export interface ParityStore {
  /**
   * Replaces the night's findings. An empty list is stored too (or the night removed), so a violation that was
   * fixed disappears from the read API on the next check instead of lingering.
   */
  putNight(record: ParityRecord): Promise<void>;
  /** Nights of one property from `from` to `to` inclusive, in date order, that have at least one finding. */
  list(query: ParityQuery): Promise<Page<ParityRecord>>;
}
