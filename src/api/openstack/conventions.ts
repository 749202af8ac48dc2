import { logWatchedRefusal } from "../../observability/refusals.js";
import { refusalContext } from "../http/access-log.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Authenticator } from "../../auth/authenticator.js";
import { invalidArgument, unauthenticated } from "../../core/errors.js";
import { noteClientGone } from "../http/client-gone.js";
import { MAX_JSON_DEPTH, nestedDeeperThan } from "../http/json-depth.js";
import "../http/request-context.js";
import { GlanceHttpError, type GlanceErrorBody, glanceErrorBody, toGlanceError } from "./errors.js";

/** Media types Glance accepts for PATCH, in the order it lists them in Accept-Patch. */
export const PATCH_MEDIA_TYPES = [
  "application/openstack-images-v2.0-json-patch",
  "application/openstack-images-v2.1-json-patch",
] as const;

/**
 * What every OpenStack route shares: an `x-openstack-request-id` on every response, Glance's
 * error bodies, and body parsing the way Glance does it — JSON (a syntax error is "Malformed
 * JSON"), the two JSON-patch media types, and image data left unread as a stream for the
 * handler. Other media types reach the handler unparsed, so each route can refuse them with 415.
 */
export function useOpenStackConventions(app: FastifyInstance, bodyLimit: number): void {
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-openstack-request-id", request.id);
  });
  app.removeAllContentTypeParsers();
  const parseJson = (
    _req: FastifyRequest,
    body: string,
    done: (err: Error | null, value?: unknown) => void,
  ) => {
    if (body.trim() === "") return done(null, undefined);
    if (nestedDeeperThan(body)) {
      return done(
        invalidArgument(`Malformed JSON in request body: nested deeper than ${MAX_JSON_DEPTH} levels.`),
      );
    }
    try {
      done(null, JSON.parse(body));
    } catch {
      done(invalidArgument("Malformed JSON in request body."));
    }
  };
  app.addContentTypeParser(
    ["application/json", ...PATCH_MEDIA_TYPES],
    { parseAs: "string", bodyLimit },
    parseJson,
  );
  // Image data and anything unexpected: not read here (routes stream or refuse it).
  app.addContentTypeParser("*", (_req, _payload, done) => done(null, undefined));
  app.setErrorHandler(async (err, request, reply) => {
    if (noteClientGone(request, err)) return reply;
    const { status, body, internal, headers } = toGlanceError(err);
    if (internal) request.log.error({ err }, "request failed");
    else logWatchedRefusal(request.log, err, refusalContext(request));
    if (headers) reply.headers(headers);
    // An upload's request stream is consumed (and destroyed) by then; only a gone socket stops the answer.
    if (reply.sent) return reply;
    return sendGlanceError(request, reply.status(status), body);
  });
  app.setNotFoundHandler(async (request, reply) =>
    sendGlanceError(request, reply.status(404), glanceErrorBody(404, "The resource could not be found.")),
  );
}

/** Authenticates every request of the routes registered in `app` (X-Auth-Token or Bearer). */
export function requireToken(app: FastifyInstance, auth: Authenticator): void {
  app.addHook("onRequest", async (request) => {
    if (!request.headers["x-auth-token"] && !request.headers.authorization) {
      throw unauthenticated(
        "This server could not verify that you are authorized to access the document you requested: send X-Auth-Token.",
      );
    }
    request.principal = await auth.authenticate(request);
  });
}

/** The request's media type, without parameters, in lower case ("" when none). */
export function mediaType(request: FastifyRequest): string {
  return (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * Returns the request's media type if it is one of `expected`; refuses any other with Glance's
 * 415, carrying `headers` (PATCH names the types it accepts in Accept-Patch).
 */
export function requireMediaType(
  request: FastifyRequest,
  expected: readonly string[],
  headers: Record<string, string> = {},
): string {
  const type = mediaType(request);
  if (!expected.includes(type)) {
    throw new GlanceHttpError(
      415,
      `The request media type ${type || "(none)"} is not supported by this server.`,
      headers,
    );
  }
  return type;
}

/** The service's base URL as the client reached it (or as configured), for absolute links. */
export function baseUrl(req: FastifyRequest, publicUrl: string | null): string {
  return publicUrl ?? `${req.protocol}://${req.headers.host ?? "localhost"}`;
}

/**
 * Glance negotiates its error bodies: JSON `{message, code, title}` for `Accept: application/json`,
 * an HTML page for other Accept values, plain text without one. Clients rely on it: glanceclient
 * sends no Accept and reads plain text; openstacksdk asks for JSON.
 */
export function sendGlanceError(
  request: FastifyRequest,
  reply: FastifyReply,
  body: GlanceErrorBody,
): FastifyReply {
  const accept = request.headers.accept ?? "";
  if (accept.includes("application/json")) return reply.send(body);
  if (accept.trim() !== "") {
    const text = body.message.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    return reply
      .type("text/html; charset=UTF-8")
      .send(
        `<html>\n <head>\n  <title>${body.code}</title>\n </head>\n <body>\n  <h1>${body.code}</h1>\n  ${text}<br /><br />\n\n\n\n </body>\n</html>`,
      );
  }
  return reply.type("text/plain; charset=UTF-8").send(`${body.code}\n\n${body.message}\n\n   `);
}

/** A JSON object body, or Glance's 400. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidArgument("Request body must be a JSON object.");
  }
  return body as Record<string, unknown>;
}
