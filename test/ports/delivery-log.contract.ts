import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ApplyLedger,
  type DeliveryLedger,
  type DeliveryLog,
  type DeliveryLogQuery,
  type DeliveryLogRow,
  LEDGER_STATUSES,
  type LedgerEntry,
  type LedgerStatus,
} from '../../lambdas/ledger/ports';
import { InvalidCursorError } from '../../lambdas/shared/cursor';
import { entryAt, LEASE_MS, redeliveryAt, T0 } from './delivery-ledger.contract';

export interface DeliveryLogSubject {
  readonly log: DeliveryLog;
  /** The same ledger, filled through the edge's and apply's own protocol. */
  readonly ledger: DeliveryLedger & ApplyLedger;
}

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

// Each test reads a window of its own, a day apart, so that a table shared by the tests holds nothing else there.
let days = 0;
const freshBase = () => T0 - ++days * 86_400_000;

interface Delivery {
  readonly sourceId?: string;
  readonly status?: LedgerStatus;
  readonly providerEventType?: string;
  readonly canonicalType?: string;
  readonly receivedAtMs: number;
}

/** Brings a delivery to `status` the way the edge and apply would, and returns its entry as first claimed. */
export async function deliver(
  ledger: DeliveryLedger & ApplyLedger,
  delivery: Delivery,
): Promise<LedgerEntry> {
  const status = delivery.status ?? 'applied';
  const entry = entryAt(delivery.receivedAtMs, {
    sourceId: delivery.sourceId ?? 'pms-demo',
    ...(delivery.providerEventType ? { providerEventType: delivery.providerEventType } : {}),
    ...(delivery.canonicalType ? { canonicalType: delivery.canonicalType } : {}),
  });
  const at = (ms: number) => iso(delivery.receivedAtMs + ms);
  await ledger.claim(entry, delivery.receivedAtMs);
  if (status === 'received') return entry;
  if (status === 'recorded') {
    await ledger.confirm(entry, 'recorded', at(10));
    return entry;
  }
  await ledger.confirm(
    entry,
    'enqueued',
    at(10),
    `msg-${entry.eventId}`,
    JSON.stringify({ id: entry.eventId }),
  );
  if (status === 'dead-lettered') {
    await ledger.deadLetter(entry, 'dead-lettered after 5 receives: Error: boom', at(20));
  } else if (status === 'rejected' || status === 'parked' || status === 'held') {
    await ledger.settle(entry, status, at(20), `${status}: because`);
  } else if (status === 'applied') {
    await ledger.settle(entry, status, at(20));
  }
  return entry;
}

