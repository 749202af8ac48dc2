const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Bytes for people: "10 GiB", "1.50 MiB"; empty for unknown. */
export function bytes(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "";
  let n = Number(value);
  if (!Number.isFinite(n)) return "";
  let unit = 0;
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024;
    unit++;
  }
  const digits = unit === 0 || Number.isInteger(n) ? 0 : n < 10 ? 2 : 1;
  return `${n.toFixed(digits)} ${UNITS[unit]}`;
}

/** A timestamp in the reader's locale, to the minute. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** "12 s", "3 min 5 s": how long something will still take. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Progress in words: "12.0 MiB of 100 MiB · 40.0 MiB/s · 3 s left". */
export function progressText(done: number, total: number | null, seconds: number, from = 0): string {
  // Speed counts what moved in those seconds: a resumed upload starts from what was stored.
  const speed = seconds > 0 ? (done - from) / seconds : 0;
  const parts = [total ? `${bytes(done)} of ${bytes(total)}` : bytes(done)];
  if (speed > 0) parts.push(`${bytes(speed)}/s`);
  if (total && speed > 0) parts.push(`${duration((total - done) / speed)} left`);
  return parts.join(" · ");
}

/** What the service is doing, by the operation's progress stage. */
export const STAGES: Record<string, string> = {
  "": "Importing…",
  converting: "Converting…",
  verifying: "Checking the converted image…",
};
