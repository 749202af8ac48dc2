import type { FastifyRequest } from "fastify";

/**
 * Whether the client hung up (its socket is gone): what failed then is the client's leaving, not
 * the service — logged as information, and there is no one to answer.
 */
export function noteClientGone(request: FastifyRequest, err: unknown): boolean {
  if (request.raw.socket?.destroyed !== true) return false;
  request.log.info({ reason: err instanceof Error ? err.message : String(err) }, "the client disconnected");
  return true;
}
