import cliProgress from "cli-progress";
import { humanBytes } from "./client/output.js";

/** A byte count as it grows: a bar with bytes, speed and time left on a terminal, nothing otherwise. */
export interface ByteProgress {
  /** The bytes done so far (and the total, once known or when it changes). */
  update(bytesDone: number, bytesTotal?: number | null): void;
  /** Says something on a line of its own above the bar, which goes on below it. */
  note(line: string): void;
  stop(): void;
}

const SILENT: ByteProgress = {
  update: () => undefined,
  note: (line) => void process.stderr.write(`${line}\n`),
  stop: () => undefined,
};

/**
 * A progress bar on stderr when it is a terminal (so piped output stays clean). Without a known
 * total it shows bytes and speed only.
 */
export function byteProgress(
  label: string,
  total: number | null,
  show = process.stderr.isTTY === true,
): ByteProgress {
  if (!show) return SILENT;
  let known = total;
  // Speed over the last seconds' samples: a bar that starts on work already done (a resumed
  // wait) or that slows down shows the rate now, not the average since it appeared.
  const samples: { at: number; done: number }[] = [];
  const bar = new cliProgress.SingleBar(
    {
      format: (options, params, payload: { done: string; total: string; speed: string; left: string }) => {
        const width = options.barsize ?? 30;
        const filled = known ? Math.round(params.progress * width) : 0;
        const gauge = known
          ? `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${Math.floor(params.progress * 100)}% `
          : "";
        return `${label} ${gauge}${payload.done}${known ? ` / ${payload.total}` : ""} | ${payload.speed}/s${known ? ` | ${payload.left} left` : ""}`;
      },
      hideCursor: true,
      stream: process.stderr,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = (done: number, sample = true) => {
    const now = Date.now();
    if (sample) samples.push({ at: now, done });
    while (samples.length > 2 && now - samples[0]!.at > SPEED_WINDOW_MS) samples.shift();
    const first = samples[0] ?? { at: now, done };
    const seconds = (now - first.at) / 1000;
    const speed = seconds > 0 ? Math.max(0, done - first.done) / seconds : 0;
    const left = known && speed > 0 ? Math.max(0, (known - done) / speed) : 0;
    return {
      done: humanBytes(done),
      total: known ? humanBytes(known) : "",
      speed: humanBytes(speed),
      left: formatSeconds(left),
    };
  };
  // The first update is the first sample: the bar may start on work already done.
  bar.start(known ?? 1, 0, payload(0, false));
  let last = 0;
  return {
    update(done, newTotal) {
      if (newTotal !== undefined && newTotal !== known) {
        known = newTotal;
        bar.setTotal(known ?? 1);
      }
      last = done;
      bar.update(known ? Math.min(done, known) : 0, payload(done));
    },
    note(line) {
      // Written between the bar's redraws, the line would be drawn over: the bar ends where it
      // is, the line follows, and the bar starts again below it.
      bar.stop();
      process.stderr.write(`${line}\n`);
      bar.start(known ?? 1, known ? Math.min(last, known) : 0, payload(last, false));
    },
    stop() {
      bar.stop();
    },
  };
}

/** How far back the speed looks. */
const SPEED_WINDOW_MS = 5000;

function formatSeconds(s: number): string {
  const whole = Math.ceil(s);
  if (whole < 60) return `${whole}s`;
  const m = Math.floor(whole / 60);
  return m < 60
    ? `${m}m${String(whole % 60).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
