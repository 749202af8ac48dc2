import { type VitrineError, isVitrineError } from "./core/errors.js";

/**
 * An error and up to two of its causes in a few words, preferring system codes ("fetch failed:
 * ECONNREFUSED"): what a message about an unreachable host should say, without a stack.
 */
export function describeCauses(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e && parts.length < 3; e = (e as { cause?: unknown }).cause) {
    if (e instanceof Error) parts.push((e as NodeJS.ErrnoException).code ?? e.message);
  }
  return parts.join(": ") || String(err);
}

/** The Vitrine error among an error's causes (a refusal made inside a client's connect), or null. */
export function findVitrineError(err: unknown): VitrineError | null {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isVitrineError(e)) return e;
  }
  return null;
}
