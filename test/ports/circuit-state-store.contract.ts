import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CircuitStateStore } from '../../lambdas/reconcile/dynamodb-checkpoints';

/** A source id of its own for each test, so that stores sharing a table never see each other's breakers. */
const freshSource = () => `src-${randomUUID().slice(0, 8)}`;

/** What every CircuitStateStore must do: give back the breaker a source saved last, exactly, and nothing else. */
export function circuitStateStoreContract(name: string, create: () => CircuitStateStore): void {
  describe(`${name} keeps the CircuitStateStore contract`, () => {
    it('knows no breaker of a source never saved', async () => {
      expect(await create().get(freshSource())).toBeUndefined();
    });

    it('reads back an open breaker with when it opened, and a later save replaces it whole', async () => {
      const store = create();
      const source = freshSource();
      const open = { state: 'open', failures: 5, openedAt: '2031-01-01T02:00:00.000Z' } as const;
      await store.put(source, open);
      expect(await store.get(source)).toEqual(open);

      await store.put(source, { state: 'closed', failures: 0 });
      const read = await store.get(source);
      expect(read).toEqual({ state: 'closed', failures: 0 });
      expect(read).not.toHaveProperty('openedAt');
    });

    it('keeps sources apart', async () => {
      const store = create();
      const [a, b] = [freshSource(), freshSource()];
      await store.put(a, { state: 'closed', failures: 2 });
      await store.put(b, { state: 'open', failures: 3, openedAt: '2031-01-01T03:00:00.000Z' });
      expect(await store.get(a)).toEqual({ state: 'closed', failures: 2 });
      expect(await store.get(b)).toEqual({
        state: 'open',
        failures: 3,
        openedAt: '2031-01-01T03:00:00.000Z',
      });
    });

    it('gives back a copy: changing what was saved or read changes nothing stored', async () => {
      const store = create();
      const source = freshSource();
      const saved = { state: 'open' as 'open' | 'closed', failures: 4, openedAt: '2031-01-01T04:00:00.000Z' };
      await store.put(source, saved);
      saved.failures = 99;
      const read = await store.get(source);
      if (read !== undefined) (read as { failures: number }).failures = 42;
      expect(await store.get(source)).toEqual({
        state: 'open',
        failures: 4,
        openedAt: '2031-01-01T04:00:00.000Z',
      });
    });
  });
}
