import { useMemo, useState } from 'preact/hooks';
import type { RejectionView } from '../../../lambdas/read/wire';
import { api } from '../api';
import { LineChart, type Series } from '../chart';
import { Empty, ErrorNote, Field, Section, time, useLoad } from '../ui';

const HOUR_MS = 3_600_000;
/** The API's default window: the last 24 hours, drawn an hour a point. */
const HOURS = 24;
/** Told apart by colour up to this many series; more share the palette's colours in turn. */
const PALETTE = ['#c0392b', '#2e86c1', '#d68910', '#8e44ad', '#17a589', '#34495e', '#e84393', '#7d6608'];
const SEPARATOR = '\u0000';

export function RejectionsView() {
  const [source, setSource] = useState('');
  const rejections = useLoad(() => api.rejections({ source, limit: 500 }), [source]);
  const items = rejections.data?.items ?? [];
  const bySourceAndReason = new Map<string, number>();
  for (const item of items) {
    const key = `${item.sourceId}${SEPARATOR}${item.reason}`;
    bySourceAndReason.set(key, (bySourceAndReason.get(key) ?? 0) + 1);
  }
  const chart = useMemo(() => hourly(items, rejections.data?.to), [rejections.data]);
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
          <LineChart
            title="Refused requests per hour, by source and reason"
            times={chart.times}
            series={chart.series}
            unit="refused requests"
          />
          {rejections.data?.nextCursor && (
            <p class="hint">The chart and the counts cover the newest 500 refused requests of the window.</p>
          )}
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
                const [sourceId, reason] = key.split(SEPARATOR);
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

/** One series per source and reason, counting its refused requests in each hour of the window ending at `to`. */
function hourly(
  items: readonly RejectionView[],
  to: string | undefined,
): { times: number[]; series: Series[] } {
  const end = Math.ceil((to === undefined ? Date.now() : Date.parse(to)) / HOUR_MS) * HOUR_MS;
  const start = end - HOURS * HOUR_MS;
  const counts = new Map<string, number[]>();
  for (const item of items) {
    const hour = Math.floor((Date.parse(item.at) - start) / HOUR_MS);
    if (hour < 0 || hour >= HOURS) continue;
    const key = `${item.sourceId}${SEPARATOR}${item.reason}`;
    const row = counts.get(key) ?? Array.from({ length: HOURS }, () => 0);
    row[hour] = (row[hour] ?? 0) + 1;
    counts.set(key, row);
  }
  return {
    times: Array.from({ length: HOURS }, (_, hour) => (start + hour * HOUR_MS) / 1000),
    series: [...counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, values], index) => ({
        label: key.split(SEPARATOR).join(' · '),
        colour: PALETTE[index % PALETTE.length] ?? '#333',
        values,
      })),
  };
}
