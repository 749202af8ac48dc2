import { VitrineError, isVitrineError } from "../../core/errors.js";

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404;
}

/** Swallows "already gone" (a deleted object, an aborted upload); anything else is rethrown. */
export function ignoreGone(err: unknown): void {
  const name = (err as { name?: string }).name;
  if (!isNotFound(err) && name !== "NoSuchUpload") throw err;
}

/**
 * The store unreachable or failing (the SDK already retried): UNAVAILABLE for the caller, with the
 * cause kept for the log; anything else (a missing blob, refused credentials) is rethrown as is.
 */
export function storeFailure(err: unknown): never {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status === undefined || status >= 500) {
    throw Object.assign(new VitrineError("UNAVAILABLE", "The image store is unavailable; retry later"), {
      cause: err,
    });
  }
  throw err;
}

/** A failure worth another attempt: the store was unreachable or answered 5xx. */
export function isTransient(err: unknown): boolean {
  return isVitrineError(err) && err.code === "UNAVAILABLE";
}
