import { useState } from 'preact/hooks';
import { api } from '../api';
import { Empty, ErrorNote, Field, messageOf, Notice, Section, time, useLoad } from '../ui';

const QUEUES = ['events', 'reconcile'] as const;

export function DeadLettersView() {
  const [queue, setQueue] = useState<string>('events');
  const listing = useLoad(() => api.deadLetters(queue, 10), [queue]);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [progress, setProgress] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const toggle = (eventId: string) => {
    const next = new Set(chosen);
    if (next.has(eventId)) next.delete(eventId);
    else next.add(eventId);
    setChosen(next);
  };

  const redrive = async (eventIds: readonly string[] | undefined) => {
    setBusy(true);
    try {
      const answer = await api.redrive(queue, eventIds);
      if (answer.moved === null) setProgress('SQS is moving the whole queue back; refresh to follow it.');
      else
        setProgress(
          `Moved ${answer.moved} message(s) back to the ${queue} queue` +
            ('notMoved' in answer && answer.notMoved.length
              ? `; not moved: ${answer.notMoved.join(', ')}`
              : '') +
            (answer.complete === false ? '; more remain, redrive again.' : '.'),
        );
      setChosen(new Set());
    } catch (error) {
      setProgress(`Redrive refused: ${messageOf(error)}`);
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
      <Notice text={progress} />
      <ErrorNote error={listing.error} />
      {listing.data && (
        <p class="metric">
          About <strong data-testid="dlq-depth">{listing.data.approximateCount}</strong> message(s) in the{' '}
          {queue} dead-letter queue
          {listing.data.moveTask
            ? `; last move task ${listing.data.moveTask.status}, ${listing.data.moveTask.moved} moved`
            : ''}
          .
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
