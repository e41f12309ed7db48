import { mergeNight } from '../../lambdas/apply/lww';
import type {
  FieldGroup,
  NightWrite,
  RoomNightKey,
  RoomNightState,
  Version,
} from '../../lambdas/apply/model';
import type {
  ApplyLedger,
  AriQuery,
  AriStore,
  GuestStore,
  MappingRef,
  MappingStore,
  MappingTarget,
  Page,
  ParkedEvent,
  ReservationRecord,
  ReservationStore,
  ReviewStore,
} from '../../lambdas/apply/ports';

/**
 * In-memory apply ports with the contracts of the DynamoDB stores (each of which has its own integration test).
 * The ARI fake applies the reference semantics in lww.ts, so domain tests exercise the same rules.
 */
export class InMemoryAriStore implements AriStore {
  readonly nights = new Map<string, RoomNightState>();
  failNextWrites = 0;

  async writeNight(
    key: RoomNightKey,
    write: NightWrite,
    version: Version,
    eventId: string,
  ): Promise<FieldGroup[]> {
    if (this.failNextWrites > 0) {
      this.failNextWrites--;
      throw new Error('ProvisionedThroughputExceededException: injected');
    }
    const id = JSON.stringify([key.propertyId, key.date, key.roomTypeId, key.ratePlanId, key.channel]);
    const { state, written } = mergeNight(this.nights.get(id) ?? { key }, write, version, eventId);
    this.nights.set(id, state);
    return [...written];
  }

  async readNightsByKey(keys: readonly RoomNightKey[]): Promise<RoomNightState[]> {
    const ids = new Set(
      keys.map((key) =>
        JSON.stringify([key.propertyId, key.date, key.roomTypeId, key.ratePlanId, key.channel]),
      ),
    );
    return [...ids].flatMap((id) => {
      const state = this.nights.get(id);
      return state ? [state] : [];
    });
  }

  async readNights(query: AriQuery): Promise<Page<RoomNightState>> {
    const items = [...this.nights.values()]
      .filter(
        (n) =>
          n.key.propertyId === query.propertyId &&
          n.key.date >= query.from &&
          n.key.date <= query.to &&
          (!query.roomTypeId || n.key.roomTypeId === query.roomTypeId) &&
          (!query.ratePlanId || n.key.ratePlanId === query.ratePlanId),
      )
      .sort((a, b) => a.key.date.localeCompare(b.key.date));
    return { items };
  }
}

export class InMemoryMappingStore implements MappingStore {
  readonly entries = new Map<string, MappingTarget>();
  async get(ref: MappingRef) {
    return this.entries.get(`${ref.scope}|${ref.entity}|${ref.externalId}`);
  }
  async put(ref: MappingRef, target: MappingTarget) {
    this.entries.set(`${ref.scope}|${ref.entity}|${ref.externalId}`, target);
  }
}

export class InMemoryReviewStore implements ReviewStore {
  readonly parked = new Map<string, ParkedEvent>();
  async park(entry: ParkedEvent) {
    this.parked.set(entry.event.eventId, entry);
  }
  async waitingFor(key: string) {
    return [...this.parked.values()].filter((p) => p.waitingFor === key);
  }
  async remove(eventId: string) {
    this.parked.delete(eventId);
  }
  async list(limit: number) {
    return { items: [...this.parked.values()].slice(0, limit) };
  }
}

export class InMemoryReservationStore implements ReservationStore {
  readonly records = new Map<string, ReservationRecord>();
  async apply(record: ReservationRecord) {
    const existing = this.records.get(record.id);
    if (existing) {
      if (existing.version >= record.version) return false;
      if (existing.status === 'cancelled' && record.status === 'confirmed') return false;
    }
    this.records.set(record.id, record);
    return true;
  }
  async get(id: string) {
    return this.records.get(id);
  }
  async forgetGuest(ids: readonly string[], guestExternalId: string) {
    for (const id of ids) {
      const record = this.records.get(id);
      if (record?.guestExternalId === guestExternalId) {
        const { guestExternalId: _erased, ...rest } = record;
        this.records.set(id, rest);
      }
    }
  }
}

export class InMemoryGuestStore implements GuestStore {
  readonly guests = new Map<string, Set<string>>();
  readonly erased = new Map<string, Version>();
  async link(sourceId: string, guestExternalId: string, reservationId: string | undefined, version: Version) {
    const key = `${sourceId}|${guestExternalId}`;
    const erasedAt = this.erased.get(key);
    if (erasedAt !== undefined && erasedAt >= version) return false;
    const links = this.guests.get(key) ?? new Set<string>();
    if (reservationId) links.add(reservationId);
    this.guests.set(key, links);
    return true;
  }
  async erase(sourceId: string, guestExternalId: string, version: Version) {
    const key = `${sourceId}|${guestExternalId}`;
    const links = [...(this.guests.get(key) ?? [])];
    this.guests.delete(key);
    this.erased.set(key, version);
    return links;
  }
}

export class InMemoryApplyLedger implements ApplyLedger {
  readonly statuses = new Map<string, { status: string; reason?: string }>();
  /** Entries past the dedupe window: the table's TTL has removed them, so they read as absent. */
  readonly expired = new Set<string>();
  async status(eventId: string) {
    if (this.expired.has(eventId)) return undefined;
    return this.statuses.get(eventId)?.status ?? 'enqueued';
  }
  async settle(eventId: string, status: 'applied' | 'rejected' | 'parked', _at: string, reason?: string) {
    if (this.expired.has(eventId)) return false;
    const current = this.statuses.get(eventId)?.status;
    if (current === 'applied' || current === 'rejected') return false;
    this.statuses.set(eventId, { status, ...(reason ? { reason } : {}) });
    return true;
  }
}
