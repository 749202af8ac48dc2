import { useFairTurns } from "../fair-turns.js";
import { vitrineRoutes } from "../vitrine/routes.js";
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
} from "fastify";
import type { Logger } from "pino";
import type { Authenticator } from "../../auth/authenticator.js";
import type { Core } from "../../core/core.js";
import { bareMetalRoutes } from "../baremetal/routes.js";
import { Type } from "@sinclair/typebox";
import { useAccessLog } from "./access-log.js";
import { useAuditTrail } from "./audit-hook.js";
import type { AuditTrail } from "../../observability/audit-trail.js";
import { answers, useResponseShapes } from "./response-shapes.js";
import { computeRoutes } from "../compute/routes.js";
import { type ConsoleOptions, consoleRoutes } from "../console/routes.js";
import { IMAGE_SERVICES } from "../image-services.js";
import { operationRoutes } from "../operation/routes.js";
import { invalidArgument } from "../../core/errors.js";
import { glanceErrorBody } from "../openstack/errors.js";
import { sendGlanceError } from "../openstack/conventions.js";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { openStackRoutes } from "../openstack/routes.js";
import { answerClientError, answerConnect, isYandexPath, newRequestId } from "./transport-errors.js";
import type { OpenStackProfile } from "../../config.js";
import type { MinUploadRate } from "./upload-rate-guard.js";
import { toYandexError } from "../yandex/errors.js";
import { useYandexErrors } from "../yandex/plugin.js";

export interface AppDeps {
  log: Logger;
  core: Core;
  auth: Authenticator;
  maxRequestBodyBytes: number;
  /** A connection with no traffic this long is closed (0: never). */
  idleTimeoutMs: number;
  maxImageBytes: number;
  publicUrl: string | null;
  openstackProfile: OpenStackProfile;
  /** The slowest upload accepted; 0 bytes a second: any. */
  minUploadRate?: MinUploadRate;
  /** The web console's settings (null: not served). */
  console?: ConsoleOptions | null;
  /** Validate every JSON answer against its route's declared shape (http/response-shapes.ts). */
  checkResponses?: boolean;
  /** Where mutations and refusals are recorded (README "Events and audit"); null: not recorded. */
  audit?: AuditTrail | null;
  /** Told of every answered request (the metrics): its dialect, route template, method, status and time. */
  onAnswered?: (dialect: string, route: string, method: string, status: number, seconds: number) => void;
}

/** Which dialect a path belongs to, for the metrics' labels. */
function dialectOf(url: string): string {
  if (url.startsWith("/compute/")) return "compute";
  if (url.startsWith("/baremetal/")) return "baremetal";
  if (url.startsWith("/operations")) return "operation";
  if (url.startsWith("/healthz") || url.startsWith("/readyz")) return "health";
  if (url.startsWith("/console")) return "console";
  if (url.startsWith("/vitrine/")) return "vitrine";
  return "openstack";
}

/** How much of a refused oversize body is read and dropped before the connection is closed. */
const MAX_DRAINED_BYTES = 16 * 1024 * 1024;

