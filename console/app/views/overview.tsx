import { useMemo, useState } from 'preact/hooks';
import { LEDGER_STATUSES } from '../../../lambdas/ledger/statuses';
import { allPages, api } from '../api';
import { LineChart, type Series } from '../chart';
import { addDays, Empty, ErrorNote, Field, Section, time, today, useLoad } from '../ui';

const WINDOWS = {
  '1h': { label: 'last hour', bucketMs: 5 * 60_000, buckets: 12 },
  '24h': { label: 'last 24 hours', bucketMs: 2 * 3_600_000, buckets: 12 },
  '7d': { label: 'last 7 days', bucketMs: 12 * 3_600_000, buckets: 14 },
} as const;
type WindowName = keyof typeof WINDOWS;
type Window = (typeof WINDOWS)[WindowName];

/** Applied deliveries the apply lag is measured on: the newest of the window, one page of the log. */
const LAG_SAMPLE = 500;
const PARITY_NIGHTS = 30;

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
  const [source, setSource] = useState('');
  const window = WINDOWS[windowName];
  const history = useLoad(() => countsOver(window, source), [windowName, source]);
  const lag = useLoad(() => applyLag(window, source), [windowName, source]);
  const sources = useLoad(() => api.sources(), []);
  const dlq = useLoad(() => api.deadLetters('events', 1), []);
  const rejections = useLoad(() => api.rejections({ limit: 500 }), []);
  const violations = useLoad(openViolations, []);
  const context = useLoad(() => api.context(), []);
  const reconciled = useLoad(lastRunPerSource, []);
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
  const of = source === '' ? 'all sources' : source;

  return (
    <Section title="Overview">
      <div class="cards">
        <Card label={`Deliveries in the window (${of})`} value={totals?.total} testId="deliveries-total" />
        <Card label="Applied" value={totals?.counts.applied} />
        <Card label="Parked for review" value={totals?.counts.parked} href="#/review" />
        <Card label="Dead-letter queue depth" value={dlq.data?.approximateCount} href="#/dead-letters" />
        <Card
          label="Refused requests (last 24 h, up to 500)"
          value={rejections.data?.items.length}
          href="#/rejections"
        />
        <Card
          label={`Open parity violations (next ${PARITY_NIGHTS} nights)`}
          value={violations.data}
          href="#/parity"
          testId="open-violations"
        />
        <Card label="Apply lag p50" value={lag.data?.p50} testId="apply-lag-p50" />
        <Card label="Apply lag p95" value={lag.data?.p95} testId="apply-lag-p95" />
      </div>
      <ErrorNote
        error={
          history.error ??
          dlq.error ??
          rejections.error ??
          violations.error ??
          lag.error ??
          sources.error ??
          reconciled.error
        }
      />
      <p class="hint" data-testid="apply-lag-sample">
        {lag.data
          ? lag.data.sample === 0
            ? `Apply lag: no delivery of ${of} was applied in the ${window.label}.`
            : `Apply lag: from receipt by the edge to applied (updatedAt − receivedAt), over the newest ` +
              `${lag.data.sample} applied deliveries of ${of} in the ${window.label}` +
              `${lag.data.sample === LAG_SAMPLE ? ` (one page of ${LAG_SAMPLE}; older ones are not counted)` : ''}.`
          : 'Apply lag: reading the applied deliveries…'}
      </p>
      <div class="toolbar">
        <Field label="Window">
          <select
            value={windowName}
            onChange={(event) => setWindowName(event.currentTarget.value as WindowName)}
          >
            {Object.entries(WINDOWS).map(([name, option]) => (
              <option key={name} value={name}>
                {option.label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Source">
          <select value={source} onChange={(event) => setSource(event.currentTarget.value)}>
            <option value="">All sources</option>
            {sources.data?.items.map((item) => (
              <option key={item.sourceId} value={item.sourceId}>
                {item.sourceId}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {history.data && (
        <LineChart
          title={`Deliveries of ${of} per outcome (by time received)`}
          times={history.data.times}
          series={series}
        />
      )}
      <h3>Last reconciliation per source</h3>
      {reconciled.data && reconciled.data.length === 0 ? (
        <Empty what="No source was reconciled in the last 7 days." />
      ) : (
        <table data-testid="last-reconciliation">
          <caption class="sr-only">The latest reconciliation run of each polled source</caption>
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Started</th>
              <th scope="col">Status</th>
              <th scope="col">Drift %</th>
              <th scope="col">Threshold %</th>
              <th scope="col">Silent misses</th>
              <th scope="col">Corrected</th>
            </tr>
          </thead>
          <tbody>
            {reconciled.data?.map(({ run, source: figures }) => (
              <tr key={figures.sourceId}>
                <td>
                  <a href="#/reconciliation">{figures.sourceId}</a>
                </td>
                <td>{time(run.startedAt)}</td>
                <td>{figures.status + (run.dryRun ? ' (dry run)' : '')}</td>
                <td>{figures.driftPercent.toFixed(3)}</td>
                <td>{run.thresholdPercent}</td>
                <td>{figures.silentMisses}</td>
                <td>{figures.correctedGroups}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="hint">
        From ParitySync's own tables, so it reads the same locally and deployed; infrastructure metrics
        (Lambda, SQS, API Gateway, alarms) stay in CloudWatch
        {context.data?.dashboardUrl ? (
          <>
            :{' '}
            <a href={context.data.dashboardUrl} target="_blank" rel="noreferrer">
              the CloudWatch dashboard of {context.data.stack ?? 'the stack'}
            </a>
          </>
        ) : (
          ''
        )}
        .
      </p>
    </Section>
  );
}

function Card({
  label,
  value,
  href,
  testId,
}: {
  label: string;
  value: number | string | undefined;
  href?: string;
  testId?: string;
}) {
  const shown = value === undefined ? '…' : String(value);
  return (
    <div class="card">
      <span class="card-label">{label}</span>
      {href ? (
        <a class="card-value" href={href} data-testid={testId}>
          {shown}
        </a>
      ) : (
        <span class="card-value" data-testid={testId}>
          {shown}
        </span>
      )}
    </div>
  );
}

/** The window's buckets, ending at the next bucket boundary from now. */
function bucketStarts(window: Window): { starts: number[]; end: number } {
  const end = Math.ceil(Date.now() / window.bucketMs) * window.bucketMs;
  const starts = Array.from(
    { length: window.buckets },
    (_, index) => end - (window.buckets - index) * window.bucketMs,
  );
  return { starts, end };
}

/** One count per bucket, asked for in parallel: the API counts a window at a time. */
async function countsOver(window: Window, source: string) {
  const { starts, end } = bucketStarts(window);
  const [buckets, totals] = await Promise.all([
    Promise.all(
      starts.map(async (start) => {
        const answer = await api.counts({
          source,
          from: new Date(start).toISOString(),
          to: new Date(start + window.bucketMs).toISOString(),
        });
        return answer.counts;
      }),
    ),
    api.counts({ source, from: new Date(starts[0] ?? end).toISOString(), to: new Date(end).toISOString() }),
  ]);
  return { times: starts.map((start) => start / 1000), buckets, totals };
}

/**
 * Percentiles of the time from receipt to applied, over the newest applied deliveries of the window: an applied
 * entry's `updatedAt` is when apply settled it.
 */
async function applyLag(window: Window, source: string) {
  const { starts, end } = bucketStarts(window);
  const page = await api.deliveries({
    source,
    status: 'applied',
    from: new Date(starts[0] ?? end).toISOString(),
    to: new Date(end).toISOString(),
    limit: LAG_SAMPLE,
  });
  const lags = page.items
    .flatMap((row) =>
      row.receivedAt && row.updatedAt ? [Date.parse(row.updatedAt) - Date.parse(row.receivedAt)] : [],
    )
    .sort((a, b) => a - b);
  return {
    sample: lags.length,
    p50: lags.length === 0 ? '—' : duration(percentile(lags, 50)),
    p95: lags.length === 0 ? '—' : duration(percentile(lags, 95)),
  };
}

/** Nearest rank, of values sorted in ascending order. */
function percentile(sorted: readonly number[], rank: number): number {
  return sorted[Math.max(0, Math.ceil((rank / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** Findings over the next nights, of every property whose parity is checked (GET /parity/properties). */
async function openViolations(): Promise<number> {
  const from = today();
  const to = addDays(from, PARITY_NIGHTS - 1);
  const { items } = await api.parityProperties();
  const counts = await Promise.all(
    items.map(async ({ propertyId }) => {
      const nights = await allPages(async (cursor) => {
        const page = await api.parity({ propertyId, from, to, limit: 500, cursor });
        return { items: page.nights, nextCursor: page.nextCursor };
      });
      return nights.reduce((sum, night) => sum + night.findings.length, 0);
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}

/** Each configured source's newest run of the last 7 days, with that source's figures in it. */
async function lastRunPerSource() {
  const from = new Date(Date.now() - 7 * 86_400_000).toISOString();
  const { items } = await api.sources();
  const latest = await Promise.all(
    items.map(async ({ sourceId }) => {
      const [run] = (await api.reconcileRuns({ source: sourceId, from, limit: 1 })).items;
      const figures = run?.sources.find((source) => source.sourceId === sourceId);
      return run && figures ? [{ run, source: figures }] : [];
    }),
  );
  return latest.flat();
}
