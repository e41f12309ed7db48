import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ReplayWorkQueue } from '../../lambdas/queue/ports';

export interface ReplayWorkQueueSubject {
  readonly queue: ReplayWorkQueue;
  /** Takes every message waiting, as the replay worker would parse their bodies. */
  taken(): Promise<readonly unknown[]>;
  /** The same queue, unreachable. */
  unreachable(): ReplayWorkQueue;
}

/** What every ReplayWorkQueue must do: one message per send, naming the job, and a send that fails says so. */
export function replayWorkQueueContract(name: string, create: () => Promise<ReplayWorkQueueSubject>): void {
  describe(`${name} keeps the ReplayWorkQueue contract`, () => {
    it('hands the worker one message per send, naming the job, a job sent twice twice', async () => {
      const { queue, taken } = await create();
      const [first, second] = [`job-${randomUUID()}`, `job-${randomUUID()}`];
      await queue.send(first);
      await queue.send(second);
      await queue.send(first);
      const messages = await taken();
      expect(messages).toHaveLength(3);
      expect(messages).toEqual(expect.arrayContaining([{ jobId: first }, { jobId: second }]));
      expect(messages.filter((message) => (message as { jobId?: string }).jobId === first)).toHaveLength(2);
    });

    it('rejects a send the queue did not take, and hands the worker nothing for it', async () => {
      const { unreachable, taken } = await create();
      await expect(unreachable().send(`job-${randomUUID()}`)).rejects.toThrow();
      expect(await taken()).toEqual([]);
    });
  });
}
