import type { SourceKind } from '../domain/canonical';
import type { Clock } from '../shared/clock';
import { NotFoundError } from '../shared/errors';
import { holdKey } from '../state/holds';
import { type Requeue, requeueInOrder } from '../state/parked';
import type { HoldStore, ReviewStore, SourceHold } from '../state/ports';

/** A source as the configuration names it. */
export interface ConfiguredSource {
  readonly id: string;
  readonly kind: SourceKind;
  readonly displayName?: string;
}

export interface SourceControlDependencies {
  readonly sources: readonly ConfiguredSource[];
  readonly holds: HoldStore;
  readonly review: Pick<ReviewStore, 'waitingInOrder'>;
  readonly requeue: Requeue;
  readonly clock: Clock;
}

export interface SourceStatus {
  readonly source: ConfiguredSource;
  readonly hold?: SourceHold;
}

/** Held events read and put back on the queue per page of a resume. */
export const RELEASE_PAGE_SIZE = 100;
/**
 * How long one resume request keeps releasing before it answers with a cursor: well inside the read function's
 * 10 s timeout (and API Gateway's 29 s), leaving room for the page in progress.
 */
export const RELEASE_BUDGET_MS = 4_000;

/** Every configured source, in configuration order, with its hold if it is held. */
export async function listSources(deps: SourceControlDependencies): Promise<SourceStatus[]> {
  return Promise.all(
    deps.sources.map(async (source) => {
      const hold = await deps.holds.hold(source.id);
      return hold === undefined ? { source } : { source, hold };
    }),
  );
}

/**
 * Puts the source on hold: from the consumer's next batch on, its events are verified, recorded and queued as
 * ever, but parked instead of applied. Holding a held source changes nothing and answers the hold in place.
 */
export async function holdSource(
  sourceId: string,
  hold: { readonly by: string; readonly reason?: string },
  deps: SourceControlDependencies,
): Promise<{ readonly status: SourceStatus; readonly created: boolean }> {
  const source = configured(sourceId, deps);
  const result = await deps.holds.putHold({
    sourceId,
    heldAt: deps.clock.now().toISOString(),
    by: hold.by,
    ...(hold.reason === undefined ? {} : { reason: hold.reason }),
  });
  return { status: { source, hold: result.hold }, created: result.created };
}

export interface Resumed {
  readonly source: ConfiguredSource;
  /** The hold this call ended; absent when the source was not held (or a cursor continued a resume). */
  readonly ended?: SourceHold;
  readonly released: number;
  /** Where the next call continues releasing; absent once every held event is back on the queue. */
  readonly cursor?: string;
}

/**
 * Ends the source's hold, then puts the events it parked back on the queue, oldest change first, for as long as
 * RELEASE_BUDGET_MS allows. A long hold may have parked more than that: the answer's cursor, passed back, goes on
 * from there without touching the hold again. A resume of a source that is not held still releases anything
 * left under its hold key (from a resume that stopped early), so repeating one is always safe.
 */
export async function resumeSource(
  sourceId: string,
  cursor: string | undefined,
  deps: SourceControlDependencies,
): Promise<Resumed> {
  const source = configured(sourceId, deps);
  const ended = cursor === undefined ? await deps.holds.deleteHold(sourceId) : undefined;
  const deadline = deps.clock.now().getTime() + RELEASE_BUDGET_MS;
  const release = await requeueInOrder(deps.review, deps.requeue, holdKey(sourceId), {
    pageSize: RELEASE_PAGE_SIZE,
    ...(cursor === undefined ? {} : { cursor }),
    timeLeft: () => deps.clock.now().getTime() < deadline,
  });
  return {
    source,
    ...(ended === undefined ? {} : { ended }),
    released: release.released,
    ...(release.cursor === undefined ? {} : { cursor: release.cursor }),
  };
}

function configured(sourceId: string, deps: Pick<SourceControlDependencies, 'sources'>): ConfiguredSource {
  const source = deps.sources.find((candidate) => candidate.id === sourceId);
  if (source === undefined) {
    throw new NotFoundError(
      'unknown_source',
      `No source ${JSON.stringify(sourceId)} is configured. Configured sources: ` +
        `${deps.sources.map((candidate) => candidate.id).join(', ') || '(none)'}; GET /sources lists them.`,
    );
  }
  return source;
}
