import { type Command, Option } from 'commander';
import { LEDGER_STATUSES } from '../../../lambdas/ledger/ports';
import type { DeliveryLogRowView, RejectionView } from '../../../lambdas/read/wire';
import type { CliSession } from '../io';
import { formatRecord, formatTable, printJson } from '../output';
import { givenFilters, instant, listCommand, targetCommand } from './common';

const DELIVERY_FIELDS = [
  'eventId',
  'status',
  'reason',
  'lastError',
  'lastErrorAt',
  'sourceId',
  'kind',
  'providerEventType',
  'canonicalType',
  'idempotencyKey',
  'occurredAt',
  'receivedAt',
  'updatedAt',
  'deliveryCount',
  'messageId',
  'retained',
  'expiresAt',
];

/** --from and --to on the time of receipt, the API's window when absent. */
function windowOptions(command: Command): Command {
  return command
    .option('--from <instant>', 'received at or after (ISO instant, or 30m, 6h, 2d ago)', instant)
    .option('--to <instant>', 'received before (ISO instant, or a duration ago)', instant);
}

export function registerDeliveries(program: Command, cli: CliSession): void {
  const deliveries = program
    .command('deliveries')
    .description('The delivery ledger: every event the edge accepted, and where it stands');

  listCommand<
    DeliveryLogRowView,
    { source?: string; status?: string; type?: string; from?: string; to?: string }
  >(cli, deliveries, {
    description: 'Deliveries, newest first (default: the last 24 hours)',
    filters: (list) =>
      windowOptions(
        list
          .option('--source <sourceId>', 'one source')
          .addOption(new Option('--status <status>', 'one ledger status').choices(LEDGER_STATUSES))
          .option('--type <type>', "the provider's event type or the canonical type"),
      ),
    fetch: (api, flags, page) =>
      api.listDeliveries({ ...page, ...givenFilters(flags, ['source', 'status', 'type', 'from', 'to']) }),
    columns: [
      'receivedAt',
      'eventId',
      'sourceId',
      ['TYPE', (d) => d.canonicalType ?? d.providerEventType],
      'status',
      // A row of the log carries no failure notes: `deliveries show` has the last error.
      ['WHY', (d) => d.reason ?? (d.retained === false ? 'not retained for replay' : undefined)],
    ],
    empty: 'No deliveries match.',
  });

  targetCommand(cli, deliveries, 'show', {
    description: "One delivery's ledger entry: status, reason, last error",
    arguments: [['<eventId>', 'the eventId the webhook endpoint answered (evt_…)']],
    json: 'print the entry as JSON',
    run: async ({ api }, flags, [eventId = '']) => {
      const delivery = await api.getDelivery(eventId);
      if (flags.json) printJson(cli, delivery);
      else cli.print(formatRecord(delivery as unknown as Record<string, unknown>, DELIVERY_FIELDS));
    },
  });

  targetCommand<{ source?: string; from?: string; to?: string }>(cli, deliveries, 'counts', {
    description: 'How many deliveries are in each status (default: the last 24 hours)',
    options: (counts) => windowOptions(counts.option('--source <sourceId>', 'one source')),
    json: 'print the counts as JSON',
    run: async ({ api }, flags) => {
      const answer = await api.countDeliveries(givenFilters(flags, ['source', 'from', 'to']));
      if (flags.json) {
        printJson(cli, answer);
        return;
      }
      const window = `${answer.source ?? 'every source'}, received from ${answer.from} to ${answer.to}`;
      if (answer.total === 0) {
        cli.print(`No deliveries (${window}).`);
        return;
      }
      cli.print(`Deliveries of ${window}:`);
      cli.print(
        formatTable(
          [...Object.entries(answer.counts), ['total', answer.total] as const],
          [
            ['STATUS', ([status]) => status],
            ['COUNT', ([, count]) => count],
          ],
        ),
      );
    },
  });

  const rejections = program
    .command('rejections')
    .description('Requests the edge refused (bad signature, unknown source, invalid body…): metadata only');
  listCommand<RejectionView, { source?: string; reason?: string; from?: string; to?: string }>(
    cli,
    rejections,
    {
      description: 'Rejected requests, newest first (default: the last 24 hours)',
      filters: (list) =>
        windowOptions(
          list
            .option('--source <sourceId>', 'one source (as named in the path)')
            .option('--reason <code>', 'one error code, e.g. invalid_signature'),
        ),
      fetch: (api, flags, page) =>
        api.listRejections({ ...page, ...givenFilters(flags, ['source', 'reason', 'from', 'to']) }),
      columns: ['at', 'sourceId', 'status', 'reason', 'senderAddress', 'bodyBytes'],
      empty: 'No rejections match.',
    },
  );
}
