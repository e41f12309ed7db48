import { useState } from 'preact/hooks';
import { LEDGER_STATUSES } from '../../../lambdas/ledger/statuses';
import type { DeliveryDetailView, ReplayJobView } from '../../../lambdas/read/wire';
import { api } from '../api';
import { ErrorNote, Field, instantOf, messageOf, Notice, Section, time, useLoad } from '../ui';

interface Filters {
  source: string;
  status: string;
  type: string;
  from: string;
  to: string;
}

const NO_FILTERS: Filters = { source: '', status: '', type: '', from: '', to: '' };

export function DeliveriesView({ selected }: { selected: string | undefined }) {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [cursor, setCursor] = useState<string | undefined>();
  const [chosen, setChosen] = useState<string | undefined>(selected);
  const sources = useLoad(() => api.sources(), []);
  const page = useLoad(
    () =>
      api.deliveries({
        source: filters.source,
        status: filters.status,
        type: filters.type,
        from: instantOf(filters.from),
        to: instantOf(filters.to),
        limit: 50,
        cursor,
      }),
    [filters, cursor],
  );
  const set = (name: keyof Filters) => (event: Event) =>
    setDraft({ ...draft, [name]: (event.currentTarget as HTMLInputElement).value });

  return (
    <div class="split">
      <Section title="Deliveries">
        <form
          class="filters"
          aria-label="Delivery filters"
          onSubmit={(event) => {
            event.preventDefault();
            setCursor(undefined);
            setFilters(draft);
          }}
        >
          <Field label="Source">
            <select value={draft.source} onChange={set('source')}>
              <option value="">All sources</option>
              {sources.data?.items.map((source) => (
                <option key={source.sourceId} value={source.sourceId}>
                  {source.sourceId}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Status">
            <select value={draft.status} onChange={set('status')}>
              <option value="">Any status</option>
              {LEDGER_STATUSES.map((status) => (
                <option key={status} value={status}>
                  {status}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Type">
            <input value={draft.type} onInput={set('type')} placeholder="e.g. ari.update" />
          </Field>
          <Field label="Received from (UTC)">
            <input type="datetime-local" value={draft.from} onInput={set('from')} />
          </Field>
          <Field label="Received to (UTC)">
            <input type="datetime-local" value={draft.to} onInput={set('to')} />
          </Field>
          <button type="submit">Apply filters</button>
        </form>
        <ErrorNote error={page.error} />
        <p class="hint">The API lists the last 24 hours unless a window is given; newest first.</p>
        <table>
          <caption class="sr-only">Deliveries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Received at</th>
              <th scope="col">Event</th>
              <th scope="col">Source</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((row) => (
              <tr key={row.eventId} class={row.eventId === chosen ? 'chosen' : ''}>
                <td>{time(row.receivedAt)}</td>
                <td>
                  <button type="button" class="link" onClick={() => setChosen(row.eventId)}>
                    {row.eventId}
                  </button>
                </td>
                <td>{row.sourceId}</td>
                <td>{row.canonicalType ?? row.providerEventType ?? '—'}</td>
                <td>
                  <span class={`status status-${row.status}`}>{row.status}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {page.data && page.data.items.length === 0 && <p class="empty">No delivery matches.</p>}
        <div class="pager">
          {cursor !== undefined && (
            <button type="button" onClick={() => setCursor(undefined)}>
              First page
            </button>
          )}
          {page.data?.nextCursor && (
            <button type="button" onClick={() => setCursor(page.data?.nextCursor ?? undefined)}>
              Next page
            </button>
          )}
        </div>
      </Section>
      {chosen !== undefined && <DeliveryDetail eventId={chosen} />}
    </div>
  );
}

function DeliveryDetail({ eventId }: { eventId: string }) {
  const delivery = useLoad(() => api.delivery(eventId), [eventId]);
  const [replay, setReplay] = useState<string | undefined>();
  const entry = delivery.data;
  return (
    <aside class="detail" aria-label="Delivery detail">
      <h2>Delivery {eventId}</h2>
      <ErrorNote error={delivery.error} />
      {entry && (
        <>
          <h3>Ledger timeline</h3>
          <ol class="timeline">
            {timeline(entry).map(([label, at]) => (
              <li key={label}>
                <time>{time(at)}</time> {label}
              </li>
            ))}
          </ol>
          <h3>Ledger entry</h3>
          <dl>
            {(
              [
                ['Status', entry.status],
                ['Why', entry.reason],
                ['Source', entry.sourceId],
                ['Kind', entry.kind],
                ['Provider event type', entry.providerEventType],
                ['Canonical type', entry.canonicalType],
                ['Idempotency key', entry.idempotencyKey],
                ['Deliveries to apply', entry.deliveryCount?.toString()],
                ['Message', entry.messageId],
                ['Kept until', time(entry.expiresAt)],
              ] as const
            ).map(([label, value]) => (
              <div key={label}>
                <dt>{label}</dt>
                <dd>{value ?? '—'}</dd>
              </div>
            ))}
          </dl>
          <h3>Last error</h3>
          {entry.lastError ? (
            <pre class="last-error">
              {time(entry.lastErrorAt)} {entry.lastError}
            </pre>
          ) : (
            <p class="empty">None recorded.</p>
          )}
          <h3>Canonical event</h3>
          {entry.event === undefined ? (
            <p class="empty">
              {entry.retained === false
                ? 'Too large to keep: it cannot be replayed.'
                : 'Not kept for this delivery.'}
            </p>
          ) : (
            <pre class="canonical-event">{JSON.stringify(entry.event, null, 2)}</pre>
          )}
          <button type="button" onClick={() => startReplay(entry, setReplay).then(delivery.reload)}>
            Replay this delivery
          </button>
          <Notice text={replay} />
        </>
      )}
    </aside>
  );
}

function timeline(entry: DeliveryDetailView): [string, string | undefined][] {
  const steps: [string, string | undefined][] = [
    ['occurred at the provider', entry.occurredAt],
    ['received by the edge', entry.receivedAt],
    ['last error', entry.lastErrorAt],
    [`last change: ${entry.status}`, entry.updatedAt],
  ];
  return steps
    .filter(([, at]) => at !== undefined)
    .sort(([, a], [, b]) => String(a).localeCompare(String(b)));
}

/** A replay job whose window holds this delivery alone: its source, its instant of receipt, its status. */
async function startReplay(entry: DeliveryDetailView, report: (text: string) => void): Promise<void> {
  if (!entry.receivedAt) {
    report('This delivery has no time of receipt to replay it by.');
    return;
  }
  try {
    const from = entry.receivedAt;
    const to = new Date(Date.parse(from) + 1).toISOString();
    let job: ReplayJobView = await api.startReplay({
      source: entry.sourceId,
      from,
      to,
      statuses: [entry.status],
    });
    report(`Replay ${job.jobId}: ${job.status}`);
    for (let attempt = 0; attempt < 60 && ['queued', 'running', 'pending'].includes(job.status); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      job = await api.replay(job.jobId);
      report(`Replay ${job.jobId}: ${job.status}`);
    }
    const counts = Object.entries(job.counts ?? {})
      .map(([name, count]) => `${name} ${count}`)
      .join(', ');
    report(
      `Replay ${job.jobId}: ${job.status}${counts ? ` (${counts})` : ''}${job.error ? `: ${job.error}` : ''}`,
    );
  } catch (error) {
    report(`Replay refused: ${messageOf(error)}`);
  }
}
