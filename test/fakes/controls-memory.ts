import type { HoldStore, SourceHold } from '../../lambdas/state/ports';

/** The holds on sources in memory, with the DynamoDB control store's contract (test/ports/hold-store.contract.ts). */
export class InMemoryHoldStore implements HoldStore {
  readonly holds = new Map<string, SourceHold>();
  /** Every read, in order, so that a test can count them. */
  readonly reads: string[] = [];

  async hold(sourceId: string): Promise<SourceHold | undefined> {
    this.reads.push(sourceId);
    const hold = this.holds.get(sourceId);
    return hold === undefined ? undefined : { ...hold };
  }

  async putHold(hold: SourceHold): Promise<{ readonly hold: SourceHold; readonly created: boolean }> {
    const existing = this.holds.get(hold.sourceId);
    if (existing !== undefined) return { hold: { ...existing }, created: false };
    this.holds.set(hold.sourceId, { ...hold });
    return { hold: { ...hold }, created: true };
  }

  async deleteHold(sourceId: string): Promise<SourceHold | undefined> {
    const existing = this.holds.get(sourceId);
    this.holds.delete(sourceId);
    return existing;
  }
}
