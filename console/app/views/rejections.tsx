import { useState } from 'preact/hooks';
import { api } from '../api';
import { Empty, ErrorNote, Field, Section, time, useLoad } from '../ui';

export function RejectionsView() {
  const [source, setSource] = useState('');
  const rejections = useLoad(() => api.rejections({ source, limit: 500 }), [source]);
  const items = rejections.data?.items ?? [];
  const bySourceAndReason = new Map<string, number>();
  for (const item of items) {
    const key = `${item.sourceId}\u0000${item.reason}`;
    bySourceAndReason.set(key, (bySourceAndReason.get(key) ?? 0) + 1);
  }
  return (
    <Section title="Rejections">
      <p class="hint">
        Requests the edge refused in the last 24 hours: a burst of one reason from one source is a rotated
        secret or a probing sender.
      </p>
      <Field label="Source">
        <input value={source} onChange={(event) => setSource(event.currentTarget.value)} placeholder="all" />
      </Field>
      <ErrorNote error={rejections.error} />
      {rejections.data && items.length === 0 ? (
        <Empty what="No refused request in the window." />
      ) : (
        <>
          <h3>By source and reason</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">Reason</th>
                <th scope="col">Refused</th>
              </tr>
            </thead>
            <tbody>
              {[...bySourceAndReason].map(([key, count]) => {
                const [sourceId, reason] = key.split('\u0000');
                return (
                  <tr key={key}>
                    <td>{sourceId}</td>
                    <td>{reason}</td>
                    <td>{count}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <h3>Latest</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Source</th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col">Sender</th>
                <th scope="col">Body bytes</th>
              </tr>
            </thead>
            <tbody>
              {items.slice(0, 100).map((item) => (
                <tr key={`${item.at}|${item.requestId ?? ''}`}>
                  <td>{time(item.at)}</td>
                  <td>{item.sourceId}</td>
                  <td>{item.status}</td>
                  <td>{item.reason}</td>
                  <td>{item.senderAddress ?? '—'}</td>
                  <td>{item.bodyBytes ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Section>
  );
}
