import { createHash } from "node:crypto";
import { invalidArgument } from "./errors.js";

/**
 * Opaque page tokens for keyset pagination. A token carries the last row's id and, when it fits,
 * its sort value, bound to a fingerprint of the query so it cannot be replayed against another.
 * Tokens stay within the APIs' 100-character limit: a sort value too long to carry is left out
 * and the caller re-reads it from the row (`Cursor.value` undefined).
 */
export interface Cursor {
  value?: string | number;
  id: string;
}

/** 100 base64url characters hold 75 bytes. */
const MAX_BYTES = 75;
const FINGERPRINT_BYTES = 6;

export function encodePageToken(fingerprint: string, cursor: Cursor): string {
  const id = Buffer.from(cursor.id, "utf8");
  const head = Buffer.concat([hash(fingerprint), Buffer.from([id.length]), id]);
  let value: Buffer = Buffer.from([0]);
  if (typeof cursor.value === "number") {
    value = Buffer.alloc(9);
    value[0] = 1;
    value.writeDoubleBE(cursor.value, 1);
  } else if (typeof cursor.value === "string") {
    value = Buffer.concat([Buffer.from([2]), Buffer.from(cursor.value, "utf8")]);
  }
  if (head.length + value.length > MAX_BYTES) value = Buffer.from([0]);
  return Buffer.concat([head, value]).toString("base64url");
}

export function decodePageToken(token: string, fingerprint: string, field = "pageToken"): Cursor {
  const bad = () =>
    invalidArgument(`${field}: invalid page token`, [{ field, description: "invalid page token" }]);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const buf = Buffer.from(token, "base64url");
  if (buf.length < FINGERPRINT_BYTES + 2 || !buf.subarray(0, FINGERPRINT_BYTES).equals(hash(fingerprint)))
    throw bad();
  const idLength = buf[FINGERPRINT_BYTES]!;
  const idEnd = FINGERPRINT_BYTES + 1 + idLength;
  if (buf.length < idEnd + 1) throw bad();
  const id = buf.subarray(FINGERPRINT_BYTES + 1, idEnd).toString("utf8");
  const kind = buf[idEnd];
  const rest = buf.subarray(idEnd + 1);
  if (kind === 0 && rest.length === 0) return { id };
  if (kind === 1 && rest.length === 8) return { id, value: rest.readDoubleBE(0) };
  if (kind === 2) return { id, value: rest.toString("utf8") };
  throw bad();
}

function hash(s: string): Buffer {
  return createHash("sha256").update(s).digest().subarray(0, FINGERPRINT_BYTES);
}

/**
 * The tail every keyset page shares: `rows` was read with one row more than `pageSize`; the page
 * is the first `pageSize`, and a token for the next one exists only when that extra row came
 * back, built from the page's last row (`cursorOf`).
 */
export function pageOf<T>(
  rows: T[],
  pageSize: number,
  fingerprint: string,
  cursorOf: (last: T) => Cursor,
): { items: T[]; nextPageToken: string } {
  const items = rows.slice(0, pageSize);
  const last = items[items.length - 1];
  const nextPageToken =
    rows.length > pageSize && last !== undefined ? encodePageToken(fingerprint, cursorOf(last)) : "";
  return { items, nextPageToken };
}
