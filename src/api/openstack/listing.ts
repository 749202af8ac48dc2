import { invalidArgument } from "../../core/errors.js";
import type { MemberStatus } from "../../core/member.js";
import type { ColumnCondition, SearchSortKey } from "../../core/image-query.js";
import type { SearchImagesInput } from "../../core/images/search-images.js";
import { coreStatusesFor } from "./status.js";
import { VISIBILITIES } from "./schemas.js";
import { GIB } from "../../core/image-sizes.js";
import { ownEntry } from "../../core/own-entry.js";

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 1000;

type Query = Record<string, string | string[] | undefined>;

const SORT_KEYS: Record<string, SearchSortKey> = {
  name: "name",
  status: "status",
  container_format: "container_format",
  disk_format: "disk_format",
  size: "size",
  id: "uuid",
  created_at: "created_at",
  updated_at: "updated_at",
};

const TIME_OPS: Record<string, ColumnCondition["op"]> = {
  gt: ">",
  gte: ">=",
  lt: "<",
  lte: "<=",
  eq: "=",
  neq: "!=",
};

/** The most property and tag filters one list may have (Glance's default quota of tags or properties per image). */
const MAX_FILTERS = 128;

/** Query parameters with a meaning of their own; any other one filters on a custom property. */
const KNOWN = new Set([
  "x_vitrine_kind",
  "x_vitrine_family",
  "x_vitrine_label",
  "x_vitrine_count",
  "limit",
  "marker",
  "sort_key",
  "sort_dir",
  "sort",
  "name",
  "id",
  "status",
  "visibility",
  "owner",
  "member_status",
  "tag",
  "size_min",
  "size_max",
  "disk_format",
  "container_format",
  "protected",
  "os_hidden",
  "created_at",
  "updated_at",
  "size",
  "virtual_size",
  "checksum",
  "os_hash_value",
  "min_ram",
  "min_disk",
  "last_used_at",
  "deprecation_state",
]);

