import { useEffect, useState } from 'preact/hooks';
import type { ParityNightView } from '../../../lambdas/read/wire';
import { allPages, api } from '../api';
import { addDays, Empty, ErrorNote, Field, Section, today, useLoad } from '../ui';

const DAYS = 30;

interface Cell {
  /** The largest deviation from the source of truth that night on that channel, in percent (absolute). */
  readonly percent: number;
  readonly findings: number;
}

export function ParityView({ property }: { property: string | undefined }) {
  const properties = useLoad(
    async () => (await api.parityProperties()).items.map((item) => item.propertyId),
    [],
  );
  const [propertyId, setPropertyId] = useState(property ?? '');
  const [from, setFrom] = useState(today());
  const [night, setNight] = useState<string | undefined>();
  useEffect(() => {
    const first = properties.data?.[0];
    if (propertyId === '' && first !== undefined) setPropertyId(first);
  }, [properties.data, propertyId]);
  const to = addDays(from, DAYS - 1);
  const nights = useLoad(
    () =>
      propertyId === ''
        ? Promise.resolve([] as ParityNightView[])
        : allPages(async (cursor) => {
            const page = await api.parity({ propertyId, from, to, limit: 500, cursor });
            return { items: page.nights, nextCursor: page.nextCursor };
          }),
    [propertyId, from],
  );

  const channels = [...new Set((nights.data ?? []).flatMap((n) => n.findings.map((f) => f.channel)))].sort();
  const cells = new Map<string, Cell>();
  for (const record of nights.data ?? []) {
    for (const finding of record.findings) {
      const key = `${record.date}|${finding.channel}`;
      const percent = Math.abs(finding.percent ?? 100);
      const previous = cells.get(key);
      cells.set(key, {
        percent: Math.max(percent, previous?.percent ?? 0),
        findings: (previous?.findings ?? 0) + 1,
      });
    }
  }
  const dates = Array.from({ length: DAYS }, (_, index) => addDays(from, index));

  return (
    <div class="split">
      <Section title="Parity">
        <form class="filters" aria-label="Parity filters" onSubmit={(event) => event.preventDefault()}>
          <Field label="Property">
            <input
              list="known-properties"
              value={propertyId}
              onChange={(event) => setPropertyId(event.currentTarget.value)}
            />
            <datalist id="known-properties">
              {properties.data?.map((id) => (
                <option key={id} value={id} />
              ))}
            </datalist>
          </Field>
          <Field label="First night">
            <input type="date" value={from} onChange={(event) => setFrom(event.currentTarget.value)} />
          </Field>
        </form>
        <ErrorNote error={properties.error ?? nights.error} />
        <p class="hint">
          Nights {from} to {to}; each cell is coloured by the largest deviation of that channel's rate from
          the source of truth, over the property's room types and rate plans. A night opens its rates.
        </p>
        {nights.data && channels.length === 0 ? (
          <Empty what="No parity violation in these nights." />
        ) : (
          <table class="heatmap" aria-label={`Parity of ${propertyId} by night and channel`}>
            <thead>
              <tr>
                <th scope="col">Night</th>
                {channels.map((channel) => (
                  <th key={channel} scope="col">
                    {channel}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {dates.map((date) => (
                <tr key={date} class={date === night ? 'chosen' : ''}>
                  <th scope="row">
                    <button type="button" class="link" onClick={() => setNight(date)}>
                      {date}
                    </button>
                  </th>
                  {channels.map((channel) => {
                    const cell = cells.get(`${date}|${channel}`);
                    return (
                      <td
                        key={channel}
                        data-night={date}
                        data-channel={channel}
                        data-deviation={cell ? cell.percent.toFixed(2) : '0'}
                        style={{ background: colour(cell?.percent ?? 0) }}
                        title={
                          cell
                            ? `${cell.findings} finding(s), up to ${cell.percent.toFixed(2)} %`
                            : 'at parity'
                        }
                      >
                        {cell ? `${cell.percent.toFixed(1)} %` : ''}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="legend">
          <span style={{ background: colour(0) }}>at parity</span>
          <span style={{ background: colour(2) }}>2 %</span>
          <span style={{ background: colour(5) }}>5 %</span>
          <span style={{ background: colour(10) }}>10 % or more</span>
        </p>
      </Section>
      {night !== undefined && propertyId !== '' && (
        <NightRates propertyId={propertyId} date={night} records={nights.data ?? []} />
      )}
    </div>
  );
}

/** White at parity, towards red at 10 % and beyond. */
function colour(percent: number): string {
  if (percent <= 0) return '#f4f7f4';
  const share = Math.min(percent / 10, 1);
  return `hsl(${Math.round(40 - 40 * share)}, 90%, ${Math.round(85 - 35 * share)}%)`;
}

function NightRates({
  propertyId,
  date,
  records,
}: {
  propertyId: string;
  date: string;
  records: readonly ParityNightView[];
}) {
  const rates = useLoad(
    () => allPages((cursor) => api.ari(propertyId, { from: date, to: date, limit: 500, cursor })),
    [propertyId, date],
  );
  const findings = records.filter((record) => record.date === date);
  return (
    <aside class="detail" aria-label={`Rates of ${date}`}>
      <h2>
        {propertyId}, night of {date}
      </h2>
      <ErrorNote error={rates.error} />
      <h3>Rates per channel</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Channel</th>
            <th scope="col">Room type</th>
            <th scope="col">Rate plan</th>
            <th scope="col">Rate</th>
          </tr>
        </thead>
        <tbody>
          {rates.data?.map((row) => (
            <tr key={`${row.channel}|${row.roomTypeId}|${row.ratePlanId}`}>
              <td>{row.channel}</td>
              <td>{row.roomTypeId}</td>
              <td>{row.ratePlanId}</td>
              <td>{row.rate ? `${row.rate.amount} ${row.rate.currency}` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Findings</h3>
      {findings.length === 0 ? (
        <Empty what="At parity on every channel." />
      ) : (
        <ul>
          {findings.flatMap((record) =>
            record.findings.map((finding) => (
              <li key={`${record.roomTypeId}|${record.ratePlanId}|${finding.channel}`}>
                {record.roomTypeId}/{record.ratePlanId}: {finding.channel} {finding.channelRate.amount}{' '}
                {finding.channelRate.currency} against {finding.truthChannel} {finding.truthRate.amount}
                {finding.difference
                  ? ` (${finding.difference.amount}, ${finding.percent?.toFixed(2)} %)`
                  : ''}{' '}
                — {finding.kind}
              </li>
            )),
          )}
        </ul>
      )}
    </aside>
  );
}
