/**
 * Several benchmark runs as one table: per row the median figure and ratio and their spread
 * (min–max), and whether the median meets the target. The machine is noisy; one run proves
 * little. Run: `npm run bench:summary -- bench/results/a.json bench/results/b.json ...`
 * (without files: the three newest results of the same command).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Row, boundText, fmt, meets } from "./harness/report.js";

interface Result {
  command: string;
  at: string;
  rows: Row[];
}

const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");
const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : newestOfOneCommand(3);
const runs = files.map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as Result);
console.log(`${runs.length} runs: ${files.map((f) => path.basename(f)).join(", ")}`);

// A figure may be compared with several references in one run (upload: the hash speed and the
// plain writer): each pairing is its own row.
const keyOf = (r: Row) => `${r.scenario}\u0000${r.subject}\u0000${r.reference?.name ?? ""}`;
const byKey = new Map<string, Row[]>();
for (const run of runs) {
  for (const row of run.rows) byKey.set(keyOf(row), [...(byKey.get(keyOf(row)) ?? []), row]);
}

const header = ["scenario", "subject", "median (min–max)", "reference", "ratio median (min–max)", "target"];
const cells = [...byKey.values()].map((rows) => {
  const first = rows[0]!;
  const figures = rows.map((r) => r.figure);
  const ratios = rows.flatMap((r) => (r.ratio === undefined ? [] : [r.ratio]));
  const checked = first.target?.of === "figure" ? median(figures) : median(ratios);
  const met = first.target && checked !== undefined ? meets(first.target, checked) : undefined;
  return [
    first.scenario,
    first.subject,
    `${spread(figures, fmt)} ${first.unit}${rows.length < runs.length ? ` (${rows.length} runs)` : ""}`,
    first.reference
      ? `${first.reference.name} ${spread(
          rows.map((r) => r.reference!.figure),
          fmt,
        )}`
      : "",
    ratios.length > 0 ? spread(ratios, (n) => n.toFixed(2)) : "",
    first.target ? `${boundText(first.target)}${met === undefined ? "" : met ? " met" : " MISSED"}` : "",
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(" | ")} |`;
console.log([line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n"));

function newestOfOneCommand(count: number): string[] {
  const all = fs
    .readdirSync(resultsDir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => path.join(resultsDir, f));
  const newest = all.at(-1);
  if (!newest) throw new Error(`no results in ${resultsDir}`);
  const command = (JSON.parse(fs.readFileSync(newest, "utf8")) as Result).command;
  return all
    .filter((f) => (JSON.parse(fs.readFileSync(f, "utf8")) as Result).command === command)
    .slice(-count);
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function spread(values: number[], format: (n: number) => string): string {
  const sorted = [...values].sort((a, b) => a - b);
  const m = format(median(sorted)!);
  return sorted.length > 1 ? `${m} (${format(sorted[0]!)}–${format(sorted.at(-1)!)})` : m;
}
