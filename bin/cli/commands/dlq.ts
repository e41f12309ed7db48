import { type Command, Option } from 'commander';
import type { DeadLetterView } from '../../../lambdas/read/wire';
import { DLQ_QUEUES, type DlqQueue, type OpsApi } from '../api';
import type { CliSession } from '../io';
import { type Columns, formatTable, printJson } from '../output';
import { startProgress } from '../progress';
import { pageSizeOption, showsProgress, targetCommand } from './common';

/** A parity batch is a range of the ARI stream: where it was, how many records, when they arrived and why. */
const PARITY_COLUMNS: Columns<DeadLetterView> = [
  'sentAt',
  'messageId',
  ['RECORDS', (row) => row.streamBatch?.batchSize],
  ['ARRIVED', (row) => row.streamBatch?.firstArrivedAt],
  ['SHARD', (row) => row.streamBatch?.shardId],
  [
    'SEQUENCE NUMBERS',
    (row) =>
      row.streamBatch === undefined
        ? undefined
        : `${row.streamBatch.startSequenceNumber}-${row.streamBatch.endSequenceNumber}`,
  ],
  'lastError',
];

/** Event ids per redrive call: SQS moves at most ten messages per batch. */
const REDRIVE_BATCH = 10;

const queueOption = () =>
  new Option(
    '--queue <queue>',
    'events (failed deliveries), reconcile (failed runs) or parity (stream batches parity on change gave up on)',
  )
    .choices(DLQ_QUEUES)
    .default('events');

export function registerDlq(program: Command, cli: CliSession): void {
  const dlq = program
    .command('dlq')
    .description('Dead-letter queues: what failed every attempt, and redrive');

  targetCommand<{ queue: DlqQueue; limit?: number }>(cli, dlq, 'list', {
    description:
      'Messages at the head of a dead-letter queue, and about how many it holds (SQS has no peek: each ' +
      'message listed is received and put back, which counts as one more receive)',
    options: (list) => list.addOption(queueOption()).addOption(pageSizeOption()),
    json: 'print the answer as JSON ({ queue, approximateCount, items, moveTask? })',
    run: async ({ api }, flags) => {
      const listing = await api.listDeadLetters(flags.queue, flags.limit);
      if (flags.json) {
        printJson(cli, listing);
        return;
      }
      cli.print(
        listing.items.length === 0
          ? `The ${flags.queue} dead-letter queue is empty.`
          : formatTable(
              listing.items,
              flags.queue === 'parity'
                ? PARITY_COLUMNS
                : ['sentAt', 'eventId', 'messageId', 'receiveCount', 'lastError'],
            ),
      );
      if (flags.queue === 'parity' && listing.items.length > 0) {
        cli.print(
          '\nThese are stream positions, not changes: they are not redriven. Once the cause is fixed, ' +
            '`reconcile` re-checks every night of the parity properties; then `dlq delete --queue parity <messageId...>`.',
        );
      }
      if (listing.approximateCount > listing.items.length) {
        cli.print(`\nAbout ${listing.approximateCount} message(s) in the queue, listed or not.`);
      }
      const task = listing.moveTask;
      if (task !== undefined) {
        cli.print(
          `Latest move task: ${task.status}, ${task.moved}${task.toMove === undefined ? '' : ` of ${task.toMove}`} moved` +
            (task.failureReason === undefined ? '.' : ` (${task.failureReason}).`),
        );
      }
    },
  });

  targetCommand<{ queue: DlqQueue; event?: string[] }>(cli, dlq, 'redrive', {
    description: 'Move dead-lettered messages back to be applied again (applying is idempotent)',
    options: (redrive) =>
      redrive
        .addOption(queueOption())
        .option('--event <eventId...>', 'only these events (default: the whole queue)'),
    json: 'print the outcome as JSON',
    run: async ({ api }, flags) => {
      if (flags.event === undefined) await redriveQueue(cli, api, flags.queue, flags);
      else await redriveEvents(cli, api, flags.queue, [...new Set(flags.event)], flags);
    },
  });

  targetCommand<{ queue: DlqQueue }>(cli, dlq, 'delete', {
    description:
      'Delete chosen messages for good, by message id (`dlq list` shows them): a failed reconciliation run ' +
      'or parity stream batch once understood, or a dead letter that must not be applied',
    arguments: [['<messageId...>', 'the messages to delete']],
    options: (remove) => remove.addOption(queueOption()),
    json: 'print the outcome as JSON',
    run: async ({ api }, flags, args) => {
      // A variadic argument arrives as one array.
      const messageIds = args.flat();
      const answer = await api.deleteDeadLetters(flags.queue, [...new Set(messageIds)]);
      if (flags.json) printJson(cli, answer);
      else {
        cli.print(
          `Deleted ${answer.deleted} message(s) from the ${flags.queue} dead-letter queue` +
            (answer.notDeleted.length > 0
              ? `; not deleted (not in it, or out of view): ${answer.notDeleted.join(', ')}.`
              : '.'),
        );
      }
      if (answer.notDeleted.length > 0) cli.fail();
    },
  });
}

