import type { FieldViolation } from "../../core/errors.js";
import { validationFailed } from "../../core/errors.js";
import { ownEntry } from "../../core/own-entry.js";

/** Ids in the Yandex APIs (folders, images, operations, product ids): at most this many characters. */
export const ID_MAX_LENGTH = 50;

/**
 * The rule vocabulary of the Yandex API validation annotations — (required), (length), (pattern),
 * (value), (size), (map_key) — as a collector: check every field, then throw once with all
 * violations. Patterns match the whole value; a leading `|` in the documented pattern allows "".
 */
export class Rules {
  readonly violations: FieldViolation[] = [];

  private add(field: string, description: string): void {
    this.violations.push({ field, description });
  }

  required(field: string, value: string | undefined): this {
    if (value === undefined || value === "") this.add(field, "is required");
    return this;
  }

  maxLength(field: string, value: string | undefined, max: number): this {
    if (value !== undefined && [...value].length > max)
      this.add(field, `must be at most ${max} characters long`);
    return this;
  }

  /** A required id of at most ID_MAX_LENGTH characters (folderId, imageId, operationId). */
  id(field: string, value: string | undefined): this {
    return this.required(field, value).maxLength(field, value, ID_MAX_LENGTH);
  }

  lengthBetween(field: string, value: string | undefined, min: number, max: number): this {
    const n = value === undefined ? 0 : [...value].length;
    if (value !== undefined && (n < min || n > max))
      this.add(field, `must be ${min} to ${max} characters long`);
    return this;
  }

  /** `documented` is the pattern as the API reference writes it, quoted in the message. */
  pattern(field: string, value: string | undefined, documented: string): this {
    if (value !== undefined && !wholeMatch(documented).test(value)) {
      this.add(field, `must match the pattern ${documented}`);
    }
    return this;
  }

  range(field: string, value: number | undefined, min: number, max: number): this {
    if (value !== undefined && (value < min || value > max))
      this.add(field, `must be between ${min} and ${max}`);
    return this;
  }

  maxItems(field: string, count: number, max: number): this {
    if (count > max) this.add(field, `must have at most ${max} entries`);
    return this;
  }

  fail(field: string, description: string): this {
    this.add(field, description);
    return this;
  }

  /** Throws INVALID_ARGUMENT listing every violation, if any. */
  check(): void {
    if (this.violations.length > 0) throw validationFailed(this.violations);
  }
}

const compiled = new Map<string, RegExp>();

/** Compiled without the `u` flag: the documented label pattern escapes `@`, which `u` rejects. */
function wholeMatch(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`);
    compiled.set(pattern, re);
  }
  return re;
}

export interface LabelRules {
  maxCount: number;
  keyPattern: string;
  valuePattern: string;
}

/** Resource labels: a bounded map, keys 1–63 and values at most 63 characters, each with a pattern. */
export function checkLabels(
  rules: Rules,
  field: string,
  labels: Record<string, string> | undefined,
  spec: LabelRules,
): void {
  if (!labels) return;
  const entries = Object.entries(labels);
  rules.maxItems(field, entries.length, spec.maxCount);
  for (const [key, value] of entries) {
    rules
      .lengthBetween(`${field} key "${key}"`, key, 1, 63)
      .pattern(`${field} key "${key}"`, key, spec.keyPattern);
    rules.maxLength(`${field}.${key}`, value, 63).pattern(`${field}.${key}`, value, spec.valuePattern);
  }
}

/** Parses an int64 given as a JSON string or number; null when absent. */
export function parseInt64(rules: Rules, field: string, value: string | number | undefined): number | null {
  if (value === undefined) return null;
  const n = typeof value === "number" ? value : /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n)) {
    rules.fail(field, "must be an integer");
    return null;
  }
  return n;
}

/**
 * Reads an `updateMask` (comma-separated JSON or proto field names) into the fields it lists,
 * each once, in mask order; an unknown or read-only path is a violation. Null when no mask was
 * sent — each dialect decides what that means.
 */
export function parseUpdateMask<F extends string>(
  rules: Rules,
  mask: string | undefined,
  updatable: Record<string, F>,
): F[] | null {
  if (mask === undefined || mask.trim() === "") return null;
  const names = [...new Set(Object.values(updatable))].join(", ");
  const fields: F[] = [];
  for (const path of mask.split(",").map((p) => p.trim())) {
    const field = ownEntry(updatable, path);
    if (!field)
      rules.fail("updateMask", `unknown or read-only field "${path}"; updatable fields are ${names}`);
    else if (!fields.includes(field)) fields.push(field);
  }
  return fields;
}
