import { useState } from 'preact/hooks';
import type { SourceView } from '../../../lambdas/read/wire';
import { api } from '../api';
import { ErrorNote, messageOf, Notice, Section, time, useLoad } from '../ui';

export function SourcesView() {
  const sources = useLoad(() => api.sources(), []);
  const [notice, setNotice] = useState<string | undefined>();
  return (
    <Section title="Sources">
      <Notice text={notice} />
      <ErrorNote error={sources.error} />
      <p class="hint">Configuration as the API shows it: secrets never leave the stack.</p>
      <table>
        <caption class="sr-only">Configured sources</caption>
        <thead>
          <tr>
            <th scope="col">Source</th>
            <th scope="col">Kind</th>
            <th scope="col">Name</th>
            <th scope="col">Held</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {sources.data?.items.map((source) => (
            <SourceRow key={source.sourceId} source={source} report={setNotice} changed={sources.reload} />
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function SourceRow({
  source,
  report,
  changed,
}: {
  source: SourceView;
  report: (text: string) => void;
  changed: () => void;
}) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const act = async (action: () => Promise<string>) => {
    setBusy(true);
    try {
      report(await action());
    } catch (error) {
      report(messageOf(error));
    } finally {
      setBusy(false);
      changed();
    }
  };
  const hold = () =>
    act(async () => {
      await api.hold(source.sourceId, reason || undefined);
      return `Holding ${source.sourceId}: its events wait as held until resumed.`;
    });
  const resume = () =>
    act(async () => {
      let released = 0;
      let cursor: string | undefined;
      do {
        const step = await api.resume(source.sourceId, cursor);
        released += step.released;
        cursor = step.nextCursor ?? undefined;
        report(`Resuming ${source.sourceId}: ${released} held event(s) queued again…`);
      } while (cursor !== undefined);
      return `Resumed ${source.sourceId}; ${released} held event(s) queued again.`;
    });
  return (
    <tr>
      <th scope="row">{source.sourceId}</th>
      <td>{source.kind}</td>
      <td>{source.displayName ?? '—'}</td>
      <td>
        {source.held
          ? `since ${time(source.heldAt)}${source.heldBy ? ` by ${source.heldBy}` : ''}${source.reason ? `: ${source.reason}` : ''}`
          : 'no'}
      </td>
      <td class="actions">
        {source.held ? (
          <button type="button" disabled={busy} onClick={resume}>
            Resume {source.sourceId}
          </button>
        ) : (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void hold();
            }}
          >
            <input
              aria-label={`Reason to hold ${source.sourceId}`}
              placeholder="reason (optional)"
              value={reason}
              onInput={(event) => setReason(event.currentTarget.value)}
            />
            <button type="submit" disabled={busy}>
              Hold {source.sourceId}
            </button>
          </form>
        )}
      </td>
    </tr>
  );
}
