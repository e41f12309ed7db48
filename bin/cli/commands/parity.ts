import type { Command } from 'commander';
import { addDays } from '../../../lambdas/domain/dates';
import { MAX_ARI_DATES } from '../../../lambdas/read/router';
import type { ParityNightView } from '../../../lambdas/read/wire';
import { collectPages } from '../api';
import type { CliSession } from '../io';
import { printPage } from '../output';
import { isoDate, type ListFlags, pageFlags, pagingOptions, targetCommand } from './common';

type FindingRow = { readonly night: ParityNightView; readonly finding: ParityNightView['findings'][number] };

export function registerParity(program: Command, cli: CliSession): void {
  const parity = program
    .command('parity')
    .description("Rate parity findings per room night, as the last reconciliation's parity check left them");

  targetCommand<{ property: string; from?: string; to?: string } & ListFlags>(cli, parity, 'list', {
    description:
      'Nights of one property whose channel rates differ from the truth channel; clean nights are not listed',
    options: (list) =>
      pagingOptions(
        list
          .requiredOption('--property <propertyId>', 'the internal property id')
          .option('--from <date>', 'first stay date, YYYY-MM-DD (default: today)', isoDate)
          .option(
            '--to <date>',
            `last stay date, inclusive (default: ${MAX_ARI_DATES - 1} days after --from)`,
            isoDate,
          ),
      ),
    json: 'print the nights as JSON ({ items, nextCursor })',
    run: async ({ api }, flags) => {
      const from = flags.from ?? new Date().toISOString().slice(0, 10);
      const to = flags.to ?? addDays(from, MAX_ARI_DATES - 1);
      const page = await collectPages(
        (request) => api.listParity({ ...request, propertyId: flags.property, from, to }),
        pageFlags(flags),
      );
      if (flags.json) {
        printPage(cli, page, [], { json: true, empty: '' });
        return;
      }
      const rows: FindingRow[] = page.items.flatMap((night) =>
        night.findings.map((finding) => ({ night, finding })),
      );
      printPage<FindingRow>(
        cli,
        { items: rows, nextCursor: page.nextCursor },
        [
          ['DATE', (r) => r.night.date],
          ['ROOM TYPE', (r) => r.night.roomTypeId],
          ['RATE PLAN', (r) => r.night.ratePlanId],
          ['FINDING', (r) => r.finding.kind],
          ['CHANNEL', (r) => r.finding.channel],
          ['RATE', (r) => `${r.finding.channelRate.amount} ${r.finding.channelRate.currency}`],
          [
            'TRUTH',
            (r) =>
              `${r.finding.truthRate.amount} ${r.finding.truthRate.currency} (${r.finding.truthChannel})`,
          ],
          [
            'DIFFERENCE',
            (r) =>
              r.finding.difference === undefined
                ? undefined
                : `${r.finding.difference.amount}${r.finding.percent === undefined ? '' : ` (${r.finding.percent}%)`}`,
          ],
        ],
        { empty: `No parity findings for ${flags.property} from ${from} to ${to}.` },
      );
    },
  });
}