/** The whole queue: SQS's move task on a stack; locally, resent request after request until none is left. */
async function redriveQueue(
  cli: CliSession,
  api: OpsApi,
  queue: DlqQueue,
  flags: { readonly json?: boolean },
): Promise<void> {
  let moved = 0;
  for (;;) {
    const answer = await api.redriveQueue(queue);
    if (answer.via === 'move-task') {
      if (flags.json) printJson(cli, answer);
      else {
        cli.print(
          `SQS is moving the ${queue} dead-letter queue back (task ${answer.taskHandle}); ` +
            `\`dlq list --queue ${queue}\` shows its progress and what is still waiting.`,
        );
      }
      return;
    }
    moved += answer.moved;
    // A request that moved nothing and is not complete would repeat itself: what is left is not in view.
    if (answer.complete || answer.moved === 0) {
      if (flags.json) printJson(cli, { queue, via: answer.via, moved, complete: answer.complete });
      else {
        cli.print(
          `Moved ${moved} message(s) from the ${queue} dead-letter queue` +
            (answer.complete ? '.' : '; the others are out of view for now: run it again in a minute.'),
        );
      }
      if (!answer.complete) cli.fail();
      return;
    }
  }
}

/**
 * Chosen events, a batch per request; a batch the request had no time to finish is asked again for the events
 * it did not move, until one comes back complete.
 */
async function redriveEvents(
  cli: CliSession,
  api: OpsApi,
  queue: DlqQueue,
  ids: readonly string[],
  flags: { readonly json?: boolean },
): Promise<void> {
  const progress = startProgress(`redrive ${queue}`, {
    enabled: showsProgress(flags),
    stream: cli.io.stderr,
  });
  let moved = 0;
  const notMoved: string[] = [];
  try {
    for (let start = 0; start < ids.length; start += REDRIVE_BATCH) {
      progress.update({ value: start, total: ids.length, detail: `${moved} moved` });
      let pending = ids.slice(start, start + REDRIVE_BATCH);
      while (pending.length > 0) {
        const answer = await api.redriveEvents(queue, pending);
        moved += answer.moved;
        if (answer.complete || answer.moved === 0) {
          notMoved.push(...answer.notMoved);
          break;
        }
        pending = [...answer.notMoved];
      }
      progress.update({
        value: Math.min(start + REDRIVE_BATCH, ids.length),
        total: ids.length,
        detail: `${moved} moved`,
      });
    }
  } finally {
    progress.stop();
  }
  if (flags.json) printJson(cli, { queue, requested: ids.length, moved, notMoved });
  else {
    cli.print(
      `Moved ${moved} of ${ids.length} requested message(s) from the ${queue} dead-letter queue` +
        (notMoved.length > 0 ? `; not moved (not in it, or out of view): ${notMoved.join(', ')}.` : '.'),
    );
  }
  if (notMoved.length > 0) cli.fail();
}
