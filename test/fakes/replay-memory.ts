import { MAX_NOTE_LENGTH } from '../../lambdas/ledger/ports';
import type { ReplayJob, ReplayJobStore, ReplayStep } from '../../lambdas/ledger/replay-jobs';
import type { ReplayWorkQueue } from '../../lambdas/queue/ports';

/** Replay jobs in memory, with the DynamoDB store's contract (test/ports/replay-job-store.contract.ts). */
export class InMemoryReplayJobStore implements ReplayJobStore {
  readonly jobs = new Map<string, ReplayJob>();

  async create(job: ReplayJob): Promise<void> {
    if (this.jobs.has(job.jobId)) throw new Error(`Replay job ${job.jobId} already exists`);
    this.jobs.set(job.jobId, structuredClone(job));
  }

  async get(jobId: string): Promise<ReplayJob | undefined> {
    const job = this.jobs.get(jobId);
    return job === undefined ? undefined : structuredClone(job);
  }

  async cancel(jobId: string, at: string): Promise<ReplayJob | undefined> {
    const job = this.jobs.get(jobId);
    if (job?.status === 'running') this.jobs.set(jobId, { ...job, status: 'cancelled', updatedAt: at });
    return this.get(jobId);
  }

  async advance(jobId: string, step: ReplayStep): Promise<boolean> {
    const job = this.jobs.get(jobId);
    if (job?.status !== 'running' || !sameCursor(job.cursor, step.from)) return false;
    this.jobs.set(jobId, {
      ...job,
      status: step.done ? 'done' : 'running',
      cursor: structuredClone(step.to),
      counts: {
        matched: job.counts.matched + step.add.matched,
        replayed: job.counts.replayed + step.add.replayed,
        notRetained: job.counts.notRetained + step.add.notRetained,
      },
      updatedAt: step.at,
    });
    return true;
  }

  async fail(jobId: string, error: string, at: string): Promise<void> {
    const job = this.jobs.get(jobId);
    if (job?.status === 'running')
      this.jobs.set(jobId, {
        ...job,
        status: 'failed',
        error: error.slice(0, MAX_NOTE_LENGTH),
        updatedAt: at,
      });
  }
}

function sameCursor(a: ReplayJob['cursor'], b: ReplayJob['cursor']): boolean {
  return a.status === b.status && a.page === b.page;
}

/** The work messages sent, in order; `failing` makes the next sends throw as an unreachable queue would. */
export class InMemoryReplayWorkQueue implements ReplayWorkQueue {
  readonly sent: string[] = [];
  failing = false;

  async send(jobId: string): Promise<void> {
    if (this.failing) throw new Error('replay work queue unreachable');
    this.sent.push(jobId);
  }
}
