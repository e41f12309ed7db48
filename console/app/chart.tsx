import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  readonly label: string;
  readonly colour: string;
  readonly values: readonly number[];
}

/** A uPlot line chart of series over the same instants (seconds since the epoch); `unit` names the y axis. */
export function LineChart({
  title,
  times,
  series,
  unit = 'deliveries',
}: {
  title: string;
  times: readonly number[];
  series: readonly Series[];
  unit?: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const plot = new uPlot(
      {
        title,
        width: Math.max(element.clientWidth, 400),
        height: 260,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.colour, width: 2 }))],
        axes: [{}, { label: unit }],
      },
      [[...times], ...series.map((s) => [...s.values])],
      element,
    );
    return () => plot.destroy();
  }, [title, times, series, unit]);
  return <div class="chart" ref={host} role="img" aria-label={title} />;
}
