import type { FastifyRequest } from "fastify";

/**
 * Whether the client hung up (its socket is gone): what failed then is the client's leaving, not
 * the service — logged as information, and there is no one to answer.
 */
export function clientGone(request: FastifyRequest): boolean {
  return request.raw.socket?.destroyed === true;
}
