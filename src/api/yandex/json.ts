/**
 * Proto3 JSON conventions of the Yandex REST APIs: int64 as strings, RFC 3339 UTC timestamps,
 * `google.protobuf.Any` as the message plus "@type", default values omitted.
 */
export const int64 = (n: number): string => String(n);

/** RFC 3339 in UTC with "Z"; milliseconds only when not whole seconds (as protojson does). */
export function timestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

export function any(typeName: string, message: Record<string, unknown>): Record<string, unknown> {
  return { "@type": `type.googleapis.com/${typeName}`, ...message };
}

export const EMPTY_RESPONSE = { "@type": "type.googleapis.com/google.protobuf.Empty", value: {} };

/** Copies `obj` without the keys whose values are proto3 defaults ("", 0, false, empty list or map). */
export function omitDefaults<T extends Record<string, unknown>>(obj: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(obj) as [keyof T, unknown][]) {
    if (v === undefined || v === null || v === "" || v === "0" || v === 0 || v === false) continue;
    // An enum's zero value (STATUS_UNSPECIFIED) is its default too.
    if (typeof v === "string" && v.endsWith("_UNSPECIFIED")) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0) continue;
    out[k] = v as T[keyof T];
  }
  return out;
}
