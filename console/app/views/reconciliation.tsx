import { useEffect, useState } from 'preact/hooks';
import type { AuditEntryView } from '../../../lambdas/read/wire';
import { api } from '../api';
import { addDays, Empty, ErrorNote, Field, Section, time, today, useLoad } from '../ui';

const PAGE_SIZE = 100;
const DEFAULT_NIGHTS = 30;

/**
 * Reconciliation as the read API shows it, one panel per question: the audit answers "what did reconciliation
 * change on these nights, and from what to what?". Each panel loads on its own, so that another (runs of a
 * source, say) takes its place beside it without touching this one.
 */
export function ReconciliationView() {
  return (
    <Section title="Reconciliation">
      <p class="hint">
        Run one now with <code>paritysync reconcile</code>; its parity findings show under{' '}
        <a href="#/parity">Parity</a>.
      </p>
      <div class="panels">
        <AuditPanel />
      </div>
    </Section>
  );
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
