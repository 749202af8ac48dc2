import Table from "cli-table3";
import YAML from "yaml";
import { UsageError } from "./exit-codes.js";
import type { Json } from "./api-client.js";

/** `text` (yc's name) and `table` are the same view for people. */
export const FORMATS = ["text", "table", "json", "yaml"] as const;
export type Format = (typeof FORMATS)[number];

/** Table for a person at a terminal, JSON for a pipe or a script (`--format` overrides). */
export function outputFormat(flag: string | undefined, stdoutIsTty = process.stdout.isTTY === true): Format {
  if (flag === undefined) return stdoutIsTty ? "table" : "json";
  if (!(FORMATS as readonly string[]).includes(flag)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, not ${flag}`);
  }
  return flag === "text" ? "table" : (flag as Format);
}

/** A column of a list table: its heading and how a row shows in it. */
export interface Column {
  heading: string;
  cell(item: Json): string;
}

/** No rule between rows: a list reads like `yc`'s. */
const COMPACT = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" };

/**
 * Prints a list: a table with `columns` that fits the terminal (80 columns when it is not one;
 * the widest cells are cut with "…"), or the items themselves as JSON/YAML.
 */
export function printList(
  items: Json[],
  columns: Column[],
  format: Format,
  width = process.stdout.columns || 80,
): void {
  if (format !== "table") return printValue(items, format);
  const rows = items.map((item) => columns.map((c) => c.cell(item)));
  const widths = fitWidths(
    columns.map((c, i) => Math.max(c.heading.length, ...rows.map((r) => r[i]!.length))),
    width,
  );
  const table = new Table({
    head: columns.map((c) => c.heading),
    style: { head: [], border: [], "padding-left": 1, "padding-right": 1 },
    chars: COMPACT,
    colWidths: widths.map((w) => w + 2),
  });
  for (const row of rows) table.push(row.map((cell, i) => cut(cell, widths[i]!)));
  process.stdout.write(`${table.toString()}\n`);
}

/**
 * Column widths (contents only) that fit `width` with the borders: narrow columns keep theirs
 * (ids, statuses, dates), the wide ones share what is left (never under 8: then the terminal wraps).
 */
export function fitWidths(wanted: number[], width: number): number[] {
  const widths = [...wanted];
  let available = width - (widths.length * 3 + 1);
  let remaining = widths.length;
  for (const i of wanted.map((_, i) => i).sort((a, b) => wanted[a]! - wanted[b]!)) {
    widths[i] = Math.min(wanted[i]!, Math.max(8, Math.floor(available / remaining)));
    available -= widths[i]!;
    remaining--;
  }
  return widths;
}

const cut = (text: string, width: number): string =>
  text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;

/** Prints one resource: field per line in a table, or the resource as JSON/YAML. */
export function printValue(value: unknown, format: Format): void {
  if (format === "json") process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else if (format === "yaml") process.stdout.write(YAML.stringify(snakeKeys(value)));
  else {
    const fields = Object.entries(flatten(value as Json));
    if (fields.length === 0) return;
    const table = new Table({ style: { head: [], border: [] }, chars: COMPACT });
    for (const [key, v] of fields) table.push({ [key]: v });
    process.stdout.write(`${table.toString()}\n`);
  }
}

/** Nested fields as dotted keys ("os.type"), for the two-column view; empty ones are left out. */
function flatten(value: Json, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = prefix + key;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      Object.assign(out, flatten(v as Json, `${name}.`));
    } else if (Array.isArray(v)) {
      if (v.length > 0) out[name] = v.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(", ");
    } else out[name] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

/** Maps whose keys are the user's data, not field names: kept as written. */
const USER_MAPS = new Set(["labels"]);

/** Field names in snake_case, as `yc --format yaml` prints them (folderId → folder_id). */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k.startsWith("@") ? k : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      USER_MAPS.has(k) ? v : snakeKeys(v),
    ]),
  );
}

/** An ISO 8601 time as a table shows it: "2026-12-02 09:14:27" (UTC), or to the minute. */
export function tableTime(iso: unknown, to: "minute" | "second" = "second"): string {
  const shown = String(iso ?? "")
    .replace("T", " ")
    .replace(/(\.\d+)?Z$/, "");
  return to === "minute" ? shown.slice(0, 16) : shown;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Bytes for people: "10 GiB", "1.5 MiB". */
export function humanBytes(bytes: number): string {
  let unit = 0;
  let n = bytes;
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024;
    unit++;
  }
  const digits = unit === 0 || Number.isInteger(n) ? 0 : n < 10 ? 2 : 1;
  return `${n.toFixed(digits)} ${UNITS[unit]}`;
}

const MULTIPLIER: Record<string, number> = {
  "": 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
  P: 1024 ** 5,
};

/**
 * A size as people write it: "10G", "10GB", "10GiB", "512M", "1.5T" or plain bytes. As in `yc`,
 * the units are binary (a G is 2^30 bytes: what a disk size in Compute means).
 */
export function parseBytes(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) throw new UsageError(`${flag}: ${text} is not a size (e.g. 10G, 512MB, 1073741824)`);
  const bytes = Number(m[1]) * MULTIPLIER[m[2]!.toUpperCase()]!;
  if (!Number.isSafeInteger(Math.round(bytes))) throw new UsageError(`${flag}: ${text} is too large`);
  return Math.round(bytes);
}

/** "k=v,k2=v2" into labels; "" clears them. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(",").filter((p) => p.trim() !== "")) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--labels: ${pair} is not key=value`);
    labels[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return labels;
}
