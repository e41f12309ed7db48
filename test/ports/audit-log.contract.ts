import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FieldGroup } from '../../lambdas/domain/room-night';
import { InvalidCursorError } from '../../lambdas/shared/cursor';
import { InvalidRequestError } from '../../lambdas/shared/errors';
import type { AuditLog, AuditQuery, AuditReader, AuditRecord } from '../../lambdas/state/audit';
import { MAX_NIGHTS_PER_PAGE } from '../../lambdas/state/night-range';

export type AuditStore = AuditLog & AuditReader;

/** A property id of its own for each test, so that tests sharing a table never read each other's records. */
const freshProperty = () => `prop-${randomUUID()}`;

/**
 * The `index`th record a run might append for a night of `propertyId`: its room type, group and action turn with
 * the index, and its time is the index's second. Every instant and stay date lies years ahead, as DynamoDB Local
 * deletes items whose TTL has passed.
 */
export function auditRecord(
  propertyId: string,
  date: string,
  index: number,
  overrides: Partial<AuditRecord> = {},
): AuditRecord {
  const groups: FieldGroup[] = ['rate', 'availability', 'restrictions'];
  return {
    key: { propertyId, roomTypeId: `rt-${index % 3}`, ratePlanId: 'bar', channel: 'ota-sim', date },
    group: groups[index % 3] ?? 'rate',
    action: index % 2 === 0 ? 'overwritten' : 'observed',
    before: { amountMinor: 10_000 + index, currency: 'EUR', nested: [index, { flag: true }] },
    after: { amountMinor: 12_000 + index, currency: 'EUR' },
    beforeVersion: `2030-12-31T23:00:00.000Z#evt-${index}`,
    providerUpdatedAt: '2030-12-31T23:30:00.000Z',
    runId: 'run-1',
    at: `2031-01-01T00:00:${String(index % 60).padStart(2, '0')}.000Z`,
    ...overrides,
  };
}

/** A record as a reader of the port sees it: a store may keep more beside it (DynamoDB its expiry). */
function asAppended(record: AuditRecord): AuditRecord {
  const { expiresAt: _expiry, ...appended } = record as AuditRecord & { expiresAt?: number };
  return appended;
}

/** Every page of a query, following the cursors it hands out. */
async function pagesOf(store: AuditReader, query: Omit<AuditQuery, 'cursor'>): Promise<AuditRecord[][]> {
  const pages: AuditRecord[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page.items.map(asAppended));
    cursor = page.cursor;
  } while (cursor !== undefined && pages.length < 20);
  return pages;
}

/**
 * What every audit log must do: keep each record appended (an identical one once), and read one property's
 * nights back in date order, a night's records of one field group in time order, a page at a time.
 */
