import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { HoldStore, SourceHold } from '../../lambdas/state/ports';

/** A source id of its own for each test, so that tests sharing a table never see each other's holds. */
const freshSource = () => `src-${randomUUID().slice(0, 8)}`;

function holdOf(sourceId: string, overrides: Partial<SourceHold> = {}): SourceHold {
  return {
    sourceId,
    heldAt: '2026-06-01T12:00:00.000Z',
    by: 'arn:aws:iam::111122223333:user/operator',
    reason: 'provider is replaying a broken export',
    ...overrides,
  };
}

/** What every HoldStore must do: one hold per source, first hold kept, read back exactly, ended once. */
export function holdStoreContract(name: string, create: () => HoldStore): void {
  describe(`${name} keeps the HoldStore contract`, () => {
    it('knows no hold on a source never held', async () => {
      expect(await create().hold(freshSource())).toBeUndefined();
    });

    it('holds a source and reads the hold back exactly, with or without a reason', async () => {
      const store = create();
      const withReason = holdOf(freshSource());
      const { reason: _none, ...withoutReason } = holdOf(freshSource(), {
        by: 'unsigned caller at 127.0.0.1',
      });
      expect(await store.putHold(withReason)).toEqual({ hold: withReason, created: true });
      expect(await store.putHold(withoutReason)).toEqual({ hold: withoutReason, created: true });
      expect(await store.hold(withReason.sourceId)).toEqual(withReason);
      expect(await store.hold(withoutReason.sourceId)).toEqual(withoutReason);
    });

    it('keeps the first hold of a source held twice, and answers it', async () => {
      const store = create();
      const first = holdOf(freshSource());
      await store.putHold(first);
      const again = await store.putHold(
        holdOf(first.sourceId, { heldAt: '2026-06-02T08:00:00.000Z', by: 'someone else', reason: 'again' }),
      );
      expect(again).toEqual({ hold: first, created: false });
      expect(await store.hold(first.sourceId)).toEqual(first);
    });

    it('ends a hold once, answering it, and leaves other sources held', async () => {
      const store = create();
      const ending = holdOf(freshSource());
      const staying = holdOf(freshSource());
      await store.putHold(ending);
      await store.putHold(staying);
      expect(await store.deleteHold(ending.sourceId)).toEqual(ending);
      expect(await store.hold(ending.sourceId)).toBeUndefined();
      expect(await store.deleteHold(ending.sourceId)).toBeUndefined();
      expect(await store.hold(staying.sourceId)).toEqual(staying);
    });

    it('holds a source again after it was resumed, as of the new hold', async () => {
      const store = create();
      const first = holdOf(freshSource());
      await store.putHold(first);
      await store.deleteHold(first.sourceId);
      const second = holdOf(first.sourceId, { heldAt: '2026-06-03T09:30:00.000Z', reason: 'second look' });
      expect(await store.putHold(second)).toEqual({ hold: second, created: true });
      expect(await store.hold(first.sourceId)).toEqual(second);
    });
  });
}
