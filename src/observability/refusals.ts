import { isWatchedRefusal } from "../core/errors.js";

/** Who was refused what, as far as the place that refused knows it. */
export interface RefusalContext {
  subject?: string | undefined;
  folder?: string | undefined;
  image?: string | undefined;
}

/** The one call a refusal needs of a logger (pino's, Fastify's request logger). */
interface WarnLog {
  warn(fields: object, message: string): void;
}

/**
 * Logs a refusal an operator wants to see (core/errors.ts isWatchedRefusal: a hostile image, a
 * refused import URL, rate-limited authentication) at warn, with who and what; other errors are
 * the access log's business. The message is the core's neutral one: it names a refused host or
 * address, never a whole URL (pre-signed URLs carry signatures). Says whether it logged.
 */
export function logWatchedRefusal(log: WarnLog, err: unknown, context: RefusalContext): boolean {
  if (!isWatchedRefusal(err)) return false;
  const fields = Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined && v !== ""));
  log.warn({ reason: err.reason, ...fields }, `refused: ${err.message}`);
  return true;
}
