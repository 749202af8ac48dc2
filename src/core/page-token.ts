import { createHash } from "node:crypto";
import { invalidArgument } from "./errors.js";

/**
 * Opaque page tokens for keyset pagination. A token carries the last row's sort value and id,
 * bound to a fingerprint of the query so it cannot be replayed against a different one.
 */
export interface Cursor {
  value: string | number;
  id: string;
}

export function encodePageToken(fingerprint: string, cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ f: hash(fingerprint), v: cursor.value, i: cursor.id })).toString(
    "base64url",
  );
}

export function decodePageToken(token: string, fingerprint: string, field = "pageToken"): Cursor {
  const bad = () =>
    invalidArgument(`${field}: invalid page token`, [{ field, description: "invalid page token" }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  const p = parsed as { f?: unknown; v?: unknown; i?: unknown };
  if (p === null || typeof p !== "object" || p.f !== hash(fingerprint) || typeof p.i !== "string")
    throw bad();
  if (typeof p.v !== "string" && typeof p.v !== "number") throw bad();
  return { value: p.v, id: p.i };
}

function hash(s: string): string {
  return createHash("sha256").update(s).digest("base64url").slice(0, 16);
}