async function everyPage(log: DeliveryLog, query: DeliveryLogQuery): Promise<DeliveryLogRow[][]> {
  const pages: DeliveryLogRow[][] = [];
  let cursor: string | undefined;
  do {
    const page = await log.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    pages.push([...page.items]);
    cursor = page.cursor;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

const idsOf = (rows: readonly DeliveryLogRow[]) => rows.map((row) => row.eventId);

/**
 * What every DeliveryLog must do: list the ledger's entries received in a window, newest first, filtered by
 * source, status and type, page by page through cursors it checks; and count them per status.
 */
export function deliveryLogContract(name: string, create: () => DeliveryLogSubject): void {
  describe(`${name} keeps the DeliveryLog contract`, () => {
    it('lists the entries received in the window, newest first, "from" in and "to" out, as the log shows them', async () => {
      const { log, ledger } = create();
      const base = freshBase();
      const sourceId = `src-${randomUUID().slice(0, 8)}`;
      await deliver(ledger, { sourceId, receivedAtMs: base - 1 });
      const first = await deliver(ledger, { sourceId, receivedAtMs: base, status: 'parked' });
      const second = await deliver(ledger, { sourceId, receivedAtMs: base + MINUTE, status: 'recorded' });
      const third = await deliver(ledger, {
        sourceId,
        receivedAtMs: base + 2 * MINUTE - 1,
        status: 'received',
      });
      await deliver(ledger, { sourceId, receivedAtMs: base + 2 * MINUTE });

      const page = await log.list({ from: iso(base), to: iso(base + 2 * MINUTE), limit: 10 });

      expect(page).toEqual({
        items: [
          {
            eventId: third.eventId,
            sourceId,
            kind: 'pms',
            providerEventType: 'reservation.created',
            canonicalType: 'reservation.change',
            status: 'received',
            occurredAt: third.occurredAt,
            receivedAt: third.receivedAt,
            updatedAt: third.updatedAt,
            deliveryCount: 1,
          },
          {
            eventId: second.eventId,
            sourceId,
            kind: 'pms',
            providerEventType: 'reservation.created',
            canonicalType: 'reservation.change',
            status: 'recorded',
            occurredAt: second.occurredAt,
            receivedAt: second.receivedAt,
            updatedAt: iso(base + MINUTE + 10),
            deliveryCount: 1,
          },
          {
            eventId: first.eventId,
            sourceId,
            kind: 'pms',
            providerEventType: 'reservation.created',
            canonicalType: 'reservation.change',
            status: 'parked',
            reason: 'parked: because',
            occurredAt: first.occurredAt,
            receivedAt: first.receivedAt,
            updatedAt: iso(base + 20),
            deliveryCount: 1,
            retained: true,
          },
        ],
      });
    });

    it('picks the entries of a source, of a status, or of both', async () => {
      const { log, ledger } = create();
      const base = freshBase();
      const [a, b] = [`src-a-${randomUUID().slice(0, 8)}`, `src-b-${randomUUID().slice(0, 8)}`];
      const aApplied = await deliver(ledger, { sourceId: a, status: 'applied', receivedAtMs: base + 1 });
      const aRejected = await deliver(ledger, { sourceId: a, status: 'rejected', receivedAtMs: base + 2 });
      const bApplied = await deliver(ledger, { sourceId: b, status: 'applied', receivedAtMs: base + 3 });
      const window = { from: iso(base), to: iso(base + MINUTE), limit: 10 };

      expect(idsOf((await log.list({ ...window, sourceId: a })).items)).toEqual([
        aRejected.eventId,
        aApplied.eventId,
      ]);
      expect(idsOf((await log.list({ ...window, status: 'applied' })).items)).toEqual([
        bApplied.eventId,
        aApplied.eventId,
      ]);
      expect(idsOf((await log.list({ ...window, sourceId: a, status: 'applied' })).items)).toEqual([
        aApplied.eventId,
      ]);
      expect((await log.list({ ...window, sourceId: b, status: 'rejected' })).items).toEqual([]);
    });

    it('finds an entry under its current status as it moves from status to status', async () => {
      const { log, ledger } = create();
      const base = freshBase();
      const sourceId = `src-${randomUUID().slice(0, 8)}`;
      const entry = entryAt(base, { sourceId });
      const window = { from: iso(base), to: iso(base + MINUTE), limit: 10 };
      const listedAs = async () => {
        const found: LedgerStatus[] = [];
        for (const status of LEDGER_STATUSES) {
          const bySource = idsOf((await log.list({ ...window, sourceId, status })).items);
          const byStatus = idsOf((await log.list({ ...window, status })).items);
          expect(bySource.includes(entry.eventId), status).toBe(byStatus.includes(entry.eventId));
          if (bySource.includes(entry.eventId)) found.push(status);
        }
        return found;
      };
      await ledger.claim(entry, base);
      expect(await listedAs()).toEqual(['received']);
      await ledger.confirm(entry, 'enqueued', iso(base + 1), 'msg-1', '{}');
      expect(await listedAs()).toEqual(['enqueued']);
      await ledger.settle(entry, 'held', iso(base + 2), 'held: source on hold');
      expect(await listedAs()).toEqual(['held']);
      await ledger.deadLetter(entry, 'dead-lettered after 5 receives: Error: boom', iso(base + 3));
      expect(await listedAs()).toEqual(['dead-lettered']);
      await ledger.settle(entry, 'applied', iso(base + 4));
      expect(await listedAs()).toEqual(['applied']);
    });

    it('keeps an entry taken over by a retry where the first delivery put it', async () => {
      const { log, ledger } = create();
      const base = freshBase();
      const entry = entryAt(base);
      await ledger.claim(entry, base);
      const retryAt = base + LEASE_MS + 1;
      await ledger.claim(redeliveryAt(entry, retryAt), retryAt);
      const rows = (await log.list({ from: iso(base), to: iso(base + 1), limit: 10 })).items;
      expect(rows).toMatchObject([
        { eventId: entry.eventId, receivedAt: entry.receivedAt, deliveryCount: 2 },
      ]);
    });

    it('fills every page but the last, which hands out no cursor', async () => {
      const { log, ledger } = create();
      const base = freshBase();
      const entries: LedgerEntry[] = [];
      for (let i = 0; i < 7; i++) entries.push(await deliver(ledger, { receivedAtMs: base + i * 1000 }));
      const pages = await everyPage(log, { from: iso(base), to: iso(base + MINUTE), limit: 3 });
      expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
      expect(pages.flatMap(idsOf)).toEqual(entries.map((entry) => entry.eventId).reverse());

      const exact = await everyPage(log, { from: iso(base), to: iso(base + 6 * 1000), limit: 3 });
      expect(exact.map((page) => page.length)).toEqual([3, 3]);
    });

    it('with a type, matching the provider or the canonical type, pages through every match exactly once', async () => {
      const { log, ledger } = create();
      const base = freshBase();
      const matching: string[] = [];
      for (let i = 0; i < 12; i++) {
        const ari = i % 3 === 0;
        const entry = await deliver(ledger, {
          receivedAtMs: base + i * 1000,
          providerEventType: ari ? 'rate_update' : 'reservation.created',
          canonicalType: ari ? 'ari.update' : 'reservation.change',
        });
        if (ari) matching.unshift(entry.eventId);
      }
      for (const type of ['rate_update', 'ari.update']) {
        const pages = await everyPage(log, { from: iso(base), to: iso(base + MINUTE), limit: 2, type });
        expect(pages.every((page) => page.length <= 2)).toBe(true);
        expect(pages.flatMap(idsOf), type).toEqual(matching);
      }
    });

    it('refuses a cursor issued for another source, status or window', async () => {
      const { log, ledger } = create();
      const base = freshBase();
      const sourceId = `src-${randomUUID().slice(0, 8)}`;
      for (let i = 0; i < 3; i++) await deliver(ledger, { sourceId, receivedAtMs: base + i });
      const query = { from: iso(base), to: iso(base + MINUTE), limit: 1 };
      const bySource = await log.list({ ...query, sourceId });
      const byStatus = await log.list({ ...query, status: 'applied' });
      expect(bySource.cursor).toEqual(expect.any(String));

      const refused = [
        { ...query, sourceId: 'pms-demo', cursor: bySource.cursor },
        { ...query, cursor: bySource.cursor },
        { ...query, sourceId, status: 'applied' as const, cursor: bySource.cursor },
        { ...query, status: 'rejected' as const, cursor: byStatus.cursor },
        { ...query, sourceId, from: iso(base + 1), cursor: bySource.cursor },
        { ...query, sourceId, to: iso(base + 2 * MINUTE), cursor: bySource.cursor },
      ];
      for (const attempt of refused) {
        await expect(log.list(attempt), JSON.stringify(attempt)).rejects.toBeInstanceOf(InvalidCursorError);
      }
    });

    it('counts the entries received in the window per status, for every source or for one', async () => {
      const { log, ledger } = create();
      const base = freshBase();
      const [a, b] = [`src-a-${randomUUID().slice(0, 8)}`, `src-b-${randomUUID().slice(0, 8)}`];
      const plan: ReadonlyArray<[string, LedgerStatus]> = [
        [a, 'applied'],
        [a, 'applied'],
        [a, 'parked'],
        [a, 'dead-lettered'],
        [a, 'recorded'],
        [b, 'applied'],
        [b, 'received'],
      ];
      for (const [index, [sourceId, status]] of plan.entries()) {
        await deliver(ledger, { sourceId, status, receivedAtMs: base + index });
      }
      await deliver(ledger, { sourceId: a, receivedAtMs: base + MINUTE });
      const zero = Object.fromEntries(LEDGER_STATUSES.map((status) => [status, 0]));
      const window = { from: iso(base), to: iso(base + MINUTE) };

      expect(await log.counts(window)).toEqual({
        ...zero,
        applied: 3,
        parked: 1,
        'dead-lettered': 1,
        recorded: 1,
        received: 1,
      });
      expect(await log.counts({ ...window, sourceId: b })).toEqual({ ...zero, applied: 1, received: 1 });
      expect(await log.counts({ ...window, sourceId: 'pms-demo' })).toEqual(zero);
    });
  });
}
