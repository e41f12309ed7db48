import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MappingStore } from '../../lambdas/state/ports';

/** What every MappingStore must do: resolve exactly the (scope, entity, external id) last put. */
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
  });
}
