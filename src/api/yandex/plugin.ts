import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Authenticator } from "../../auth/authenticator.js";
import { invalidArgument, notFound } from "../../core/errors.js";
import { logWatchedRefusal } from "../../observability/refusals.js";
import { refusalContext } from "../http/access-log.js";
import { noteClientGone } from "../http/client-gone.js";
import { MAX_JSON_DEPTH, nestedDeeperThan } from "../http/json-depth.js";
import "../http/request-context.js";
import { toYandexError } from "./errors.js";

/**
 * What every Yandex-style dialect (Compute, BareMetal, Operation) shares: bearer-token
 * authentication, the request/trace id headers, and the one error mapper.
 */
export function useYandexConventions(app: FastifyInstance, auth: Authenticator): void {
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    reply.header("x-server-trace-id", randomUUID());
    const clientRequestId = request.headers["x-client-request-id"];
    if (clientRequestId)
      request.log.info(
        { clientRequestId, clientTraceId: request.headers["x-client-trace-id"] },
        "client ids",
      );
    request.principal = await auth.authenticate(request, {
      allowAnonymous: request.routeOptions.config.allowAnonymous === true,
    });
  });
  useYandexErrors(app);
}

/**
 * Body parsing and errors the Yandex way: Fastify's own JSON parsing (prototype poisoning
 * refused) after a bound on nesting, the one error mapper, and NOT_FOUND for unknown paths. Also
 * used alone for the bare prefixes (`/compute/...` of no version), which would otherwise fall to
 * OpenStack at the root.
 */
export function useYandexErrors(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (typeof body === "string" && nestedDeeperThan(body)) {
      return done(invalidArgument(`Request body is nested deeper than ${MAX_JSON_DEPTH} levels`));
    }
    return parseJson(request, body.toString(), done);
  });
  app.setErrorHandler(async (err, request, reply) => {
    if (noteClientGone(request, err)) return reply;
    const { status, body, internal, retryAfter } = toYandexError(err, request.id);
    if (internal) request.log.error({ err }, "request failed");
    else logWatchedRefusal(request.log, err, refusalContext(request));
    if (retryAfter !== null) reply.header("retry-after", String(retryAfter));
    return reply.header("x-request-id", request.id).status(status).send(body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    const { status, body } = toYandexError(
      notFound(`No such method: ${request.method} ${request.url.split("?")[0]}`),
      request.id,
    );
    return reply.header("x-request-id", request.id).status(status).send(body);
  });
}

/** The Idempotency-Key header of a mutating call, if sent. */
export function idempotencyKey(request: FastifyRequest): string | null {
  const v = request.headers["idempotency-key"];
  return usableIdempotencyKey(Array.isArray(v) ? v[0] : v);
}

/** An idempotency key as REST or gRPC sent it; one longer than 128 characters is not kept. */
export function usableIdempotencyKey(key: string | undefined): string | null {
  return key && key.length <= 128 ? key : null;
}
