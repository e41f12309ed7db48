import { type Command, Option } from 'commander';
import { LEDGER_STATUSES } from '../../../lambdas/ledger/ports';
import type { Delivery, Rejection } from '../api';
import { formatRecord, formatTable, printJson } from '../output';
import { givenFilters, instant, listCommand, targetOf } from './common';

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

export function registerDeliveries(program: Command): void {
  const deliveries = program
    .command('deliveries')
    .description('The delivery ledger: every event the edge accepted, and where it stands');

  listCommand<Delivery, { source?: string; status?: string; type?: string; from?: string; to?: string }>(
    deliveries,
    {
      description: 'Deliveries, newest first (default: the last 24 hours)',
      filters: (list) =>
        list
          .option('--source <sourceId>', 'one source')
          .addOption(new Option('--status <status>', 'one ledger status').choices(LEDGER_STATUSES))
          .option('--type <type>', "the provider's event type or the canonical type")
          .option('--from <instant>', 'received at or after (ISO instant, or 30m, 6h, 2d ago)', instant)
          .option('--to <instant>', 'received before (ISO instant, or a duration ago)', instant),
      fetch: (api, flags, page) =>
        api.listDeliveries({ ...page, ...givenFilters(flags, ['source', 'status', 'type', 'from', 'to']) }),
      columns: [
        ['RECEIVED', (d) => d.receivedAt],
        ['EVENT', (d) => d.eventId],
        ['SOURCE', (d) => d.sourceId],
        ['TYPE', (d) => d.canonicalType ?? d.providerEventType],
        ['STATUS', (d) => d.status],
        [
          'WHY',
          (d) => d.reason ?? d.lastError ?? (d.retained === false ? 'not retained for replay' : undefined),
        ],
      ],
      empty: 'No deliveries match.',
    },
  );

  deliveries
    .command('show')
    .description("One delivery's ledger entry: status, reason, last error")
    .argument('<eventId>', 'the eventId the webhook endpoint answered (evt_…)')
    .option('--json', 'print the entry as JSON')
    .action(async (eventId: string, flags: { json?: boolean }, command: Command) => {
      const { api } = await targetOf(command);
      const delivery = await api.getDelivery(eventId);
      if (flags.json) printJson(delivery);
      else console.log(formatRecord(delivery as unknown as Record<string, unknown>, DELIVERY_FIELDS));
    });

  deliveries
    .command('counts')
    .description('How many deliveries are in each status (default: the last 24 hours)')
    .option('--source <sourceId>', 'one source')
    .option('--from <instant>', 'received at or after (ISO instant, or 30m, 6h, 2d ago)', instant)
    .option('--to <instant>', 'received before', instant)
    .option('--json', 'print the counts as JSON')
    .action(
      async (flags: { source?: string; from?: string; to?: string; json?: boolean }, command: Command) => {
        const { api } = await targetOf(command);
        const answer = await api.countDeliveries(givenFilters(flags, ['source', 'from', 'to']));
        if (flags.json) {
          printJson(answer);
          return;
        }
        const rows = Object.entries(answer.counts);
        console.log(
          rows.length === 0
            ? 'No deliveries in that window.'
            : formatTable(rows, [
                ['STATUS', ([status]) => status],
                ['COUNT', ([, count]) => count],
              ]),
        );
      },
    );

  const rejections = program
    .command('rejections')
    .description('Requests the edge refused (bad signature, unknown source, invalid body…): metadata only');
  listCommand<Rejection, { source?: string; reason?: string; from?: string; to?: string }>(rejections, {
    description: 'Rejected requests, newest first',
    filters: (list) =>
      list
        .option('--source <sourceId>', 'one source (as named in the path)')
        .option('--reason <code>', 'one error code, e.g. invalid_signature')
        .option('--from <instant>', 'at or after (ISO instant, or 30m, 6h, 2d ago)', instant)
        .option('--to <instant>', 'before', instant),
    fetch: (api, flags, page) =>
      api.listRejections({ ...page, ...givenFilters(flags, ['source', 'reason', 'from', 'to']) }),
    columns: [
      ['AT', (r) => r.at],
      ['SOURCE', (r) => r.sourceId],
      ['STATUS', (r) => r.status],
      ['REASON', (r) => r.reason],
      ['SENDER', (r) => r.senderAddress],
      ['BYTES', (r) => r.bodyBytes],
    ],
    empty: 'No rejections match.',
  });
}
