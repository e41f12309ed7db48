import { randomUUID } from 'node:crypto';
import { NO_COUNTS, type ReplayJob, type ReplayJobStore, type ReplayRequest } from '../ledger/replay-jobs';
import type { ReplayWorkQueue } from '../queue/ports';
import type { Clock } from '../shared/clock';
import { NotFoundError } from '../shared/errors';

export interface ReplayControlDependencies {
  readonly replays: ReplayJobStore;
  readonly replayWork: ReplayWorkQueue;
  readonly clock: Clock;
  /** A new job's id. @default randomUUID */
  readonly newJobId?: () => string;
}

/**
 * Stores a running job and sends its first work message; the replay worker does the rest a page at a time.
 * Should the message not go out, the job is marked failed at once rather than left running with nothing to do.
 */
export async function startReplay(
  request: ReplayRequest,
  deps: ReplayControlDependencies,
): Promise<ReplayJob> {
  const at = deps.clock.now().toISOString();
  const job: ReplayJob = {
    jobId: (deps.newJobId ?? randomUUID)(),
    status: 'running',
    request,
    counts: NO_COUNTS,
    cursor: { status: 0 },
    createdAt: at,
    updatedAt: at,
  };
  await deps.replays.create(job);
  try {
    await deps.replayWork.send(job.jobId);
  } catch (error) {
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    await deps.replays.fail(job.jobId, `could not queue the first page: ${why}`, at);
    throw error;
  }
  return job;
}

export async function getReplay(jobId: string, deps: Pick<ReplayControlDependencies, 'replays'>) {
  return found(jobId, await deps.replays.get(jobId));
}

/** A running job stops at its next page; a job that already ended is answered as it is. */
export async function cancelReplay(jobId: string, deps: ReplayControlDependencies): Promise<ReplayJob> {
  return found(jobId, await deps.replays.cancel(jobId, deps.clock.now().toISOString()));
}

function found(jobId: string, job: ReplayJob | undefined): ReplayJob {
  if (job === undefined) {
    throw new NotFoundError(
      'replay_not_found',
      `No replay job ${JSON.stringify(jobId)}. Job ids are what POST /replays answered as jobId.`,
    );
  }
  return job;
}
