import { invalidArgument } from "../../core/errors.js";
import type { ImageOrderField } from "../../core/image-query.js";
import { IMAGE_ORDER_FIELDS, type ListImagesQuery } from "./schemas.js";
import { Rules } from "./validation.js";
import { ownEntry } from "../../core/own-entry.js";

/**
 * List request helpers shared by the Yandex dialects: page sizes, `orderBy` and the `filter`
 * grammar `<field> <op> <value> [AND ...]` with ops =, !=, IN, NOT IN (and `:` for substring
 * where a dialect allows it), values in single or double quotes with C-style escapes.
 */
export function parsePageSize(raw: string | undefined, fallback: number, max = 1000): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) {
    throw invalidArgument(`pageSize: must be an integer from 0 to ${max}`, [
      { field: "pageSize", description: `must be an integer from 0 to ${max}` },
    ]);
  }
  return n === 0 ? fallback : n;
}

export interface OrderBy<F extends string> {
  field: F;
  dir: "asc" | "desc";
}

/** Parses "field [asc|desc]", with field names in camelCase or snake_case, mapped through `fields`. */
export function parseOrderBy<F extends string>(
  raw: string | undefined,
  fields: Record<string, F>,
  fallback: OrderBy<F>,
): OrderBy<F> {
  if (raw === undefined || raw.trim() === "") return fallback;
  const m = /^\s*([A-Za-z_]+)(?:\s+(asc|desc))?\s*$/i.exec(raw);
  const field = m ? ownEntry(fields, m[1]!) : undefined;
  if (!m || !field) {
    const allowed = [...new Set(Object.keys(fields))].join(", ");
    throw invalidArgument(`orderBy: must be one of ${allowed}, optionally followed by asc or desc`, [
      { field: "orderBy", description: `must be one of ${allowed}, optionally followed by asc or desc` },
    ]);
  }
  return { field, dir: (m[2]?.toLowerCase() as "asc" | "desc" | undefined) ?? "asc" };
}

export type FilterOp = "=" | "!=" | "IN" | "NOT IN" | ":" | "<" | ">=";

export interface FilterTerm {
  field: string;
  op: FilterOp;
  values: string[];
}

/** Parses a filter expression into terms; throws INVALID_ARGUMENT naming the position of a mistake. */
export function parseFilter(raw: string | undefined, allowedOps: readonly FilterOp[]): FilterTerm[] {
  if (raw === undefined || raw.trim() === "") return [];
  const lexer = new Lexer(raw);
  const terms: FilterTerm[] = [];
  for (;;) {
    const field = lexer.identifier();
    const op = lexer.operator();
    if (!allowedOps.includes(op)) lexer.fail(`operator ${op} is not supported here`);
    let values: string[];
    if (op === "IN" || op === "NOT IN") {
      lexer.expect("(");
      values = [lexer.string()];
      while (lexer.tryConsume(",")) values.push(lexer.string());
      lexer.expect(")");
    } else {
      values = [lexer.string()];
    }
    terms.push({ field, op, values });
    if (lexer.atEnd()) return terms;
    if (!lexer.keyword("AND")) lexer.fail("expected AND");
  }
}

class Lexer {
  private pos = 0;
  constructor(private readonly src: string) {}

  fail(what: string): never {
    throw invalidArgument(`filter: ${what} at position ${this.pos + 1}`, [
      { field: "filter", description: `${what} at position ${this.pos + 1}` },
    ]);
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.src.length;
  }

  identifier(): string {
    this.skipSpace();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail("expected a field name");
    this.pos += m[0].length;
    return m[0];
  }

  keyword(word: string): boolean {
    this.skipSpace();
    const m = new RegExp(`^${word}(?![A-Za-z0-9_])`, "i").exec(this.src.slice(this.pos));
    if (!m) return false;
    this.pos += m[0].length;
    return true;
  }

  operator(): FilterOp {
    this.skipSpace();
    const rest = this.src.slice(this.pos);
    if (rest.startsWith("!=")) return this.take(2, "!=");
    if (rest.startsWith(">=")) return this.take(2, ">=");
    if (rest.startsWith("<")) return this.take(1, "<");
    if (rest.startsWith("=")) return this.take(1, "=");
    if (rest.startsWith(":")) return this.take(1, ":");
    if (this.keyword("IN")) return "IN";
    if (this.keyword("NOT")) {
      if (this.keyword("IN")) return "NOT IN";
      this.fail("expected IN after NOT");
    }
    this.fail("expected an operator (=, !=, IN, NOT IN)");
  }

  private take<T>(n: number, value: T): T {
    this.pos += n;
    return value;
  }

  expect(ch: string): void {
    if (!this.tryConsume(ch)) this.fail(`expected "${ch}"`);
  }

  tryConsume(ch: string): boolean {
    this.skipSpace();
    if (this.src[this.pos] !== ch) return false;
    this.pos++;
    return true;
  }

  string(): string {
    this.skipSpace();
    const quote = this.src[this.pos];
    if (quote !== '"' && quote !== "'") this.fail("expected a quoted value");
    let out = "";
    for (this.pos++; this.pos < this.src.length; this.pos++) {
      const c = this.src[this.pos]!;
      if (c === "\\") {
        const next = this.src[++this.pos];
        if (next === undefined) break;
        out += next === "n" ? "\n" : next === "t" ? "\t" : next;
      } else if (c === quote) {
        this.pos++;
        return out;
      } else {
        out += c;
      }
    }
    this.fail("unterminated string");
  }
}

/** A page request (`pageSize`, `pageToken`, in either JSON or proto field names), checked. */
export function readPage(
  q: { pageSize?: string; page_size?: string; pageToken?: string; page_token?: string },
  defaultPageSize: number,
): { pageSize: number; pageToken: string } {
  const pageToken = q.pageToken ?? q.page_token ?? "";
  new Rules().maxLength("pageToken", pageToken, 100).check();
  return { pageSize: parsePageSize(q.pageSize ?? q.page_size, defaultPageSize), pageToken };
}

/**
 * The prelude of every Yandex images list: the folder (required), a page, the order (by id
 * unless asked) and the filter terms with the operators the dialect allows.
 */
export function readImageListRequest(
  q: ListImagesQuery,
  opts: { defaultPageSize: number; filterOps: readonly FilterOp[]; folderPattern?: string },
): {
  folderId: string;
  pageSize: number;
  pageToken: string;
  order: OrderBy<ImageOrderField>;
  terms: FilterTerm[];
} {
  const folderId = q.folderId ?? q.folder_id;
  const orderBy = q.orderBy ?? q.order_by;
  const pageToken = q.pageToken ?? q.page_token ?? "";
  const r = new Rules();
  r.id("folderId", folderId);
  if (opts.folderPattern) r.pattern("folderId", folderId, opts.folderPattern);
  r.maxLength("pageToken", pageToken, 100)
    .maxLength("filter", q.filter, 1000)
    .maxLength("orderBy", orderBy, 100);
  r.check();
  const terms = parseFilter(q.filter, opts.filterOps);
  const order = parseOrderBy(orderBy, IMAGE_ORDER_FIELDS, { field: "id", dir: "asc" });
  return {
    folderId: folderId!,
    terms,
    order,
    pageSize: parsePageSize(q.pageSize ?? q.page_size, opts.defaultPageSize),
    pageToken,
  };
}
