import { describe, expect, it } from 'vitest';
import { FOLLOW_STALL_MINUTES, followRun, RunStalledError } from '../../bin/cli/target';
import type { ReconcileRunDetailView } from '../../lambdas/read/wire';

/** A run as the API answers it, with the given item counts. */
function run(
  done: number,
  failed: number,
  status: 'running' | 'complete' = 'running',
): ReconcileRunDetailView {
  return {
    runId: 'run-1',
    status,
    items: { planned: 4, done, failed },
    properties: [],
    workItems: [],
  } as unknown as ReconcileRunDetailView;
}

/** Answers the runs in turn (the last one from then on), on a clock that each wait moves forward. */
function scripted(answers: readonly ReconcileRunDetailView[]) {
  let clock = 0;
  let reads = 0;
  return {
    api: {
      getReconcileRun: async () => answers[Math.min(reads++, answers.length - 1)] as ReconcileRunDetailView,
    },
    now: () => clock,
    sleep: async (ms: number) => {
      clock += ms;
    },
    reads: () => reads,
  };
}

describe('following a run on a stack', () => {
  it('answers the run once it completes, however long its items take to end', async () => {
    const answers = [run(0, 0), run(1, 0), run(2, 1), run(3, 1, 'complete')];
    const script = scripted(answers);
    const steps: number[] = [];
    const done = await followRun(script.api, 'run-1', (step) => steps.push(step.done), {
      stackName: 'ParitySync',
      now: script.now,
      sleep: script.sleep,
    });
    expect(done.status).toBe('complete');
    expect(steps).toEqual([0, 1, 3, 4]);
  });

  it('keeps following while items end, even past the stall bound in all', async () => {
    // One item ends every 15 minutes: never a stall, though the run takes longer than the bound.
    const minutes = 15;
    const answers = [0, 1, 2, 3].map((ended) => run(ended, 0));
    const script = scripted([]);
    let reads = 0;
    const api = {
      getReconcileRun: async () => {
        const index = Math.floor(script.now() / (minutes * 60_000));
        reads += 1;
        return index >= answers.length ? run(4, 0, 'complete') : (answers[index] as ReconcileRunDetailView);
      },
    };
    const done = await followRun(api, 'run-1', undefined, {
      stackName: 'ParitySync',
      now: script.now,
      sleep: script.sleep,
    });
    expect(done.status).toBe('complete');
    expect(script.now()).toBeGreaterThan(FOLLOW_STALL_MINUTES * 60_000);
    expect(reads).toBeGreaterThan(4);
  });

  it('stops waiting when no item ends for the stall bound, naming the run and the command to look at it', async () => {
    const script = scripted([run(1, 0), run(2, 0)]);
    const following = followRun(script.api, 'run-1', undefined, {
      stackName: 'ParitySync',
      now: script.now,
      sleep: script.sleep,
    });
    await expect(following).rejects.toBeInstanceOf(RunStalledError);
    await expect(following).rejects.toThrow(
      /^Run run-1 ended no item in 20 minutes \(2 of 4 ended\).*"paritysync --stack ParitySync reconcile runs run-1"/,
    );
    // From the read that saw the second item end, 20 minutes of reads every 2 s.
    expect(script.now()).toBe(FOLLOW_STALL_MINUTES * 60_000 + 2_000);
  });
});
