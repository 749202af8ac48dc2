import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Principal } from "../../core/principal.js";
import type { RefusalContext } from "../../observability/refusals.js";
import "./request-context.js";

/**
 * Answers that would drown the log at info: an operation polled until it is done (the CLI and the
 * console wait that way) and load balancers' health checks. Logged at debug when they succeed.
 */
const POLLS = new Set(["GET /operations/:operationRef", "GET /healthz", "GET /readyz"]);

/** How much of a URL a log line keeps. */
const MAX_URL = 512;

/**
 * One line per answered request, like a web server's access log: method, URL, route, status,
 * bytes, time and who asked, under the request's id (Fastify's own two records per request are
 * off). The message reads `GET /v2/images 200` for a person; the fields are for a collector.
 */
export function useAccessLog(app: FastifyInstance): void {
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    const status = reply.statusCode;
    const url = request.url.length > MAX_URL ? `${request.url.slice(0, MAX_URL)}…` : request.url;
    const fields = {
      method: request.method,
      url,
      route,
      status,
      bytes: Number(reply.getHeader("content-length") ?? 0),
      ms: Math.round(reply.elapsedTime * 10) / 10,
      subject: subjectOf(request),
    };
    const quiet = status < 400 && POLLS.has(`${request.method} ${route}`);
    request.log[quiet ? "debug" : "info"](fields, `${request.method} ${url} ${status}`);
  });
}

/** Who made a request and on which image, for a refusal's log line. */
export function refusalContext(request: FastifyRequest): RefusalContext {
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  return {
    subject: subjectOf(request),
    folder: principalOf(request)?.projectId,
    image: params.imageId ?? params.imageRef?.split(":")[0],
  };
}

/** Who the request was authenticated as; none before authentication (or when it failed). */
const principalOf = (request: FastifyRequest): Principal | undefined =>
  request.principal as Principal | undefined;

/** The authenticated subject; none before authentication or for an anonymous caller. */
const subjectOf = (request: FastifyRequest): string | undefined => principalOf(request)?.subjectId;
