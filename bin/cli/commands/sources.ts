import type { Command } from 'commander';
import type { Source } from '../api';
import { formatRecord, printJson } from '../output';
import { listCommand, targetOf } from './common';

export function registerSources(program: Command): void {
  const sources = program
    .command('sources')
    .description('Configured sources, and holding one: its events are parked as held until it resumes');

  listCommand<Source>(sources, {
    description: 'Every configured source, held or not',
    fetch: (api, _flags, page) => api.listSources(page),
    columns: [
      ['SOURCE', (s) => s.sourceId],
      ['KIND', (s) => s.kind],
      ['HELD', (s) => (s.held ? 'held' : 'no')],
      ['SINCE', (s) => s.heldAt],
      ['BY', (s) => s.by],
      ['REASON', (s) => s.reason],
    ],
    empty: 'No sources are configured.',
  });

  sources
    .command('hold')
    .description('Hold a source: the edge still accepts its events, apply parks them as held')
    .argument('<sourceId>')
    .option('--reason <text>', 'why, for whoever resumes it')
    .option('--json', 'print the answer as JSON')
    .action(async (sourceId: string, flags: { reason?: string; json?: boolean }, command: Command) => {
      const { api } = await targetOf(command);
      report(
        await api.holdSource(sourceId, flags.reason),
        flags,
        `Holding ${sourceId}: its events wait as held until \`sources resume ${sourceId}\`.`,
      );
    });

  sources
    .command('resume')
    .description('Resume a held source; the events it held are applied again')
    .argument('<sourceId>')
    .option('--json', 'print the answer as JSON')
    .action(async (sourceId: string, flags: { json?: boolean }, command: Command) => {
      const { api } = await targetOf(command);
      report(await api.resumeSource(sourceId), flags, `Resumed ${sourceId}.`);
    });
}

/** The source's hold as the API answered it: JSON, or a sentence and then the record. */
function report(
  answer: Readonly<Record<string, unknown>>,
  flags: { readonly json?: boolean },
  sentence: string,
): void {
  if (flags.json) printJson(answer);
  else {
    console.log(sentence);
    console.log(formatRecord(answer));
  }
}
