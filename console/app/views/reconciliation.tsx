import { useEffect, useState } from 'preact/hooks';
import type {
  AuditEntryView,
  ItemCountsView,
  ReconcileRunDetailView,
  ReconcileRunView,
} from '../../../lambdas/read/wire';
import { allPages, api } from '../api';
import { LineChart, type Series } from '../chart';
import { addDays, Empty, ErrorNote, Field, Section, time, today, useLoad } from '../ui';

const PAGE_SIZE = 100;
const DEFAULT_NIGHTS = 30;
const RECENT_RUNS = 20;
/** How far back the drift charts look: the read API's own default window for runs. */
const TREND_DAYS = 7;
/** The most runs a chart reads: two weeks of runs every 15 minutes is under 1,400. */
const TREND_MAX_RUNS = 2_000;

/**
 * Reconciliation as the read API shows it, one panel per question: the runs answer "what did the recent runs
 * find and do?", the trends "is a source drifting more than its threshold, and are webhooks going missing?",
 * the audit "what did reconciliation change on these nights, and from what to what?". Each panel loads on its
 * own, so that one failing leaves the others readable.
 */
export function ReconciliationView() {
  return (
    <Section title="Reconciliation">
      <p class="hint">
        Run one now with <code>paritysync reconcile</code>; its parity findings show under{' '}
        <a href="#/parity">Parity</a>.
      </p>
      <div class="panels">
        <RunsPanel />
        <TrendsPanel />
        <AuditPanel />
      </div>
    </Section>
  );
}

