import { useState } from 'preact/hooks';
import type { ParkedEventView } from '../../../lambdas/read/wire';
import { allPages, api } from '../api';
import { Empty, ErrorNote, Field, messageOf, Notice, Section, time, useLoad } from '../ui';

/** `roomType|STE-NEW` (what apply parks an event under) as its entity and external id; holds are `hold|…`. */
function parseKey(waitingFor: string): { entity: string; externalId: string } | undefined {
  const bar = waitingFor.indexOf('|');
  if (bar < 0) return undefined;
  const entity = waitingFor.slice(0, bar);
  return entity === 'hold' ? undefined : { entity, externalId: waitingFor.slice(bar + 1) };
}

export function ReviewView() {
  const parked = useLoad(() => allPages((cursor) => api.review({ limit: 500, cursor })), []);
  const [notice, setNotice] = useState<string | undefined>();
  const groups = new Map<string, ParkedEventView[]>();
  for (const event of parked.data ?? []) {
    const key = event.waitingFor ?? '(unknown)';
    groups.set(key, [...(groups.get(key) ?? []), event]);
  }
  return (
    <Section title="Review">
      <p class="hint">Events parked for want of a mapping, grouped by the mapping they wait for.</p>
      <Notice text={notice} />
      <ErrorNote error={parked.error} />
      {parked.data && groups.size === 0 && <Empty what="No event waits for review." />}
      {[...groups].map(([waitingFor, events]) => (
        <ReviewGroup
          key={waitingFor}
          waitingFor={waitingFor}
          events={events}
          report={setNotice}
          changed={parked.reload}
        />
      ))}
    </Section>
  );
}

function ReviewGroup({
  waitingFor,
  events,
  report,
  changed,
}: {
  waitingFor: string;
  events: readonly ParkedEventView[];
  report: (text: string) => void;
  changed: () => void;
}) {
  const wanted = parseKey(waitingFor);
  const sources = [...new Set(events.map((event) => event.sourceId))];
  const [scope, setScope] = useState('*');
  const [internalId, setInternalId] = useState('');
  const [propertyId, setPropertyId] = useState('');
  const [busy, setBusy] = useState(false);
  const title = wanted ? `${wanted.entity} "${wanted.externalId}"` : `the hold of ${waitingFor.slice(5)}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!wanted) return;
    setBusy(true);
    try {
      const answer = await api.putMapping(
        { scope, entity: wanted.entity, externalId: wanted.externalId },
        { internalId, ...(propertyId ? { propertyId } : {}) },
      );
      report(
        `Mapped ${wanted.entity} "${wanted.externalId}" (scope ${scope}) to "${internalId}"; ` +
          `${answer.released} parked event(s) queued again.`,
      );
      changed();
    } catch (error) {
      report(`Mapping refused: ${messageOf(error)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <article class="group" aria-label={`Waiting for ${title}`}>
      <h3>
        Waiting for {title}: {events.length} event(s)
      </h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Parked at</th>
            <th scope="col">Event</th>
            <th scope="col">Source</th>
            <th scope="col">Type</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.eventId}>
              <td>{time(event.parkedAt)}</td>
              <td>
                <a href={`#/deliveries/${encodeURIComponent(event.eventId)}`}>{event.eventId}</a>
              </td>
              <td>{event.sourceId}</td>
              <td>{event.type ?? event.providerEventType ?? '—'}</td>
              <td>{event.reason ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {wanted ? (
        <form class="inline-form" aria-label={`Add the mapping for ${title}`} onSubmit={submit}>
          <Field label="Scope">
            <select value={scope} onChange={(e) => setScope(e.currentTarget.value)}>
              <option value="*">every source (*)</option>
              {sources.map((source) => (
                <option key={source} value={source}>
                  {source}
                </option>
              ))}
            </select>
          </Field>
          <Field label={`Internal ${wanted.entity} id`}>
            <input required value={internalId} onInput={(e) => setInternalId(e.currentTarget.value)} />
          </Field>
          {wanted.entity === 'roomType' && (
            <Field label="Property id (optional)">
              <input value={propertyId} onInput={(e) => setPropertyId(e.currentTarget.value)} />
            </Field>
          )}
          <button type="submit" disabled={busy || internalId === ''}>
            Add mapping and release
          </button>
        </form>
      ) : (
        <p class="hint">Held by its source: resume the source under Sources to release them.</p>
      )}
    </article>
  );
}
