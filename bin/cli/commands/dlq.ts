import { type Command, Option } from 'commander';
import { type DeadLetter, DLQ_QUEUES, type DlqQueue } from '../api';
import { printJson } from '../output';
import { startProgress } from '../progress';
import { listCommand, showsProgress, targetOf } from './common';

/** Event ids per redrive call: SQS moves at most ten messages per batch. */
const REDRIVE_BATCH = 10;

const queueOption = () =>
  new Option('--queue <queue>', 'events (failed deliveries) or reconcile (failed runs)')
    .choices(DLQ_QUEUES)
    .default('events');

export function registerDlq(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('Dead-letter queues: what failed every attempt, and redrive');

  listCommand<DeadLetter, { queue: DlqQueue }>(dlq, {
    description: 'Messages waiting in a dead-letter queue',
    filters: (list) => list.addOption(queueOption()),
    fetch: (api, flags, page) => api.listDeadLetters(flags.queue, page),
    columns: [
      ['SENT', (m) => m.sentAt],
      ['EVENT', (m) => m.eventId],
      ['MESSAGE', (m) => m.messageId],
      ['RECEIVES', (m) => m.receiveCount],
      ['LAST ERROR', (m) => m.lastError],
    ],
    empty: (flags) => `The ${flags.queue} dead-letter queue is empty.`,
  });

  dlq
    .command('redrive')
    .description('Move dead-lettered messages back to be applied again (applying is idempotent)')
    .addOption(queueOption())
    .option('--event <eventId...>', 'only these events (default: the whole queue)')
    .option('--json', 'print the outcome as JSON')
    .action(async (flags: { queue: DlqQueue; event?: string[]; json?: boolean }, command: Command) => {
      const { api } = await targetOf(command);
      if (flags.event === undefined) {
        const answer = await api.redrive(flags.queue);
        if (flags.json) printJson(answer);
        else if (answer.taskHandle !== undefined) {
          console.log(
            `SQS is moving the ${flags.queue} dead-letter queue back (task ${answer.taskHandle}); ` +
              `\`dlq list --queue ${flags.queue}\` shows what is still waiting.`,
          );
        } else console.log(`Moved ${answer.moved} message(s) from the ${flags.queue} dead-letter queue.`);
        return;
      }

      const ids = [...new Set(flags.event)];
      const progress = startProgress(`redrive ${flags.queue}`, { enabled: showsProgress(flags) });
      let moved = 0;
      try {
        for (let start = 0; start < ids.length; start += REDRIVE_BATCH) {
          const batch = ids.slice(start, start + REDRIVE_BATCH);
          progress.update({ value: start, total: ids.length, detail: `${moved} moved` });
          moved += (await api.redrive(flags.queue, batch)).moved;
          progress.update({ value: start + batch.length, total: ids.length, detail: `${moved} moved` });
        }
      } finally {
        progress.stop();
      }
      if (flags.json) printJson({ requested: ids.length, moved });
      else {
        console.log(
          `Moved ${moved} of ${ids.length} requested message(s) from the ${flags.queue} dead-letter queue` +
            (moved < ids.length ? '; the others were not in it (`dlq list` shows what is).' : '.'),
        );
      }
      if (moved < ids.length) process.exitCode = 1;
    });
}
