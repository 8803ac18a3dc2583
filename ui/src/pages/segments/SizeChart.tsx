// A segment's size by day: one bar a day for the days the sweep refreshed it (gaps where it
// did not), drawn as SVG with the numbers also in a list for screen readers.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { describe } from "../../api/problem";

export interface DaySize {
  day: string;
  size: number;
}

const WIDTH = 300;
const HEIGHT = 64;

/** Each day from the first to the last as a bar's x, height and label; days without a size
 * are left out, so a gap shows where the segment was not refreshed. */
export function bars(history: DaySize[]): { x: number; height: number; width: number; label: string }[] {
  if (history.length === 0) return [];
  const start = Date.parse(`${history[0]!.day}T00:00:00Z`);
  const end = Date.parse(`${history[history.length - 1]!.day}T00:00:00Z`);
  const days = Math.round((end - start) / 86_400_000) + 1;
  const width = WIDTH / days;
  const top = Math.max(...history.map((d) => d.size), 1);
  return history.map((d) => {
    const i = Math.round((Date.parse(`${d.day}T00:00:00Z`) - start) / 86_400_000);
    return { x: i * width, width: Math.max(width - 1, 1), height: Math.max((d.size / top) * HEIGHT, d.size > 0 ? 1 : 0), label: `${d.day}: ${d.size}` };
  });
}

export function SizeChartView({ history }: { history: DaySize[] }) {
  if (history.length < 2) {
    return <p className="muted small">The size is kept once a day as the segment is refreshed; the chart fills in from tomorrow.</p>;
  }
  const drawn = bars(history);
  return (
    <figure className="size-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" height={HEIGHT} role="img" aria-label="Size by day">
        {drawn.map((b) => (
          <rect key={b.label} x={b.x} y={HEIGHT - b.height} width={b.width} height={b.height} className="size-chart__bar">
            <title>{b.label}</title>
          </rect>
        ))}
      </svg>
      <figcaption className="muted small">
        {history[0]!.day}: {history[0]!.size.toLocaleString()} → {history[history.length - 1]!.day}: {history[history.length - 1]!.size.toLocaleString()}
      </figcaption>
    </figure>
  );
}

export function SizeChart({ segmentKey }: { segmentKey: string }) {
  const found = useQuery({
    queryKey: ["segment-history", segmentKey],
    queryFn: () => unwrap(api.GET("/api/segments/{key}", { params: { path: { key: segmentKey }, query: { limit: 1 } } })),
  });
  return (
    <section className="card" aria-label="Size over time">
      <h2 className="card__title">Size over time</h2>
      {found.isError && <p className="form__problem">{describe(found.error)}</p>}
      {found.data && <SizeChartView history={found.data.history} />}
    </section>
  );
}