const one = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v[v.length - 1] : v;
const all = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** Parses `GET /v2/images` query parameters the way Glance does, into a core search. */
export function parseListQuery(query: Query): SearchImagesInput {
  const conditions: ColumnCondition[] = [];
  const equalsOrIn = (param: string, column: ColumnCondition["column"], map?: (v: string) => string[]) => {
    const raw = one(query[param]);
    if (raw === undefined) return;
    const values = raw.startsWith("in:") ? splitIn(raw.slice(3)) : [raw];
    conditions.push({ column, op: "in", values: map ? values.flatMap(map) : values });
  };
  // Vitrine's extension: `name=contains:web` finds names holding "web" in any case (the console's
  // search as you type); Glance's own forms (a name, `in:a,b`) work as in Glance.
  const name = one(query.name);
  if (name?.startsWith("contains:")) {
    conditions.push({ column: "name", op: "contains", values: [name.slice("contains:".length)] });
  } else equalsOrIn("name", "name");
  equalsOrIn("id", "uuid");
  equalsOrIn("owner", "folder_id");
  equalsOrIn("disk_format", "disk_format");
  equalsOrIn("container_format", "container_format");
  equalsOrIn("status", "status", (v) => {
    const statuses = coreStatusesFor(v);
    // Glance lists no deleted images: a valid status that matches nothing here.
    if (statuses.length === 0 && v !== "deleted") throw invalidArgument(`Invalid status value: ${v}`);
    return statuses.length > 0 ? statuses : ["-"];
  });
  equalsOrIn("checksum", "checksum_md5");
  equalsOrIn("os_hash_value", "checksum_sha512");
  // Whole numbers, matched exactly like Glance's (min_disk in GiB, stored in bytes here).
  for (const [param, column, scale] of [
    ["size", "size", 1],
    ["virtual_size", "virtual_size", 1],
    ["min_ram", "min_ram", 1],
    ["min_disk", "min_disk_size", GIB],
  ] as const) {
    const raw = one(query[param]);
    if (raw === undefined) continue;
    const values = raw.startsWith("in:") ? splitIn(raw.slice(3)) : [raw];
    for (const v of values) {
      if (!/^\d+$/.test(v)) throw invalidArgument(`${param} must be a non-negative integer, not '${v}'`);
    }
    conditions.push({ column, op: "in", values: values.map((v) => Number(v) * scale) });
  }
  for (const [param, op] of [
    ["size_min", ">="],
    ["size_max", "<="],
  ] as const) {
    const raw = one(query[param]);
    if (raw === undefined) continue;
    if (!/^\d+$/.test(raw)) throw invalidArgument(`${param} must be a non-negative integer, not '${raw}'`);
    conditions.push({ column: "size", op, values: [Number(raw)] });
  }
  for (const param of ["protected", "os_hidden"] as const) {
    const raw = one(query[param]);
    if (raw === undefined) continue;
    // As oslo's bool_from_string: openstacksdk sends Python's "True" (`image show` by name does).
    const value = ownEntry(BOOLEAN_WORDS, raw.trim().toLowerCase());
    if (value === undefined) throw invalidArgument(`Invalid value for ${param}: '${raw}' (true or false)`);
    conditions.push({ column: param, op: "=", values: [value ? 1 : 0] });
  }
  // Hidden images stay out of lists unless asked for (os_hidden=true or false names them).
  if (one(query.os_hidden) === undefined) conditions.push({ column: "os_hidden", op: "=", values: [0] });
  for (const param of ["created_at", "updated_at"] as const) {
    for (const raw of all(query[param])) conditions.push(...timeConditions(param, raw));
  }
  // Vitrine's lifecycle (README "Lifecycle"): unused since (an image never used counts from its
  // creation), and the deprecation state — not stored properties, so not property filters.
  for (const raw of all(query.last_used_at)) conditions.push(...timeConditions("last_used", raw));
  const deprecationState = one(query.deprecation_state);
  if (deprecationState !== undefined) {
    conditions.push({ column: "deprecation_state", op: "=", values: [deprecationState.toUpperCase()] });
  }

  // Vitrine's extensions, named so no custom property can be meant: the Compute/BareMetal kind,
  // the Compute family and one Compute label `key=value` (the console's filters).
  const kind = one(query.x_vitrine_kind);
  if (kind !== undefined) {
    if (kind !== "compute" && kind !== "baremetal") {
      throw invalidArgument(`Invalid x_vitrine_kind value: ${kind} (compute or baremetal)`);
    }
    conditions.push({ column: "kind", op: "in", values: [kind] });
  }
  const family = one(query.x_vitrine_family);
  if (family !== undefined) conditions.push({ column: "family", op: "in", values: [family] });
  const label = one(query.x_vitrine_label);
  if (label !== undefined) {
    const at = label.indexOf("=");
    if (at <= 0) throw invalidArgument(`Invalid x_vitrine_label value: ${label} (key=value)`);
    const pair = `${JSON.stringify(label.slice(0, at))}:${JSON.stringify(label.slice(at + 1))}`;
    conditions.push({ column: "labels", op: "contains", values: [pair] });
  }

  const visibility = one(query.visibility);
  if (
    visibility !== undefined &&
    visibility !== "all" &&
    !(VISIBILITIES as readonly string[]).includes(visibility)
  ) {
    throw invalidArgument(`Invalid visibility value: ${visibility}`);
  }
  const memberStatus = one(query.member_status) ?? "accepted";
  if (!["pending", "accepted", "rejected", "all"].includes(memberStatus)) {
    throw invalidArgument(`Invalid status value: ${memberStatus}`);
  }

  const properties: { name: string; value: string }[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (!KNOWN.has(name)) properties.push({ name, value: one(value) ?? "" });
  }
  // Each filter is a join or a subquery: bounded like an image's own tags and properties.
  const tags = all(query.tag);
  if (properties.length + tags.length > MAX_FILTERS) {
    throw invalidArgument(
      `Too many filters: ${properties.length} property and ${tags.length} tag filters, at most ${MAX_FILTERS} in all.`,
    );
  }

  return {
    visibility: (visibility ?? null) as SearchImagesInput["visibility"],
    memberStatus: memberStatus as MemberStatus | "all",
    conditions,
    tags,
    properties,
    sort: parseSort(query),
    marker: one(query.marker) ?? null,
    limit: parseLimit(one(query.limit)),
    // Vitrine's extension: the list also says how many images match (the console's count).
    count: one(query.x_vitrine_count) === "true",
  };
}

