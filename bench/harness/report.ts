import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * One line of the results: a figure, and its ratio to the reference measured in the same run
 * (machines are noisy; ratios are what we track). `target` is the ratio (or, for `max` targets,
 * the figure) the issue sets, when it sets one.
 */
export interface Row {
  scenario: string;
  subject: string;
  figure: number;
  unit: string;
  reference?: { name: string; figure: number };
  ratio?: number;
  target?: { min?: number; max?: number; of: "ratio" | "figure" };
  met?: boolean;
}

export class Report {
  readonly rows: Row[] = [];

  add(row: Omit<Row, "ratio" | "met">): Row {
    const ratio = row.reference ? row.figure / row.reference.figure : undefined;
    const checked = row.target?.of === "figure" ? row.figure : ratio;
    const met = row.target && checked !== undefined ? meets(row.target, checked) : undefined;
    const full: Row = {
      ...row,
      ...(ratio !== undefined ? { ratio } : {}),
      ...(met !== undefined ? { met } : {}),
    };
    this.rows.push(full);
    console.log(`  ${line(full)}`);
    return full;
  }

  print(): void {
    const header = ["scenario", "subject", "figure", "reference", "ratio", "target"];
    const cells = this.rows.map((r) => [
      r.scenario,
      r.subject,
      `${fmt(r.figure)} ${r.unit}`,
      r.reference ? `${r.reference.name} ${fmt(r.reference.figure)}` : "",
      r.ratio !== undefined ? r.ratio.toFixed(2) : "",
      targetText(r),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    const row = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(" | ")} |`;
    console.log(["", row(header), row(widths.map((w) => "-".repeat(w))), ...cells.map(row)].join("\n"));
  }

  write(dir: string, meta: Record<string, unknown>): string {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    const machine = {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memoryBytes: os.totalmem(),
      node: process.version,
    };
    fs.writeFileSync(file, JSON.stringify({ ...meta, machine, rows: this.rows }, null, 2) + "\n");
    return file;
  }
}

function line(r: Row): string {
  const ref = r.reference
    ? ` (${r.reference.name} ${fmt(r.reference.figure)}, ratio ${r.ratio!.toFixed(2)})`
    : "";
  return `${r.scenario} — ${r.subject}: ${fmt(r.figure)} ${r.unit}${ref}${r.met === undefined ? "" : r.met ? " ✓" : " ✗ target " + targetText(r)}`;
}

function targetText(r: Row): string {
  if (!r.target) return "";
  return `${boundText(r.target)}${r.met === undefined ? "" : r.met ? " met" : " MISSED"}`;
}

/** A target in words: "ratio ≥ 0.75", "≤ 256". */
export function boundText(target: NonNullable<Row["target"]>): string {
  const bound = [
    target.min !== undefined ? `≥ ${target.min}` : "",
    target.max !== undefined ? `≤ ${target.max}` : "",
  ]
    .filter(Boolean)
    .join(" ");
  return `${target.of === "figure" ? "" : "ratio "}${bound}`;
}

/** Whether `value` (a ratio or a figure, as the target says) is within the target. */
export function meets(target: NonNullable<Row["target"]>, value: number): boolean {
  return (
    (target.min === undefined || value >= target.min) && (target.max === undefined || value <= target.max)
  );
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}
