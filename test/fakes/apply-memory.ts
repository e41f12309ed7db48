import { mergeNight } from '../../lambdas/domain/lww';
import type { Page } from '../../lambdas/domain/page';
import {
  compareVersions,
  type FieldGroup,
  type NightWrite,
  type RoomNightKey,
  type RoomNightState,
  type Version,
  versionOf,
} from '../../lambdas/domain/state';
import type { LedgerEntry } from '../../lambdas/ledger/ports';
import {
  decodeCursor,
  decodeRangeCursor,
  encodeCursor,
  InvalidCursorError,
} from '../../lambdas/shared/cursor';
import {
  type AriQuery,
  type AriStore,
  type GuestStore,
  MAPPING_ENTITIES,
  type MappingQuery,
  type MappingRef,
  type MappingStore,
  type MappingTarget,
  type ParkedEvent,
  type ReservationRecord,
  type ReservationStore,
  type ReviewStore,
} from '../../lambdas/state/ports';
import { InMemoryLedger } from './in-memory';

/**
 * In-memory apply ports with the contracts of the DynamoDB stores: each passes the same contract suite as its
 * DynamoDB adapter (test/ports). The ARI fake applies the reference semantics in lww.ts, so domain tests
 * exercise the same rules.
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
    // As in DynamoDB, where a refused or empty write creates no item.
    if (written.length > 0) this.nights.set(id, state);
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

  /**
   * In the DynamoDB store's order and with its cursors (the key of the last night returned), so that paging
   * callers see what they see in production; a cursor is handed out only when another night follows.
   */
  async readNights(query: AriQuery): Promise<Page<RoomNightState>> {
    const pk = ariPartitionKey(query.propertyId);
    const after =
      query.cursor === undefined
        ? undefined
        : decodeRangeCursor(query.cursor, pk, query.from, `${query.to}#\uffff`).sk?.S;
    const matching = [...this.nights.values()]
      .filter(
        (n) =>
          n.key.propertyId === query.propertyId &&
          n.key.date >= query.from &&
          n.key.date <= query.to &&
          (!query.roomTypeId || n.key.roomTypeId === query.roomTypeId) &&
          (!query.ratePlanId || n.key.ratePlanId === query.ratePlanId),
      )
      .map((night) => ({ sk: ariSortKey(night.key), night }))
      .filter(({ sk }) => after === undefined || compareVersions(sk, after) > 0)
      .sort((a, b) => compareVersions(a.sk, b.sk));
    const page = matching.slice(0, query.limit);
    const items = page.map(({ night }) => night);
    const last = page.at(-1);
    return matching.length > page.length && last !== undefined
      ? { items, cursor: encodeCursor({ pk, sk: last.sk }) }
      : { items };
  }
}

function ariPartitionKey(propertyId: string): string {
  return `P#${propertyId}`;
}

/** The DynamoDB store's sort key: the date, then the percent-encoded ids, compared as UTF-8 bytes. */
function ariSortKey(key: RoomNightKey): string {
  return [key.date, ...[key.roomTypeId, key.ratePlanId, key.channel].map(encodeURIComponent)].join('#');
}

