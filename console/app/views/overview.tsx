import { useMemo, useState } from 'preact/hooks';
import { LEDGER_STATUSES } from '../../../lambdas/ledger/statuses';
import { api } from '../api';
import { LineChart, type Series } from '../chart';
import { knownProperties } from '../properties';
import { addDays, ErrorNote, Field, Section, today, useLoad } from '../ui';

const WINDOWS = {
  '1h': { label: 'last hour', bucketMs: 5 * 60_000, buckets: 12 },
  '24h': { label: 'last 24 hours', bucketMs: 2 * 3_600_000, buckets: 12 },
  '7d': { label: 'last 7 days', bucketMs: 12 * 3_600_000, buckets: 14 },
} as const;
type WindowName = keyof typeof WINDOWS;

const COLOURS: Readonly<Record<string, string>> = {
  received: '#888',
  enqueued: '#6a8caf',
  recorded: '#4a6fa5',
  applied: '#2e8b57',
  rejected: '#c0392b',
  parked: '#d68910',
  held: '#8e44ad',
  'dead-lettered': '#000',
};

export function OverviewView() {
  const [windowName, setWindowName] = useState<WindowName>('1h');
  const history = useLoad(() => countsOver(WINDOWS[windowName]), [windowName]);
  const dlq = useLoad(() => api.deadLetters('events', 1), []);
  const rejections = useLoad(() => api.rejections({ limit: 500 }), []);
  const violations = useLoad(openViolations, []);
  const totals = history.data?.totals;
  const series = useMemo<Series[]>(
    () =>
      LEDGER_STATUSES.map((status) => ({
        label: status,
        colour: COLOURS[status] ?? '#333',
        values: history.data?.buckets.map((bucket) => bucket[status] ?? 0) ?? [],
      })),
    [history.data],
  );

  return (
    <Section title="Overview">
      <div class="cards">
        <Card label="Deliveries in the window" value={totals?.total} />
        <Card label="Applied" value={totals?.counts.applied} />
        <Card label="Parked for review" value={totals?.counts.parked} href="#/review" />
        <Card label="Dead-letter queue depth" value={dlq.data?.approximateCount} href="#/dead-letters" />
        <Card
          label="Refused requests (last 24 h, up to 500)"
          value={rejections.data?.items.length}
          href="#/rejections"
        />
        <Card label="Open parity violations (next 30 nights)" value={violations.data} href="#/parity" />
      </div>
      <ErrorNote error={history.error ?? dlq.error ?? rejections.error ?? violations.error} />
      <Field label="Window">
        <select
          value={windowName}
          onChange={(event) => setWindowName(event.currentTarget.value as WindowName)}
        >
          {Object.entries(WINDOWS).map(([name, window]) => (
            <option key={name} value={name}>
              {window.label}
            </option>
          ))}
        </select>
      </Field>
      {history.data && (
        <LineChart
          title="Deliveries per status (by time received)"
          times={history.data.times}
          series={series}
        />
      )}
      <p class="hint">
        From ParitySync's own tables, so it reads the same locally and deployed; infrastructure metrics stay
        in CloudWatch.
      </p>
    </Section>
  );
}

function Card({ label, value, href }: { label: string; value: number | undefined; href?: string }) {
  const shown = value === undefined ? '…' : String(value);
  return (
    <div class="card">
      <span class="card-label">{label}</span>
      {href ? (
        <a class="card-value" href={href}>
          {shown}
        </a>
      ) : (
        <span class="card-value">{shown}</span>
      )}
    </div>
  );
}

/** One count per bucket, asked for in parallel: the API counts a window at a time. */
async function countsOver(window: (typeof WINDOWS)[WindowName]) {
  const end = Math.ceil(Date.now() / window.bucketMs) * window.bucketMs;
  const starts = Array.from(
    { length: window.buckets },
    (_, index) => end - (window.buckets - index) * window.bucketMs,
  );
  const [buckets, totals] = await Promise.all([
    Promise.all(
      starts.map(async (start) => {
        const answer = await api.counts({
          from: new Date(start).toISOString(),
          to: new Date(start + window.bucketMs).toISOString(),
        });
        return answer.counts;
      }),
    ),
    api.counts({ from: new Date(starts[0] ?? end).toISOString(), to: new Date(end).toISOString() }),
  ]);
  return { times: starts.map((start) => start / 1000), buckets, totals };
}

async function openViolations(): Promise<number> {
  const from = today();
  const to = addDays(from, 29);
  const properties = await knownProperties();
  const counts = await Promise.all(
    properties.map(async (propertyId) => {
      const page = await api.parity({ propertyId, from, to, limit: 500 });
      return page.nights.reduce((sum, night) => sum + night.findings.length, 0);
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}