/** The HTTP listener: every REST dialect on one port, told apart by path. */
export function buildHttpApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // One request id everywhere: the response header, the error body, the log line and whatever
    // a client shows. OpenStack's are Glance's `req-<uuid>`, the Yandex dialects' plain UUIDs.
    genReqId: (req) => newRequestId(req.url),
    // One access-log line per request instead (http/access-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: (err, socket) => answerClientError(err, socket, deps.log),
    bodyLimit: deps.maxRequestBodyBytes,
    // Types are checked strictly (a number where a string belongs is an error, as in protojson);
    // query strings are declared as strings and parsed by the handlers.
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false },
    },
    return503OnClosing: true,
    // An upload whose client stopped sending (or a download whose client stopped reading) would
    // hold its image and its connection for ever: a silent socket is closed, and the upload is
    // put back (its image queued again) like any interrupted one.
    connectionTimeout: deps.idleTimeoutMs,
    // OpenStack tags and member ids travel in the path and may be 255 characters long.
    routerOptions: { maxParamLength: 1024 },
    // A URL the router cannot take (bad percent-encoding, a path parameter over the limit) is
    // refused before any dialect's hooks run: answer it in the dialect its path names.
    frameworkErrors: (err, request, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      const tooLong = err.code === "FST_ERR_MAX_PARAM_LENGTH";
      if (isYandexPath(request.url)) {
        const message = tooLong
          ? "A path parameter is longer than 1024 characters"
          : "Malformed URL: invalid percent-encoding";
        const { status, body } = toYandexError(invalidArgument(message), String(request.id));
        return reply.header("x-request-id", request.id).status(status).send(body);
      }
      const [status, message] = tooLong
        ? [414, "The request URI is too long."]
        : [400, "Malformed URL: invalid percent-encoding."];
      reply.header("x-openstack-request-id", request.id);
      return sendGlanceError(request, reply.status(status), glanceErrorBody(status, message));
    },
  });

  // First: requests go on in arrival order, a turn's worth at a time.
  useFairTurns(app);
  useResponseShapes(app, deps.checkResponses ?? false);
  useAccessLog(app);
  useAuditTrail(app, deps.audit ?? null, dialectOf);

  // A JSON body over its declared limit is refused before it is read, and Fastify then closes the
  // connection: a client still sending meets a reset instead of the refusal. Keep the connection,
  // read and drop the rest (up to a bound), so that the client finishes and reads the answer.
  app.addHook("onError", async (request, reply, err) => {
    if (request.raw.complete || (err as FastifyError).code !== "FST_ERR_CTP_BODY_TOO_LARGE") return;
    reply.removeHeader("connection");
    let drained = 0;
    request.raw.on("data", (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > MAX_DRAINED_BYTES) request.raw.destroy();
    });
    request.raw.resume();
  });

  const onAnswered = deps.onAnswered;
  if (onAnswered) {
    app.addHook("onResponse", async (request, reply) => {
      // The route's template, not the URL: ids must not become label values. Unknown paths share one.
      const route = request.routeOptions.url ?? "unmatched";
      onAnswered(dialectOf(request.url), route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    });
  }

  const Health = Type.Object({ status: Type.String() }, { additionalProperties: false });
  app.get("/healthz", { schema: { response: answers({ 200: Health }) } }, async () => ({ status: "ok" }));
  app.get("/readyz", { schema: { response: answers({ 200: Health, 503: Health }) } }, async (_req, reply) => {
    try {
      await deps.core.ping();
      return { status: "ready" };
    } catch (err) {
      deps.log.warn({ err }, "readiness check failed");
      return reply.status(503).send({ status: "unavailable" });
    }
  });

  const services = IMAGE_SERVICES;
  app.register(computeRoutes, {
    prefix: "/compute/v1",
    core: deps.core,
    auth: deps.auth,
    services,
  });
  app.register(bareMetalRoutes, {
    prefix: "/baremetal/v1alpha",
    core: deps.core,
    auth: deps.auth,
    services,
  });
  app.register(operationRoutes, {
    prefix: "/operations",
    core: deps.core,
    auth: deps.auth,
    services,
  });
  app.register(vitrineRoutes, { prefix: "/vitrine/v1", core: deps.core, auth: deps.auth, services });
  for (const prefix of ["/compute", "/baremetal", "/vitrine"]) {
    app.register(async (scope) => useYandexErrors(scope), { prefix });
  }
  if (deps.console) app.register(consoleRoutes, deps.console);
  // OpenStack clients expect the API at the root (version discovery at "/", images under /v2).
  app.register(openStackRoutes, {
    core: deps.core,
    auth: deps.auth,
    maxImageBytes: deps.maxImageBytes,
    maxRequestBodyBytes: deps.maxRequestBodyBytes,
    publicUrl: deps.publicUrl,
    profile: deps.openstackProfile,
    minUploadRate: deps.minUploadRate ?? { bytesPerSecond: 0, graceMs: 0 },
  });
  app.server.on("connect", (req: IncomingMessage, socket: Duplex) => answerConnect(req, socket, deps.log));
  return app;
}
