import type { DeliveryLog, RetainedEvents } from '../ledger/ports';
import type { ReplayCursor, ReplayJobStore } from '../ledger/replay-jobs';
import type { ReplayEventQueue, ReplayWorkQueue, RetainedEvent } from '../queue/ports';
import type { Clock } from '../shared/clock';

export interface ReplayWorkerDependencies {
  readonly jobs: ReplayJobStore;
  readonly log: DeliveryLog;
  readonly retained: RetainedEvents;
  readonly events: ReplayEventQueue;
  readonly work: ReplayWorkQueue;
  readonly clock: Clock;
  /** Delivery log rows per work message. */
  readonly pageSize: number;
}

/** What one work message did. */
export type ReplayStepOutcome =
  /** The job is not running (done, cancelled, failed, unknown), or another delivery recorded the page first. */
  | { readonly outcome: 'stopped' }
  | { readonly outcome: 'continued'; readonly sent: number }
  | { readonly outcome: 'done'; readonly sent: number };

/** Retained events read from the ledger at once per page. */
const READ_CONCURRENCY = 16;

/**
 * One page of a replay job: reads the job, reads one page of its delivery log (the status its cursor is at),
 * sends each retained event back to the events queue marked with the job's id, then records the page with a
 * write that holds only while the job runs and is still at the cursor read. The next page is another work
 * message. A crash anywhere before that write leaves the cursor where it was, and SQS delivers the message
 * again: the page is sent twice, which apply absorbs (last writer wins, the ledger settles once more).
 */
export async function replayStep(jobId: string, deps: ReplayWorkerDependencies): Promise<ReplayStepOutcome> {
  const job = await deps.jobs.get(jobId);
  if (job === undefined || job.status !== 'running') return { outcome: 'stopped' };
  const { request, cursor } = job;
  const status = request.statuses[cursor.status];
  let next: ReplayCursor = { status: cursor.status + 1 };
  let rows: readonly { readonly eventId: string; readonly retained?: boolean }[] = [];
  if (status !== undefined) {
    const page = await deps.log.list({
      sourceId: request.source,
      status,
      from: request.from,
      to: request.to,
      limit: deps.pageSize,
      ...(cursor.page === undefined ? {} : { cursor: cursor.page }),
    });
    rows = page.items;
    if (page.cursor !== undefined) next = { status: cursor.status, page: page.cursor };
  }
  const found = await readRetained(
    rows.filter((row) => row.retained === true).map((row) => row.eventId),
    deps.retained,
  );
  await deps.events.replay(found, jobId);
  const done = next.status >= request.statuses.length;
  const recorded = await deps.jobs.advance(jobId, {
    from: cursor,
    to: next,
    done,
    add: { matched: rows.length, replayed: found.length, notRetained: rows.length - found.length },
    at: deps.clock.now().toISOString(),
  });
  if (!recorded) return { outcome: 'stopped' };
  if (done) return { outcome: 'done', sent: found.length };
  await deps.work.send(jobId);
  return { outcome: 'continued', sent: found.length };
}

async function readRetained(eventIds: readonly string[], store: RetainedEvents): Promise<RetainedEvent[]> {
  const found: RetainedEvent[] = [];
  let next = 0;
  const reader = async () => {
    while (next < eventIds.length) {
      const eventId = eventIds[next++] as string;
      const json = await store.retainedEvent(eventId);
      if (json === undefined) continue;
      const event = JSON.parse(json) as { sourceId?: unknown; type?: unknown };
      found.push({ eventId, sourceId: String(event.sourceId), type: String(event.type), json });
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, eventIds.length) }, reader));
  return found;
}
