import type { CanonicalEvent } from '../domain/canonical';
import type { Requeue } from '../state/parked';
import type { HoldReader, SourceHold } from '../state/ports';

/** The holds on sources as one batch of the consumer sees them. */
export interface BatchHolds {
  /**
   * The source's hold, read once per batch with a strongly consistent read; later calls in the batch answer from
   * that read. A hold set now therefore takes effect with the next batch, at no cost per event.
   */
  of(sourceId: string): Promise<SourceHold | undefined>;
  /** An event parked in this batch because its source is held. */
  parked(event: CanonicalEvent): void;
}

/** The holds one batch reads, and the events it parks for them. */
export class BatchHoldView implements BatchHolds {
  private readonly reads = new Map<string, Promise<SourceHold | undefined>>();
  private readonly held = new Map<string, CanonicalEvent[]>();

  constructor(private readonly store: HoldReader) {}

  of(sourceId: string): Promise<SourceHold | undefined> {
    const known = this.reads.get(sourceId);
    if (known !== undefined) return known;
    const read = this.store.hold(sourceId);
    this.reads.set(sourceId, read);
    // A failed read is not kept: the next event of the source tries again.
    read.catch(() => this.reads.delete(sourceId));
    return read;
  }

  parked(event: CanonicalEvent): void {
    const events = this.held.get(event.sourceId) ?? [];
    events.push(event);
    this.held.set(event.sourceId, events);
  }

  /**
   * Called once the batch has parked all it parks. The batch read each hold before parking events for it, so a
   * resume that came in between may have released what was parked before these. Reading each such hold again
   * closes the gap: either the hold is still there, the resume comes later and its release finds these events;
   * or it is gone, and they go back on the queue here. Answers how many went back.
   */
  async releaseIfResumed(requeue: Requeue): Promise<number> {
    let released = 0;
    for (const [sourceId, events] of this.held) {
      if ((await this.store.hold(sourceId)) !== undefined) continue;
      for (const event of events) {
        await requeue(event);
        released++;
      }
    }
    return released;
  }
}