function RunsPanel() {
  const runs = useLoad(() => api.reconcileRuns({ limit: RECENT_RUNS }), []);
  const [chosen, setChosen] = useState<string | undefined>();
  return (
    <section aria-label="Runs">
      <h3>Recent runs</h3>
      <p class="hint">
        The last {RECENT_RUNS} runs started in the last {TREND_DAYS} days, newest first. A run plans work
        items (a source's scan, a property's parity window); it is complete once every item ended, done or
        failed. Open one for its drift per source and property and the items that failed.
      </p>
      <div class="toolbar">
        <button type="button" onClick={runs.reload}>
          Refresh the runs
        </button>
      </div>
      <ErrorNote error={runs.error} />
      <div class="split">
        <div>
          {runs.data && runs.data.items.length === 0 ? (
            <Empty what={`No reconciliation run started in the last ${TREND_DAYS} days.`} />
          ) : (
            <table aria-label="Reconciliation runs">
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Status</th>
                  <th scope="col">Items done</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Planned</th>
                  <th scope="col">Dry run</th>
                </tr>
              </thead>
              <tbody>
                {runs.data?.items.map((run) => (
                  <tr
                    key={run.runId}
                    data-run={run.runId}
                    aria-current={run.runId === chosen ? 'true' : undefined}
                  >
                    <td>
                      <button
                        type="button"
                        class="link"
                        aria-label={`Open run ${run.runId}, started ${time(run.startedAt)}`}
                        onClick={() => setChosen(run.runId)}
                      >
                        <time dateTime={run.startedAt}>{time(run.startedAt)}</time>
                      </button>
                    </td>
                    <td>{run.trigger}</td>
                    <td>
                      <span class="status">{run.status}</span>
                    </td>
                    <td>{run.items.done}</td>
                    <td>{run.items.failed}</td>
                    <td>{run.items.planned}</td>
                    <td>{run.dryRun ? 'yes' : 'no'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        {chosen !== undefined && <RunDetail key={chosen} runId={chosen} />}
      </div>
    </section>
  );
}

function RunDetail({ runId }: { runId: string }) {
  const run = useLoad(() => api.reconcileRun(runId), [runId]);
  const detail = run.data;
  return (
    <aside class="detail" aria-label="Run detail">
      <h3>Run {runId}</h3>
      <ErrorNote error={run.error} />
      {detail && <RunFigures run={detail} reload={run.reload} />}
    </aside>
  );
}

function RunFigures({ run, reload }: { run: ReconcileRunDetailView; reload: () => void }) {
  const failed = run.workItems.filter((item) => item.status === 'failed');
  return (
    <>
      <dl>
        {(
          [
            ['Status', run.status],
            ['Trigger', run.trigger],
            ['Started', time(run.startedAt)],
            ['Completed', time(run.completedAt)],
            ['Dry run', run.dryRun ? 'yes: measured only, nothing written' : 'no'],
            ['Drift threshold', percent(run.thresholdPercent)],
            ['Items', itemsOf(run.items)],
            [
              'Parity',
              run.parity.items.planned === 0
                ? 'not checked'
                : `${itemsOf(run.parity.items)}; ${run.parity.violations} violation(s), ` +
                  `${run.parity.currencyMismatches} currency mismatch(es) over ${run.parity.nightsChecked} nights`,
            ],
          ] as const
        ).map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {run.status === 'running' && (
        <button type="button" onClick={reload}>
          Read the run again
        </button>
      )}
      <h4>Drift per source</h4>
      {run.sources.length === 0 ? (
        <Empty what="The run polled no source." />
      ) : (
        <table aria-label="Drift per source">
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Items</th>
              <th scope="col">Nights polled</th>
              <th scope="col">Drift</th>
              <th scope="col">Silent misses</th>
              <th scope="col">Corrected</th>
            </tr>
          </thead>
          <tbody>
            {run.sources.map((source) => (
              <tr key={source.sourceId} data-source={source.sourceId}>
                <th scope="row">{source.sourceId}</th>
                <td>{itemsOf(source.items)}</td>
                <td>{source.nightsPolled}</td>
                <td title={`${source.mismatched} of ${source.compared} field groups`}>
                  {percent(source.driftPercent)}
                </td>
                <td>{source.silentMisses}</td>
                <td>
                  {source.correctedGroups}
                  {source.skippedCorrections > 0 ? ` (${source.skippedCorrections} skipped)` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h4>Drift per property</h4>
      {run.properties.length === 0 ? (
        <Empty what="No property's nights were compared." />
      ) : (
        <table aria-label="Drift per property">
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Property</th>
              <th scope="col">Drift</th>
              <th scope="col">Silent misses</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {run.properties.map((property) => (
              <tr key={`${property.sourceId}|${property.propertyId}`}>
                <td>{property.sourceId}</td>
                <td>{property.propertyId}</td>
                <td title={`${property.mismatched} of ${property.compared} field groups`}>
                  {percent(property.driftPercent)}
                </td>
                <td>{property.silentMisses}</td>
                <td>{property.actions.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h4>Failed work items</h4>
      {failed.length === 0 ? (
        <Empty what="No work item failed." />
      ) : (
        <table aria-label="Failed work items">
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Source or property</th>
              <th scope="col">Error</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {failed.map((item) => (
              <tr key={item.itemId}>
                <td>
                  {item.kind} {item.itemId}
                </td>
                <td>{[item.sourceId, item.propertyId].filter(Boolean).join(' / ') || '—'}</td>
                <td>{item.error ?? '—'}</td>
                <td>{item.message ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/**
 * One pair of charts per source that runs polled in the window: its drift against the threshold each run
 * applied, and its silent misses (field groups that differed because a webhook never arrived), run by run.
 */
function TrendsPanel() {
  const trends = useLoad(async () => {
    const to = new Date();
    const from = new Date(to.getTime() - TREND_DAYS * 86_400_000);
    // A run's listing carries no figures per source: only `?source=` answers a source's own, so each
    // configured source is asked, and those no run polled are left out.
    const { items } = await api.sources();
    const all = await Promise.all(
      items.map(async ({ sourceId }) => {
        const runs = await allPages(
          (cursor) =>
            api.reconcileRuns({
              source: sourceId,
              from: from.toISOString(),
              to: to.toISOString(),
              limit: 500,
              cursor,
            }),
          TREND_MAX_RUNS,
        );
        return trendOf(runs, sourceId);
      }),
    );
    return all.filter((trend) => trend.times.length > 0);
  }, []);
  return (
    <section aria-label="Drift over time">
      <h3>Drift and silent misses over the last {TREND_DAYS} days</h3>
      <p class="hint">
        Per polled source, run by run: the share of compared field groups that differed from the provider,
        against the threshold above which a run corrects them, and how many differed because their webhook
        never arrived. Runs whose items for the source had not all ended are left out.
      </p>
      <div class="toolbar">
        <button type="button" onClick={trends.reload}>
          Refresh the charts
        </button>
      </div>
      <ErrorNote error={trends.error} />
      {trends.data?.length === 0 && (
        <Empty what={`No run polling a source completed in the last ${TREND_DAYS} days.`} />
      )}
      {trends.data?.map((trend) => (
        <div class="group" key={trend.sourceId} data-source={trend.sourceId}>
          <LineChart
            title={`Drift of ${trend.sourceId} against the threshold`}
            times={trend.times}
            series={trend.drift}
            unit="% of field groups"
          />
          <LineChart
            title={`Silent misses of ${trend.sourceId}`}
            times={trend.times}
            series={trend.silentMisses}
            unit="field groups"
          />
        </div>
      ))}
    </section>
  );
}

/** The source's completed runs in time order (the API lists them newest first), as chart series. */
function trendOf(runs: readonly ReconcileRunView[], sourceId: string) {
  const points = runs
    .flatMap((run) => {
      const source = run.sources.find((candidate) => candidate.sourceId === sourceId);
      return source?.status === 'complete' ? [{ run, source }] : [];
    })
    .sort((a, b) => Date.parse(a.run.startedAt) - Date.parse(b.run.startedAt));
  const drift: Series[] = [
    { label: `${sourceId} drift %`, colour: '#4a6fa5', values: points.map((p) => p.source.driftPercent) },
    { label: 'threshold %', colour: '#c0392b', values: points.map((p) => p.run.thresholdPercent) },
  ];
  const silentMisses: Series[] = [
    {
      label: `${sourceId} silent misses`,
      colour: '#d68910',
      values: points.map((p) => p.source.silentMisses),
    },
  ];
  return { sourceId, times: points.map((p) => Date.parse(p.run.startedAt) / 1000), drift, silentMisses };
}

function itemsOf(items: ItemCountsView): string {
  return `${items.done} of ${items.planned} done${items.failed > 0 ? `, ${items.failed} failed` : ''}`;
}

function percent(value: number): string {
  return `${value.toFixed(3)} %`;
}

interface AuditFilters {
  readonly propertyId: string;
  readonly from: string;
  readonly to: string;
  readonly action: string;
}

function AuditPanel() {
  const properties = useLoad(async () => (await api.parityProperties()).items.map((p) => p.propertyId), []);
  const start = today();
  const [draft, setDraft] = useState<AuditFilters>({
    propertyId: '',
    from: start,
    to: addDays(start, DEFAULT_NIGHTS - 1),
    action: '',
  });
  const [filters, setFilters] = useState<AuditFilters | undefined>();
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  useEffect(() => {
    const first = properties.data?.[0];
    if (filters === undefined && first !== undefined) {
      const chosen = { ...draft, propertyId: first };
      setDraft(chosen);
      setFilters(chosen);
    }
  }, [properties.data]);
  const cursor = cursors.at(-1);
  const page = useLoad(
    () =>
      filters === undefined || filters.propertyId === ''
        ? Promise.resolve(undefined)
        : api.audit({ ...filters, limit: PAGE_SIZE, cursor }),
    [filters, cursor],
  );
  const set = (name: keyof AuditFilters) => (event: Event) =>
    setDraft({ ...draft, [name]: (event.currentTarget as HTMLInputElement).value });

  return (
    <section aria-label="Audit">
      <h3>Audit of overwritten and observed values</h3>
      <p class="hint">
        Each time a run found a night's value differing from its provider's: <em>overwritten</em> when it
        wrote the provider's value (drift above the threshold), <em>observed</em> when it only recorded the
        difference. Nights in date order, each night's records in time order.
      </p>
      <form
        class="filters"
        aria-label="Audit filters"
        onSubmit={(event) => {
          event.preventDefault();
          setCursors([undefined]);
          setFilters(draft);
        }}
      >
        <Field label="Property">
          <input list="audit-properties" required value={draft.propertyId} onInput={set('propertyId')} />
          <datalist id="audit-properties">
            {properties.data?.map((id) => (
              <option key={id} value={id} />
            ))}
          </datalist>
        </Field>
        <Field label="First night">
          <input type="date" required value={draft.from} onInput={set('from')} />
        </Field>
        <Field label="Last night">
          <input type="date" required value={draft.to} onInput={set('to')} />
        </Field>
        <Field label="Action">
          <select value={draft.action} onChange={set('action')}>
            <option value="">overwritten and observed</option>
            <option value="overwritten">overwritten</option>
            <option value="observed">observed</option>
          </select>
        </Field>
        <button type="submit">Show the audit</button>
      </form>
      <ErrorNote error={properties.error ?? page.error} />
      {page.data && page.data.items.length === 0 ? (
        <Empty what={`Reconciliation changed nothing of ${page.data.propertyId} on these nights.`} />
      ) : (
        <table class="audit" aria-label="Audit records">
          <thead>
            <tr>
              <th scope="col">Night</th>
              <th scope="col">Room type</th>
              <th scope="col">Rate plan</th>
              <th scope="col">Channel</th>
              <th scope="col">Group</th>
              <th scope="col">Action</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
              <th scope="col">Recorded at</th>
              <th scope="col">Run</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((entry) => (
              <tr
                key={`${entry.date}|${entry.roomTypeId}|${entry.ratePlanId}|${entry.channel}|${entry.group}|${entry.at}|${entry.runId}`}
              >
                <td>{entry.date}</td>
                <td>{entry.roomTypeId}</td>
                <td>{entry.ratePlanId}</td>
                <td>{entry.channel}</td>
                <td>{entry.group}</td>
                <td>
                  <span class={`status status-${entry.action}`}>{entry.action}</span>
                </td>
                <td>{shown(entry, 'before')}</td>
                <td>{shown(entry, 'after')}</td>
                <td>{time(entry.at)}</td>
                <td>{entry.runId}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="pager">
        {cursors.length > 1 && (
          <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
            Previous page
          </button>
        )}
        {page.data?.nextCursor && (
          <button type="button" onClick={() => setCursors([...cursors, page.data?.nextCursor ?? undefined])}>
            Next page
          </button>
        )}
      </div>
    </section>
  );
}

/** A rate as its amount and currency; availability as rooms; anything else as compact JSON. */
function shown(entry: AuditEntryView, side: 'before' | 'after'): string {
  if (!(side in entry)) return '—';
  const value = entry[side];
  if (typeof value === 'object' && value !== null) {
    const { amountMinor, currency } = value as { amountMinor?: unknown; currency?: unknown };
    if (typeof amountMinor === 'number' && typeof currency === 'string') return money(amountMinor, currency);
    const { rooms } = value as { rooms?: unknown };
    if (typeof rooms === 'number' && Object.keys(value).length === 1) return `${rooms} rooms`;
  }
  return JSON.stringify(value);
}

/** Minor units in the currency's own number of decimals (2 for EUR, 0 for JPY). */
function money(amountMinor: number, currency: string): string {
  try {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency, currencyDisplay: 'code' });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(amountMinor / 10 ** digits);
  } catch {
    return `${amountMinor} ${currency} (minor units)`;
  }
}