export function auditLogContract(name: string, create: () => AuditStore): void {
  describe(`${name} keeps the AuditLog and AuditReader contract`, () => {
    it('lists back exactly the records appended, one without a before value included', async () => {
      const audit = create();
      const propertyId = freshProperty();
      const withBefore = auditRecord(propertyId, '2031-03-01', 0);
      const {
        before: _before,
        beforeVersion: _version,
        ...withoutBefore
      } = auditRecord(propertyId, '2031-03-02', 1);
      await audit.append([withBefore, withoutBefore]);
      const page = await audit.list({ propertyId, from: '2031-03-01', to: '2031-03-02', limit: 10 });
      expect(page.cursor).toBeUndefined();
      expect(page.items.map(asAppended)).toEqual([withBefore, withoutBefore]);
      expect(page.items[1]).not.toHaveProperty('before');
      expect(page.items[1]).not.toHaveProperty('beforeVersion');
    });

    it('lists one property’s nights from "from" to "to" inclusive, in date order, a night’s group in time order', async () => {
      const audit = create();
      const [propertyId, other] = [freshProperty(), freshProperty()];
      const night = (date: string, at: string) => auditRecord(propertyId, date, 0, { at });
      const later = night('2031-03-03', '2031-01-02T00:00:00.000Z');
      const earlier = night('2031-03-03', '2031-01-01T00:00:00.000Z');
      const [before, first, last, after] = ['2031-03-01', '2031-03-02', '2031-03-04', '2031-03-05'].map(
        (date) => night(date, '2031-01-01T12:00:00.000Z'),
      ) as [AuditRecord, AuditRecord, AuditRecord, AuditRecord];
      await audit.append([after, later, last]);
      await audit.append([first, before, earlier, auditRecord(other, '2031-03-03', 0)]);
      const page = await audit.list({ propertyId, from: '2031-03-02', to: '2031-03-04', limit: 10 });
      expect(page.items.map(asAppended)).toEqual([first, earlier, later, last]);
    });

    it('keeps apart records that differ only in content or in where a "#" falls in an id, and an identical one once', async () => {
      const audit = create();
      const propertyId = freshProperty();
      const record = auditRecord(propertyId, '2031-04-04', 0);
      const changed = { ...record, after: { amountMinor: 1, currency: 'EUR' } };
      const hashInRoomType = { ...record, key: { ...record.key, roomTypeId: 'a#b', ratePlanId: 'c' } };
      const hashInRatePlan = { ...record, key: { ...record.key, roomTypeId: 'a', ratePlanId: 'b#c' } };
      await audit.append([record, record, changed, hashInRoomType, hashInRatePlan]);
      await audit.append([record]);
      const { items } = await audit.list({ propertyId, from: '2031-04-04', to: '2031-04-04', limit: 10 });
      expect(items.map(asAppended)).toHaveLength(4);
      expect(items.map(asAppended)).toEqual(
        expect.arrayContaining([record, changed, hashInRoomType, hashInRatePlan]),
      );
    });

    it('pages with the cursor it hands out, each record once, of one action when asked, none after the last', async () => {
      const audit = create();
      const propertyId = freshProperty();
      const records = Array.from({ length: 12 }, (_, index) =>
        auditRecord(propertyId, `2031-06-0${(index % 4) + 1}`, index),
      );
      await audit.append([...records, auditRecord(propertyId, '2031-06-05', 99)]);
      const query = { propertyId, from: '2031-06-01', to: '2031-06-04' };
      const [whole = []] = await pagesOf(audit, { ...query, limit: 100 });
      expect(whole).toHaveLength(12);
      expect(whole).toEqual(expect.arrayContaining(records));

      const paged = await pagesOf(audit, { ...query, limit: 5 });
      expect(paged.map((page) => page.length)).toEqual([5, 5, 2]);
      expect(paged.flat()).toEqual(whole);
      // A page that ends exactly at the last record hands out no cursor either.
      expect((await pagesOf(audit, { ...query, limit: 6 })).map((page) => page.length)).toEqual([6, 6]);

      const overwritten = 'overwritten';
      const filtered = await pagesOf(audit, { ...query, action: overwritten, limit: 4 });
      expect(filtered.map((page) => page.length)).toEqual([4, 2]);
      expect(filtered.flat()).toEqual(whole.filter((record) => record.action === overwritten));
    });

    it('refuses a cursor of another query, and dates or a page size it cannot serve', async () => {
      const audit = create();
      const propertyId = freshProperty();
      await audit.append(
        ['2031-07-01', '2031-07-02', '2031-07-03'].map((d, i) => auditRecord(propertyId, d, i)),
      );
      const query = { propertyId, from: '2031-07-01', to: '2031-07-31', limit: 1 };
      const { cursor } = await audit.list(query);
      expect(cursor).toEqual(expect.any(String));
      const next = { ...query, cursor: cursor ?? '' };
      await expect(audit.list({ ...next, propertyId: freshProperty() })).rejects.toThrow(InvalidCursorError);
      await expect(audit.list({ ...next, from: '2031-07-02' })).rejects.toThrow(InvalidCursorError);
      await expect(audit.list({ ...next, cursor: 'not a cursor' })).rejects.toThrow(InvalidCursorError);

      for (const refused of [
        { ...query, from: '2031-07-32' },
        { ...query, from: '2031-08-01' },
        { ...query, limit: 0 },
        { ...query, limit: MAX_NIGHTS_PER_PAGE + 1 },
      ]) {
        const error = await audit.list(refused).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(InvalidRequestError);
        expect(error).toMatchObject({ code: 'invalid_audit_query' });
      }
    });

    it('refuses a batch holding a record whose time is not an instant, and keeps none of it', async () => {
      const audit = create();
      const propertyId = freshProperty();
      const batch = [
        auditRecord(propertyId, '2031-08-01', 0),
        auditRecord(propertyId, '2031-08-01', 1, { at: 'yesterday' }),
      ];
      await expect(audit.append(batch)).rejects.toThrow(/"yesterday"/);
      expect(await audit.list({ propertyId, from: '2031-08-01', to: '2031-08-01', limit: 10 })).toEqual({
        items: [],
      });
    });
  });
}
