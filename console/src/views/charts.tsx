import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
} from "chart.js";
import { useEffect, useRef } from "preact/hooks";

// Only what the overview draws: bars (and a line over them), two scales, a legend, tooltips.
Chart.register(
  BarController,
  BarElement,
  LineController,
  LineElement,
  PointElement,
  CategoryScale,
  LinearScale,
  Legend,
  Tooltip,
);

/** One series: its name, values (one per label), and how it is drawn. */
export interface Series {
  label: string;
  values: number[];
  color: string;
  /** Drawn as a line on the right-hand axis (e.g. bytes beside counts). */
  line?: boolean;
  /** Stacked with the other stacked series. */
  stack?: string;
}

/**
 * A chart (Chart.js, bundled by the build: no CDN) with its figures also said in words for
 * screen readers (`summary`), since a canvas says nothing by itself.
 */
export function BarChart({
  title,
  labels,
  series,
  summary,
  formatRight,
}: {
  title: string;
  labels: string[];
  series: Series[];
  summary: string;
  /** How the right-hand axis's values read (bytes). */
  formatRight?: (value: number) => string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels,
        datasets: series.map((s) => ({
          type: s.line ? ("line" as const) : ("bar" as const),
          label: s.label,
          data: s.values,
          backgroundColor: s.color,
          borderColor: s.color,
          yAxisID: s.line ? "right" : "left",
          ...(s.stack ? { stack: s.stack } : {}),
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: series.some((s) => s.stack) },
          left: {
            position: "left",
            beginAtZero: true,
            stacked: series.some((s) => s.stack),
            ticks: { precision: 0 },
          },
          ...(series.some((s) => s.line)
            ? {
                right: {
                  position: "right" as const,
                  beginAtZero: true,
                  grid: { drawOnChartArea: false },
                  ticks: {
                    callback: (v: string | number) => (formatRight ? formatRight(Number(v)) : String(v)),
                  },
                },
              }
            : {}),
        },
      },
    });
    return () => chart.destroy();
  }, [JSON.stringify(labels), JSON.stringify(series)]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div class="chart-box">
        <canvas ref={canvas} role="img" aria-label={`${title}: ${summary}`} />
      </div>
      <p class="chart-summary">{summary}</p>
    </figure>
  );
}
