import type { Command } from 'commander';
import type { SourceView } from '../../../lambdas/read/wire';
import type { CliSession } from '../io';
import { formatRecord, formatTable, printJson } from '../output';
import { startProgress } from '../progress';
import { showsProgress, targetCommand } from './common';

export function registerSources(program: Command, cli: CliSession): void {
  const sources = program
    .command('sources')
    .description('Configured sources, and holding one: its events are parked as held until it resumes');

  targetCommand(cli, sources, 'list', {
    description: 'Every configured source, held or not',
    json: 'print the answer as JSON ({ items })',
    run: async ({ api }, flags) => {
      const answer = await api.listSources();
      if (flags.json) printJson(cli, answer);
      else {
        cli.print(
          answer.items.length === 0
            ? 'No sources are configured.'
            : formatTable<SourceView>(answer.items, [
                'sourceId',
                'kind',
                ['HELD', (s) => (s.held ? 'held' : 'no')],
                'heldAt',
                'heldBy',
                'reason',
              ]),
        );
      }
    },
  });

  targetCommand<{ reason?: string }>(cli, sources, 'hold', {
    description: 'Hold a source: the edge still accepts its events, apply parks them as held',
    arguments: [['<sourceId>']],
    options: (hold) => hold.option('--reason <text>', 'why, for whoever resumes it'),
    json: 'print the answer as JSON',
    run: async ({ api }, flags, [sourceId = '']) => {
      const answer = await api.holdSource(sourceId, flags.reason);
      if (flags.json) printJson(cli, answer);
      else {
        cli.print(
          answer.created
            ? `Holding ${sourceId}: its events wait as held until \`sources resume ${sourceId}\`.`
            : `${sourceId} was already held; the hold in place is unchanged.`,
        );
        cli.print(formatRecord({ ...answer }));
      }
    },
  });

  targetCommand(cli, sources, 'resume', {
    description:
      'Resume a held source; the events it held are queued again, oldest first, request after request until ' +
      'none is left',
    arguments: [['<sourceId>']],
    json: 'print the outcome as JSON ({ sourceId, held, resumed, released })',
    run: async ({ api }, flags, [sourceId = '']) => {
      const progress = startProgress(`resume ${sourceId}`, {
        enabled: showsProgress(flags),
        stream: cli.io.stderr,
      });
      let answer = await api.resumeSource(sourceId);
      const resumed = answer.resumed;
      let released = answer.released;
      try {
        while (answer.nextCursor !== null) {
          // How many remain is unknown until the last page: the bar shows what went back so far.
          progress.update({ value: released, total: released, detail: 'released, more to come' });
          answer = await api.resumeSource(sourceId, answer.nextCursor);
          released += answer.released;
        }
      } finally {
        progress.stop();
      }
      if (flags.json) printJson(cli, { sourceId, held: false, resumed, released });
      else {
        cli.print(
          `${resumed ? `Resumed ${sourceId}` : `${sourceId} was not held`}; ` +
            `${released} held event(s) queued again.`,
        );
      }
    },
  });
}
