import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../lambdas/reconcile/run';

/** What every CheckpointStore must do: give back the checkpoint a source put last, whole, and nothing else. */
export function checkpointStoreContract(name: string, create: () => CheckpointStore): void {
  describe(`${name} keeps the CheckpointStore contract`, () => {
    it('answers undefined for a source that never ran', async () => {
      expect(await create().get(`src-${randomUUID()}`)).toBeUndefined();
    });

    it('returns the checkpoint put, and a later put replaces it whole', async () => {
      const store = create();
      const source = `src-${randomUUID()}`;
      const interrupted = {
        watermark: '2031-01-01T10:00:00.000Z',
        resumeCursor: 'page#7',
        resumeUpdatedAfter: '2031-01-01T09:55:00.000Z',
        lastFullPassAt: '2030-12-31T00:00:00.000Z',
      };
      await store.put(source, interrupted);
      expect(await store.get(source)).toEqual(interrupted);

      const completed = { watermark: '2031-01-01T11:00:00.000Z', lastFullPassAt: '2031-01-01T10:30:00.000Z' };
      await store.put(source, completed);
      const read = await store.get(source);
      expect(read).toEqual(completed);
      expect(read).not.toHaveProperty('resumeCursor');
      expect(read).not.toHaveProperty('resumeUpdatedAfter');
    });

    it('keeps sources apart', async () => {
      const store = create();
      const [a, b] = [`src-${randomUUID()}`, `src-${randomUUID()}`];
      await store.put(a, { watermark: '2031-01-01T01:00:00.000Z' });
      await store.put(b, { watermark: '2031-01-01T02:00:00.000Z' });
      expect((await store.get(a))?.watermark).toBe('2031-01-01T01:00:00.000Z');
      expect((await store.get(b))?.watermark).toBe('2031-01-01T02:00:00.000Z');
    });
  });
}