export function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  if (!/^-?\d+$/.test(raw)) throw invalidArgument("limit param must be an integer");
  const n = Number(raw);
  if (n < 0) throw invalidArgument("limit param must be positive");
  return Math.min(n, MAX_LIMIT);
}

/** A sort key Glance-style: one of `keys`' names (own entries only), or 400 listing them. */
export function parseSortKey<V extends string>(keys: Readonly<Record<string, V>>, raw: string): V {
  const key = ownEntry(keys, raw);
  if (key === undefined) {
    throw invalidArgument(
      `Invalid sort key: ${raw}. It must be one of the following: ${Object.keys(keys).join(", ")}.`,
    );
  }
  return key;
}

/** `asc` or `desc`; `fallback` when left out or empty. */
export function parseSortDir(raw: string | undefined, fallback: "asc" | "desc"): "asc" | "desc" {
  if (raw === undefined || raw === "") return fallback;
  if (raw !== "asc" && raw !== "desc") throw invalidArgument(`Invalid sort direction: ${raw}`);
  return raw;
}

/** `sort=key:dir,...` or repeated `sort_key`/`sort_dir` (not both); default newest first. */
function parseSort(query: Query): SearchImagesInput["sort"] {
  const sortKey = (raw: string): SearchSortKey => parseSortKey(SORT_KEYS, raw);
  const sortDir = (raw: string | undefined) => parseSortDir(raw, "desc");
  const sort = one(query.sort);
  const keys = all(query.sort_key);
  const dirs = all(query.sort_dir);
  if (sort !== undefined) {
    if (keys.length > 0 || dirs.length > 0) {
      throw invalidArgument("The sort param cannot be combined with sort_key or sort_dir.");
    }
    return sort.split(",").map((part) => {
      const [k = "", d] = part.split(":");
      return { key: sortKey(k.trim()), dir: sortDir(d?.trim()) };
    });
  }
  if (dirs.length > 1 && dirs.length !== keys.length) {
    throw invalidArgument("The number of sort_dir values must match the number of sort_key values.");
  }
  if (keys.length === 0) return [{ key: "created_at", dir: sortDir(dirs[0]) }];
  return keys.map((k, i) => ({ key: sortKey(k), dir: sortDir(dirs[i] ?? dirs[0]) }));
}

function timeConditions(column: "created_at" | "updated_at" | "last_used", raw: string): ColumnCondition[] {
  const m = /^(?:(gt|gte|lt|lte|eq|neq):)?(.+)$/.exec(raw);
  const when = m ? Date.parse(m[2]!) : NaN;
  if (!m || Number.isNaN(when)) {
    throw invalidArgument(`Invalid ${column} filter '${raw}': use [gt|gte|lt|lte|eq|neq:]<ISO 8601 time>`);
  }
  // Stored times have milliseconds, shown ones whole seconds: compare at the shown precision.
  const op = TIME_OPS[m[1] ?? "eq"]!;
  const second = Math.floor(when / 1000) * 1000;
  const next = second + 1000;
  if (op === "=")
    return [
      { column, op: ">=", values: [second] },
      { column, op: "<", values: [next] },
    ];
  if (op === ">") return [{ column, op: ">=", values: [next] }];
  if (op === "<=") return [{ column, op: "<", values: [next] }];
  return [{ column, op, values: [second] }];
}

/** `in:` lists: comma separated, values with commas in double quotes. */
function splitIn(raw: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < raw.length && (m = re.exec(raw)) !== null) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]!.trim());
    if (m[0] === "") break;
  }
  return out.filter((v) => v !== "");
}

const BOOLEAN_WORDS: Record<string, boolean> = {
  "1": true,
  t: true,
  true: true,
  on: true,
  y: true,
  yes: true,
  "0": false,
  f: false,
  false: false,
  off: false,
  n: false,
  no: false,
};
