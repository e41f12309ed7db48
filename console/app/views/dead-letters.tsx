import { useState } from 'preact/hooks';
import { DEAD_LETTER_QUEUE_NAMES as QUEUES } from '../../../lambdas/read/dead-letter-queues';
import type { DeadLetterListing } from '../../../lambdas/read/wire';
import { api } from '../api';
import { Empty, ErrorNote, Field, messageOf, Notice, Section, time, useLoad } from '../ui';

/** How often a running move task is looked at, and for how long at most. */
const MOVE_TASK_POLL_MS = 2_000;
const MOVE_TASK_POLLS = 300;
/** Requests of a whole-queue resend, each moving what it has time for, before the console stops asking. */
const RESEND_ROUNDS = 20;

interface Progress {
  readonly moved: number;
  /** What there was to move, as far as known. */
  readonly total: number;
  readonly text: string;
  readonly done: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function DeadLettersView() {
  const [queue, setQueue] = useState<string>('events');
  const listing = useLoad(() => api.deadLetters(queue, 10), [queue]);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [progress, setProgress] = useState<Progress | undefined>();
  const [busy, setBusy] = useState(false);

  const toggle = (eventId: string) => {
    const next = new Set(chosen);
    if (next.has(eventId)) next.delete(eventId);
    else next.add(eventId);
    setChosen(next);
  };

  const redrive = async (eventIds: readonly string[] | undefined) => {
    setBusy(true);
    const total = eventIds?.length ?? listing.data?.approximateCount ?? 0;
    try {
      setProgress({ moved: 0, total, text: `Redriving ${total} message(s)…`, done: false });
      const answer = await api.redrive(queue, eventIds);
      if (answer.via === 'move-task') {
        await followMoveTask(queue, answer.taskHandle, total, setProgress);
      } else if ('notMoved' in answer) {
        setProgress({
          moved: answer.moved,
          total,
          text:
            `Moved ${answer.moved} of ${total} message(s) back to the ${queue} queue` +
            (answer.notMoved.length ? `; not moved: ${answer.notMoved.join(', ')}.` : '.'),
          done: true,
        });
      } else {
        // Locally the whole queue is received and sent back a request's worth at a time: ask until it is done.
        let { moved, complete } = answer;
        for (let round = 1; !complete && round < RESEND_ROUNDS; round++) {
          setProgress({
            moved,
            total: Math.max(total, moved),
            text: `Moved ${moved} message(s)…`,
            done: false,
          });
          const next = await api.redrive(queue);
          if (next.via !== 'resend') break;
          moved += next.moved;
          complete = next.complete;
        }
        setProgress({
          moved,
          total: Math.max(total, moved),
          text:
            `Moved ${moved} message(s) back to the ${queue} queue` +
            (complete ? '.' : '; more remain, redrive again.'),
          done: true,
        });
      }
      setChosen(new Set());
    } catch (error) {
      setProgress({ moved: 0, total, text: `Redrive refused: ${messageOf(error)}`, done: true });
    } finally {
      setBusy(false);
      listing.reload();
    }
  };

  const items = listing.data?.items ?? [];
  return (
    <Section title="Dead letters">
      <div class="toolbar">
        <Field label="Queue">
          <select value={queue} onChange={(event) => setQueue(event.currentTarget.value)}>
            {QUEUES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </Field>
        <button type="button" onClick={listing.reload}>
          Refresh
        </button>
        <button type="button" disabled={busy || chosen.size === 0} onClick={() => redrive([...chosen])}>
          Redrive selected ({chosen.size})
        </button>
        <button type="button" disabled={busy || items.length === 0} onClick={() => redrive(undefined)}>
          Redrive all
        </button>
      </div>
      {progress && (
        <div class="progress">
          <progress aria-label="Redrive progress" value={progress.moved} max={Math.max(progress.total, 1)} />
          <span>
            {progress.moved} / {progress.total}
          </span>
        </div>
      )}
      <Notice text={progress?.text} />
      <ErrorNote error={listing.error} />
      {listing.data && (
        <p class="metric">
          About <strong data-testid="dlq-depth">{listing.data.approximateCount}</strong> message(s) in the{' '}
          {queue} dead-letter queue
          {listing.data.moveTask ? `; last move task ${describeMoveTask(listing.data.moveTask)}` : ''}.
        </p>
      )}
      {listing.data && items.length === 0 ? (
        <Empty what={`The ${queue} dead-letter queue is empty.`} />
      ) : (
        <table>
          <caption class="sr-only">Dead letters, from the head of the queue</caption>
          <thead>
            <tr>
              <th scope="col">Select</th>
              <th scope="col">Sent at</th>
              <th scope="col">Event</th>
              <th scope="col">Receives</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.messageId}>
                <td>
                  {item.eventId !== null && (
                    <input
                      type="checkbox"
                      aria-label={`Select ${item.eventId}`}
                      checked={chosen.has(item.eventId)}
                      onChange={() => item.eventId !== null && toggle(item.eventId)}
                    />
                  )}
                </td>
                <td>{time(item.sentAt)}</td>
                <td>{item.eventId ?? item.messageId}</td>
                <td>{item.receiveCount}</td>
                <td>{item.lastError ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="hint">
        SQS has no peek: listing receives the first messages and puts them back at once, so they are out of
        view for a moment.
      </p>
    </Section>
  );
}

function describeMoveTask(task: NonNullable<DeadLetterListing['moveTask']>): string {
  const of = task.toMove === undefined ? '' : ` of ${task.moved + task.toMove}`;
  return `${task.status}, ${task.moved}${of} moved${task.failureReason ? ` (${task.failureReason})` : ''}`;
}

/**
 * SQS moves the queue in the background: its move task says how far it got, on each listing of the queue, until it
 * ends; the console stops looking after ten minutes. A listing receives one message and puts it back at once, so the task takes it on its next pass.
 */
async function followMoveTask(
  queue: string,
  taskHandle: string,
  total: number,
  report: (progress: Progress) => void,
) {
  let moved = 0;
  for (let poll = 0; poll < MOVE_TASK_POLLS; poll++) {
    await sleep(MOVE_TASK_POLL_MS);
    const task = (await api.deadLetters(queue, 0)).moveTask;
    // Until SQS lists the task just started, the latest it lists is an earlier one.
    if (task === undefined || task.taskHandle !== taskHandle) continue;
    moved = task.moved;
    const known = task.toMove === undefined ? total : task.moved + task.toMove;
    const running = task.status === 'RUNNING' || task.status === 'CANCELLING';
    report({
      moved: task.moved,
      total: Math.max(known, task.moved),
      text: running
        ? `SQS is moving the ${queue} dead letters back: ${task.moved} of ${known} moved…`
        : `Move task ${describeMoveTask(task)}.`,
      done: !running,
    });
    if (!running) return;
  }
  report({
    moved,
    total: Math.max(total, moved),
    text: 'SQS is still moving the queue; refresh later to see how far it got.',
    done: true,
  });
}
