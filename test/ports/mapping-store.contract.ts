import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../lambdas/shared/cursor';
import type { MappingQuery, MappingStore, StoredMapping } from '../../lambdas/state/ports';

/** Every page of a listing, following the cursor; each page but the last is full. */
async function listAll(
  store: MappingStore,
  query: Omit<MappingQuery, 'cursor'>,
): Promise<{ pages: number; items: StoredMapping[] }> {
  const items: StoredMapping[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    pages++;
    if (page.cursor !== undefined) expect(page.items).toHaveLength(query.limit);
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { pages, items };
}

/**
 * What every MappingStore must do: resolve exactly the (scope, entity, external id) last put, and list what is
 * stored by scope and entity, a page at a time.
 */
export function mappingStoreContract(name: string, create: () => MappingStore): void {
  describe(`${name} keeps the MappingStore contract`, () => {
    it('resolves a mapping put, with the property a room type belongs to', async () => {
      const store = create();
      const ref = { scope: 'cm-demo', entity: 'roomType', externalId: `DBL-${randomUUID()}` } as const;
      await store.put(
        ref,
        { internalId: 'rt-double', propertyId: 'prop-1' },
        '2026-03-01T10:00:00.000Z',
        'mapping',
      );
      expect(await store.get(ref)).toEqual({ internalId: 'rt-double', propertyId: 'prop-1' });
    });

    it('answers undefined for an unmapped id, and keeps scopes, entities and ids apart', async () => {
      const store = create();
      const externalId = `H-${randomUUID()}`;
      await store.put(
        { scope: '*', entity: 'property', externalId },
        { internalId: 'prop-global' },
        't',
        'o',
      );

      const resolved = await store.get({ scope: '*', entity: 'property', externalId });
      expect(resolved).toEqual({ internalId: 'prop-global' });
      expect(resolved).not.toHaveProperty('propertyId');
      expect(await store.get({ scope: 'cm-demo', entity: 'property', externalId })).toBeUndefined();
      expect(await store.get({ scope: '*', entity: 'ratePlan', externalId })).toBeUndefined();
      expect(
        await store.get({ scope: '*', entity: 'property', externalId: `${externalId}-2` }),
      ).toBeUndefined();
    });

    it('replaces a mapping whole, dropping a property id the new target lacks', async () => {
      const store = create();
      const ref = { scope: 'ota-demo', entity: 'roomType', externalId: `STD-${randomUUID()}` } as const;
      await store.put(
        ref,
        { internalId: 'rt-old', propertyId: 'prop-1' },
        '2026-03-01T10:00:00.000Z',
        'config',
      );
      await store.put(ref, { internalId: 'rt-new' }, '2026-03-02T10:00:00.000Z', 'mapping');
      expect(await store.get(ref)).toEqual({ internalId: 'rt-new' });
    });

    it('lists a scope entity by entity (property, roomType, ratePlan), each in key order, a page at a time', async () => {
      const store = create();
      const scope = `list-${randomUUID()}`;
      const other = `list-${randomUUID()}`;
      await store.put({ scope, entity: 'ratePlan', externalId: 'BAR' }, { internalId: 'bar' }, 't', 'o');
      await store.put(
        { scope, entity: 'roomType', externalId: 'STD' },
        { internalId: 'std', propertyId: 'p1' },
        't',
        'o',
      );
      await store.put({ scope, entity: 'roomType', externalId: 'DBL' }, { internalId: 'dbl' }, 't', 'o');
      await store.put({ scope, entity: 'property', externalId: 'H1' }, { internalId: 'p1' }, 't', 'o');
      await store.put({ scope: other, entity: 'roomType', externalId: 'DBL' }, { internalId: 'x' }, 't', 'o');
      // Replaced, not listed twice.
      await store.put({ scope, entity: 'ratePlan', externalId: 'BAR' }, { internalId: 'bar-2' }, 't', 'o');

      const expected = [
        { ref: { scope, entity: 'property', externalId: 'H1' }, target: { internalId: 'p1' } },
        { ref: { scope, entity: 'roomType', externalId: 'DBL' }, target: { internalId: 'dbl' } },
        {
          ref: { scope, entity: 'roomType', externalId: 'STD' },
          target: { internalId: 'std', propertyId: 'p1' },
        },
        { ref: { scope, entity: 'ratePlan', externalId: 'BAR' }, target: { internalId: 'bar-2' } },
      ];
      expect(await store.list({ scope, limit: 10 })).toEqual({ items: expected });
      for (const limit of [1, 2, 3]) {
        const listed = await listAll(store, { scope, limit });
        expect(listed.items, `pages of ${limit}`).toEqual(expected);
        expect(listed.pages).toBe(Math.ceil(expected.length / limit));
      }
      expect(await listAll(store, { scope, entity: 'roomType', limit: 1 })).toEqual({
        pages: 2,
        items: expected.slice(1, 3),
      });
      expect(await store.list({ scope: `list-${randomUUID()}`, limit: 5 })).toEqual({ items: [] });
    });

    it('lists every scope of an entity', async () => {
      const store = create();
      const externalId = `ALL-${randomUUID()}`;
      await store.put({ scope: '*', entity: 'ratePlan', externalId }, { internalId: 'shared' }, 't', 'o');
      await store.put({ scope: 'cm-demo', entity: 'ratePlan', externalId }, { internalId: 'own' }, 't', 'o');
      const { items } = await listAll(store, { entity: 'ratePlan', limit: 500 });
      expect(items.filter((item) => item.ref.externalId === externalId)).toEqual([
        { ref: { scope: '*', entity: 'ratePlan', externalId }, target: { internalId: 'shared' } },
        { ref: { scope: 'cm-demo', entity: 'ratePlan', externalId }, target: { internalId: 'own' } },
      ]);
      expect(items.every((item) => item.ref.entity === 'ratePlan')).toBe(true);
    });

    it('refuses a cursor issued for another scope or entity, or not issued at all', async () => {
      const store = create();
      const scope = `list-${randomUUID()}`;
      for (const externalId of ['A', 'B']) {
        await store.put({ scope, entity: 'roomType', externalId }, { internalId: externalId }, 't', 'o');
      }
      const { cursor } = await store.list({ scope, entity: 'roomType', limit: 1 });
      if (cursor === undefined) throw new Error('a first page of one of two mappings has a cursor');
      await expect(
        store.list({ scope: `list-${randomUUID()}`, entity: 'roomType', limit: 1, cursor }),
      ).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(store.list({ scope, entity: 'ratePlan', limit: 1, cursor })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
      await expect(store.list({ scope, limit: 1, cursor: 'bm90LWEta2V5' })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
      expect(await store.list({ scope, entity: 'roomType', limit: 1, cursor })).toEqual({
        items: [{ ref: { scope, entity: 'roomType', externalId: 'B' }, target: { internalId: 'B' } }],
      });
    });
  });
}
