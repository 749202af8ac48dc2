import { randomUUID } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Authenticator } from "../../auth/authenticator.js";
import type { Core } from "../../core/core.js";
import { bareMetalDialect } from "../baremetal/render.js";
import { bareMetalRoutes } from "../baremetal/routes.js";
import { computeRoutes } from "../compute/routes.js";
import { computeDialect } from "../compute/render.js";
import { operationRoutes } from "../operation/routes.js";
import { openStackRoutes } from "../openstack/routes.js";
import type { ImageDialect } from "../yandex/operation-render.js";

export interface AppDeps {
  log: Logger;
  core: Core;
  auth: Authenticator;
  maxRequestBodyBytes: number;
  maxImageBytes: number;
  publicUrl: string | null;
  storeId: string;
}

/** How much of a refused oversize body is read and dropped before the connection is closed. */
const MAX_DRAINED_BYTES = 16 * 1024 * 1024;

/** The HTTP listener: every REST dialect on one port, told apart by path. */
export function buildHttpApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    bodyLimit: deps.maxRequestBodyBytes,
    // Types are checked strictly (a number where a string belongs is an error, as in protojson);
    // query strings are declared as strings and parsed by the handlers.
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false },
    },
    return503OnClosing: true,
    // OpenStack tags and member ids travel in the path and may be 255 characters long.
    maxParamLength: 1024,
  });

  // A JSON body over its declared limit is refused before it is read, and Fastify then closes the
  // connection: a client still sending meets a reset instead of the refusal. Keep the connection,
  // read and drop the rest (up to a bound), so that the client finishes and reads the answer.
  app.addHook("onError", async (request, reply, err) => {
    if ((err as FastifyError).code !== "FST_ERR_CTP_BODY_TOO_LARGE" || request.raw.complete) return;
    reply.removeHeader("connection");
    let drained = 0;
    request.raw.on("data", (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > MAX_DRAINED_BYTES) request.raw.destroy();
    });
    request.raw.resume();
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    try {
      await deps.core.ping();
      return { status: "ready" };
    } catch (err) {
      deps.log.warn({ err }, "readiness check failed");
      return reply.status(503).send({ status: "unavailable" });
    }
  });

  const dialects: Record<"compute" | "baremetal", ImageDialect> = {
    compute: computeDialect,
    baremetal: bareMetalDialect,
  };
  app.register(computeRoutes, {
    prefix: "/compute/v1",
    core: deps.core,
    auth: deps.auth,
    dialects,
  });
  app.register(bareMetalRoutes, {
    prefix: "/baremetal/v1alpha",
    core: deps.core,
    auth: deps.auth,
    dialects,
  });
  app.register(operationRoutes, {
    prefix: "/operations",
    core: deps.core,
    auth: deps.auth,
    dialects,
  });
  // OpenStack clients expect the API at the root (version discovery at "/", images under /v2).
  app.register(openStackRoutes, {
    core: deps.core,
    auth: deps.auth,
    maxImageBytes: deps.maxImageBytes,
    maxRequestBodyBytes: deps.maxRequestBodyBytes,
    publicUrl: deps.publicUrl,
    storeId: deps.storeId,
  });
  return app;
}
