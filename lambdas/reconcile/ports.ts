import type { Restrictions } from '../domain/canonical';
import type { Money } from '../domain/money';
import type { RoomNightKey } from '../domain/state';

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

// The audit is read as well as written (GET /reconciliation/audit): its records and port live with the state.
export type { AuditAction, AuditLog, AuditRecord } from '../state/audit';
