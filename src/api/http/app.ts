import { randomUUID } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Authenticator } from "../../auth/authenticator.js";
import type { ImageAccessBindingService } from "../../core/services/access-bindings.js";
import type { ImageDataService } from "../../core/services/image-data.js";
import type { ImageMembersService } from "../../core/services/image-members.js";
import type { ImageService } from "../../core/services/images.js";
import type { OperationService } from "../../core/services/operations.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import type { Db } from "../../storage/meta/database.js";
import { sql } from "kysely";
import { bareMetalDialect } from "../baremetal/render.js";
import { bareMetalRoutes } from "../baremetal/routes.js";
import { computeRoutes } from "../compute/routes.js";
import { computeDialect } from "../compute/render.js";
import { operationRoutes } from "../operation/routes.js";
import { openStackRoutes } from "../openstack/routes.js";
import type { ImageDialect } from "../yandex/operation-render.js";

export interface AppDeps {
  log: Logger;
  db: Db;
  blobs: BlobStore;
  auth: Authenticator;
  images: ImageService;
  accessBindings: ImageAccessBindingService;
  imageData: ImageDataService;
  imageMembers: ImageMembersService;
  operations: OperationService;
  maxRequestBodyBytes: number;
  maxImageBytes: number;
  publicUrl: string | null;
  storeId: string;
}

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

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    try {
      await sql`select 1`.execute(deps.db);
      await deps.blobs.ping();
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
    images: deps.images,
    accessBindings: deps.accessBindings,
    auth: deps.auth,
    dialects,
  });
  app.register(bareMetalRoutes, {
    prefix: "/baremetal/v1alpha",
    images: deps.images,
    accessBindings: deps.accessBindings,
    auth: deps.auth,
    dialects,
  });
  app.register(operationRoutes, {
    prefix: "/operations",
    operations: deps.operations,
    auth: deps.auth,
    dialects,
  });
  // OpenStack clients expect the API at the root (version discovery at "/", images under /v2).
  app.register(openStackRoutes, {
    images: deps.images,
    imageData: deps.imageData,
    imageMembers: deps.imageMembers,
    auth: deps.auth,
    maxImageBytes: deps.maxImageBytes,
    maxRequestBodyBytes: deps.maxRequestBodyBytes,
    publicUrl: deps.publicUrl,
    storeId: deps.storeId,
  });
  return app;
}
