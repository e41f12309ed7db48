import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  readonly label: string;
  readonly colour: string;
  readonly values: readonly number[];
}

/** A uPlot line chart of series over the same instants (seconds since the epoch). */
export function LineChart({
  title,
  times,
  series,
}: {
  title: string;
  times: readonly number[];
  series: readonly Series[];
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
        axes: [{}, { label: 'deliveries' }],
      },
      [[...times], ...series.map((s) => [...s.values])],
      element,
    );
    return () => plot.destroy();
  }, [title, times, series]);
  return <div class="chart" ref={host} role="img" aria-label={title} />;
}