export class InMemoryMappingStore implements MappingStore {
  readonly entries = new Map<string, MappingTarget>();
  private readonly refs = new Map<string, MappingRef>();
  async get(ref: MappingRef) {
    return this.entries.get(`${ref.scope}|${ref.entity}|${ref.externalId}`);
  }
  async put(ref: MappingRef, target: MappingTarget) {
    const { internalId, propertyId } = target;
    const key = `${ref.scope}|${ref.entity}|${ref.externalId}`;
    this.refs.set(key, { scope: ref.scope, entity: ref.entity, externalId: ref.externalId });
    this.entries.set(key, propertyId === undefined ? { internalId } : { internalId, propertyId });
  }
  /** In the DynamoDB index's order (entity, then item key as UTF-8 bytes), with its cursor and refusals. */
  async list(query: MappingQuery) {
    if (!Number.isSafeInteger(query.limit) || query.limit < 1) {
      throw new RangeError(`The page size must be a positive integer, received ${query.limit}`);
    }
    const position = (entity: string, key: string) => ({
      rank: MAPPING_ENTITIES.indexOf(entity as never),
      key,
    });
    const compare = (a: { rank: number; key: string }, b: { rank: number; key: string }) =>
      a.rank - b.rank || compareVersions(a.key, b.key);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, ['entity', 'pk']);
    if (after !== undefined) {
      const scope = after.pk.slice(0, after.pk.indexOf('|'));
      if (
        !MAPPING_ENTITIES.includes(after.entity as never) ||
        (query.entity ?? after.entity) !== after.entity
      ) {
        throw new InvalidCursorError('it was issued for another entity');
      }
      if (!after.pk.startsWith(`${scope}|${after.entity}|`) || (query.scope ?? scope) !== scope) {
        throw new InvalidCursorError('it was issued for another scope');
      }
    }
    const matching = [...this.refs.entries()]
      .filter(
        ([, ref]) => (query.entity ?? ref.entity) === ref.entity && (query.scope ?? ref.scope) === ref.scope,
      )
      .filter(
        ([key, ref]) =>
          after === undefined || compare(position(ref.entity, key), position(after.entity, after.pk)) > 0,
      )
      .sort(([a, refA], [b, refB]) => compare(position(refA.entity, a), position(refB.entity, b)))
      .map(([key, ref]) => ({ ref, target: this.entries.get(key) as MappingTarget }));
    const items = matching.slice(0, query.limit);
    const last = items.at(-1);
    return matching.length > items.length && last !== undefined
      ? {
          items,
          cursor: encodeCursor({
            entity: last.ref.entity,
            pk: `${last.ref.scope}|${last.ref.entity}|${last.ref.externalId}`,
          }),
        }
      : { items };
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
  /** In the DynamoDB index's order (version, then event id, as UTF-8 bytes), with its cursor and refusals. */
  async waitingInOrder(key: string, limit: number, cursor?: string): Promise<Page<ParkedEvent>> {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`The page size must be a positive integer, received ${limit}`);
    }
    const after = cursor === undefined ? undefined : decodeCursor(cursor, ['pk', 'waitingFor', 'parkOrder']);
    if (after !== undefined && after.waitingFor !== key) {
      throw new InvalidCursorError('it was issued for another key');
    }
    const position = (entry: ParkedEvent) => ({ order: versionOf(entry.event), pk: entry.event.eventId });
    const compare = (a: { order: string; pk: string }, b: { order: string; pk: string }) =>
      compareVersions(a.order, b.order) || compareVersions(a.pk, b.pk);
    const matching = [...this.parked.values()]
      .filter((entry) => entry.waitingFor === key)
      .filter(
        (entry) =>
          after === undefined || compare(position(entry), { order: after.parkOrder, pk: after.pk }) > 0,
      )
      .sort((a, b) => compare(position(a), position(b)));
    const items = matching.slice(0, limit);
    const last = items.at(-1);
    return matching.length > items.length && last !== undefined
      ? {
          items,
          cursor: encodeCursor({ pk: last.event.eventId, waitingFor: key, parkOrder: versionOf(last.event) }),
        }
      : { items };
  }
  async remove(eventId: string) {
    this.parked.delete(eventId);
  }
  /** Pages in event id order, with the DynamoDB store's cursor (the last event id) and its refusals. */
  async list(limit: number, cursor?: string): Promise<Page<ParkedEvent>> {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`The page size must be a positive integer, received ${limit}`);
    }
    const after = cursor === undefined ? undefined : decodeCursor(cursor, ['pk']).pk;
    const matching = [...this.parked.values()]
      .filter((p) => after === undefined || compareVersions(p.event.eventId, after) > 0)
      .sort((a, b) => compareVersions(a.event.eventId, b.event.eventId));
    const items = matching.slice(0, limit);
    const last = items.at(-1);
    return matching.length > items.length && last !== undefined
      ? { items, cursor: encodeCursor({ pk: last.event.eventId }) }
      : { items };
  }
}

export class InMemoryReservationStore implements ReservationStore {
  readonly records = new Map<string, ReservationRecord>();
  async apply(record: ReservationRecord) {
    const existing = this.records.get(record.id);
    if (existing) {
      if (compareVersions(existing.version, record.version) >= 0) return false;
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
    if (erasedAt !== undefined && compareVersions(erasedAt, version) >= 0) return false;
    const links = this.guests.get(key) ?? new Set<string>();
    if (reservationId) links.add(reservationId);
    this.guests.set(key, links);
    return true;
  }
  async erase(sourceId: string, guestExternalId: string, version: Version) {
    const key = `${sourceId}|${guestExternalId}`;
    const links = [...(this.guests.get(key) ?? [])];
    this.guests.delete(key);
    const erasedAt = this.erased.get(key);
    if (erasedAt === undefined || compareVersions(erasedAt, version) < 0) this.erased.set(key, version);
    return links;
  }
}

/**
 * The ledger as unit tests of the apply pipeline find it, which hand the pipeline events without an edge: an
 * event it holds no entry for reads as `enqueued`. One the ledger no longer knows (expired, or never written) is
 * put in `expired`.
 */
export class InMemoryApplyLedger extends InMemoryLedger {
  /** Entries past the dedupe window: the table's TTL has removed them, so they read as absent. */
  readonly expired = new Set<string>();

  protected override find(eventId: string): LedgerEntry | undefined {
    if (this.expired.has(eventId)) return undefined;
    return super.find(eventId) ?? enqueuedByTheEdge(eventId);
  }
}

/** What the edge leaves for an event it enqueued, with placeholders where the pipeline does not look. */
function enqueuedByTheEdge(eventId: string): LedgerEntry {
  const epoch = new Date(0).toISOString();
  return {
    eventId,
    sourceId: 'unknown',
    kind: 'pms',
    idempotencyKey: eventId,
    providerEventType: 'unknown',
    status: 'enqueued',
    occurredAt: epoch,
    receivedAt: epoch,
    updatedAt: epoch,
    deliveryCount: 1,
    expiresAt: 0,
  };
}
