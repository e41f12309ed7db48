import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, Option } from 'commander';
import { LEDGER_STATUSES, type LedgerStatus } from '../../../lambdas/ledger/ports';
import type { ReplayJobView } from '../../../lambdas/read/wire';
import type { OpsApi } from '../api';
import type { CliSession } from '../io';
import { formatRecord, printJson } from '../output';
import { startProgress } from '../progress';
import { instant, positiveNumber, showsProgress, targetCommand } from './common';

function describe(job: ReplayJobView): string {
  return formatRecord(
    {
      jobId: job.jobId,
      status: job.status,
      ...job.request,
      counts: formatCounts(job.counts),
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
      error: job.error,
    },
    ['jobId', 'status', 'source', 'from', 'to', 'statuses', 'counts'],
  );
}

function formatCounts(counts: ReplayJobView['counts']): string {
  return Object.entries(counts)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
}

/** Polls the job until it is no longer running, with a bar of the events it has dealt with. */
async function follow(
  cli: CliSession,
  api: OpsApi,
  first: ReplayJobView,
  intervalSeconds: number,
  show: boolean,
): Promise<ReplayJobView> {
  const progress = startProgress(`replay ${first.jobId}`, { enabled: show, stream: cli.io.stderr });
  let job = first;
  try {
    for (;;) {
      const { counts } = job;
      // Every row matched is either replayed or counted as not retained.
      const done = counts.replayed + counts.notRetained;
      progress.update({
        value: done,
        total: Math.max(done, counts.matched),
        step: job.status,
        detail: formatCounts(counts),
      });
      if (job.status !== 'running') return job;
      await sleep(intervalSeconds * 1000);
      job = await api.getReplay(job.jobId);
    }
  } finally {
    progress.stop();
  }
}

function finish(cli: CliSession, job: ReplayJobView, json: boolean | undefined): void {
  if (json) printJson(cli, job);
  else cli.print(describe(job));
  if (job.status === 'failed') cli.fail();
}

export function registerReplay(program: Command, cli: CliSession): void {
  const replay = program
    .command('replay')
    .description('Re-run apply on retained events of a source over a time window (last writer wins: safe)');

  targetCommand<{
    source: string;
    from: string;
    to: string;
    status: LedgerStatus[];
    follow?: boolean;
    interval: number;
  }>(cli, replay, 'start', {
    description: 'Start a replay job (its own retries never start a second one)',
    options: (start) =>
      followOptions(
        start
          .requiredOption('--source <sourceId>', 'the source whose events to replay')
          .requiredOption(
            '--from <instant>',
            'received at or after (ISO instant, or 30m, 6h, 2d ago)',
            instant,
          )
          .requiredOption('--to <instant>', 'received before (ISO instant, or a duration ago)', instant)
          .addOption(
            new Option('--status <status...>', 'ledger statuses to replay, e.g. dead-lettered parked held')
              .choices(LEDGER_STATUSES)
              .makeOptionMandatory(),
          ),
      ),
    json: 'print the job as JSON',
    run: async ({ api }, flags) => {
      const job = await api.startReplay({
        source: flags.source,
        from: flags.from,
        to: flags.to,
        statuses: flags.status,
      });
      if (flags.follow && !flags.json) {
        cli.tell(
          `Following replay ${job.jobId}; Ctrl-C stops following, not the job (\`replay cancel ${job.jobId}\` does).`,
        );
      }
      finish(
        cli,
        flags.follow ? await follow(cli, api, job, flags.interval, showsProgress(flags)) : job,
        flags.json,
      );
    },
  });

  targetCommand<{ follow?: boolean; interval: number }>(cli, replay, 'status', {
    description: "A replay job's state and counts",
    arguments: [['<jobId>']],
    options: followOptions,
    json: 'print the job as JSON',
    run: async ({ api }, flags, [jobId = '']) => {
      const job = await api.getReplay(jobId);
      finish(
        cli,
        flags.follow ? await follow(cli, api, job, flags.interval, showsProgress(flags)) : job,
        flags.json,
      );
    },
  });

  targetCommand(cli, replay, 'cancel', {
    description: 'Stop a running replay job after the event in hand',
    arguments: [['<jobId>']],
    json: 'print the job as JSON',
    run: async ({ api }, flags, [jobId = '']) => finish(cli, await api.cancelReplay(jobId), flags.json),
  });
}

/** --follow and --interval, as start and status take them. */
function followOptions(command: Command): Command {
  return command
    .option('--follow', 'wait for the job to finish, with progress')
    .option('--interval <seconds>', 'seconds between status polls when following', positiveNumber, 2);
}
