import { type Command, Option } from 'commander';
import { LEDGER_STATUSES } from '../../../lambdas/ledger/ports';
import { collectPages, type Delivery, type Rejection } from '../api';
import { formatRecord, formatTable, printJson, printPage } from '../output';
import { instant, type ListFlags, listOptions, pageFlags, targetOf } from './common';

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

  listOptions(
    deliveries
      .command('list')
      .description('Deliveries, newest first (default: the last 24 hours)')
      .option('--source <sourceId>', 'one source')
      .addOption(new Option('--status <status>', 'one ledger status').choices(LEDGER_STATUSES))
      .option('--type <type>', "the provider's event type or the canonical type")
      .option('--from <instant>', 'received at or after (ISO instant, or 30m, 6h, 2d ago)', instant)
      .option('--to <instant>', 'received before (ISO instant, or a duration ago)', instant),
  ).action(
    async (
      flags: ListFlags & { source?: string; status?: string; type?: string; from?: string; to?: string },
      command: Command,
    ) => {
      const { api } = await targetOf(command);
      const page = await collectPages(
        (request) =>
          api.listDeliveries({
            ...request,
            ...(flags.source ? { source: flags.source } : {}),
            ...(flags.status ? { status: flags.status } : {}),
            ...(flags.type ? { type: flags.type } : {}),
            ...(flags.from ? { from: flags.from } : {}),
            ...(flags.to ? { to: flags.to } : {}),
          }),
        pageFlags(flags),
      );
      printPage<Delivery>(
        page,
        [
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
        { json: flags.json ?? false, empty: 'No deliveries match.' },
      );
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
        const answer = await api.countDeliveries({
          ...(flags.source ? { source: flags.source } : {}),
          ...(flags.from ? { from: flags.from } : {}),
          ...(flags.to ? { to: flags.to } : {}),
        });
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
  listOptions(
    rejections
      .command('list')
      .description('Rejected requests, newest first')
      .option('--source <sourceId>', 'one source (as named in the path)')
      .option('--reason <code>', 'one error code, e.g. invalid_signature')
      .option('--from <instant>', 'at or after (ISO instant, or 30m, 6h, 2d ago)', instant)
      .option('--to <instant>', 'before', instant),
  ).action(
    async (
      flags: ListFlags & { source?: string; reason?: string; from?: string; to?: string },
      command: Command,
    ) => {
      const { api } = await targetOf(command);
      const page = await collectPages(
        (request) =>
          api.listRejections({
            ...request,
            ...(flags.source ? { source: flags.source } : {}),
            ...(flags.reason ? { reason: flags.reason } : {}),
            ...(flags.from ? { from: flags.from } : {}),
            ...(flags.to ? { to: flags.to } : {}),
          }),
        pageFlags(flags),
      );
      printPage<Rejection>(
        page,
        [
          ['AT', (r) => r.at],
          ['SOURCE', (r) => r.sourceId],
          ['STATUS', (r) => r.status],
          ['REASON', (r) => r.reason],
          ['SENDER', (r) => r.sender],
          ['BYTES', (r) => r.bodyBytes],
        ],
        { json: flags.json ?? false, empty: 'No rejections match.' },
      );
    },
  );
}
