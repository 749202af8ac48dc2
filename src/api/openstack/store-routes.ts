import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { invalidArgument } from "../../core/errors.js";
import { NO_BODY, answers } from "../http/response-shapes.js";
import { OPENSTACK_ANSWERS as A } from "./responses.js";
import type { OpenStackRoutesOptions } from "./routes.js";

const StoreImageParams = Type.Object({ storeId: Type.String(), imageId: Type.String() });
const CacheParams = Type.Object({ imageId: Type.String() });
const CLEAR_TARGETS = ["cache", "queue"] as const;

/**
 * Glance's multi-store and cache APIs (README "Stores, cache and regions"): removing an image's
 * data from one store, and this node's cache (list, queue for pre-fetch, drop, clear: admins).
 */
export const storeRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { imageData } = opts.core;

  app.delete(
    "/stores/:storeId/:imageId",
    { schema: { params: StoreImageParams, response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      await imageData.removeFromStore(req.principal, req.params.imageId, req.params.storeId);
      return reply.code(204).send();
    },
  );

  app.get("/cache", { schema: { response: answers({ 200: A.cache }) } }, async (req) => {
    const { cached, queued } = await imageData.cache.list(req.principal);
    return {
      cached_images: cached.map((c) => ({
        image_id: c.uuid,
        hits: c.hits,
        last_accessed: c.lastUsedAt / 1000,
        last_modified: c.lastUsedAt / 1000,
        size: c.size,
      })),
      queued_images: queued,
    };
  });

  app.put(
    "/cache/:imageId",
    { schema: { params: CacheParams, response: answers({ 202: NO_BODY }) } },
    async (req, reply) => {
      await imageData.cache.queue(req.principal, req.params.imageId);
      return reply.code(202).send();
    },
  );

  app.delete(
    "/cache/:imageId",
    { schema: { params: CacheParams, response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      await imageData.cache.remove(req.principal, req.params.imageId);
      return reply.code(204).send();
    },
  );

  // Both unless x-image-cache-clear-target names one.
  app.delete("/cache", { schema: { response: answers({ 204: NO_BODY }) } }, async (req, reply) => {
    const target = req.headers["x-image-cache-clear-target"];
    if (target !== undefined && !(CLEAR_TARGETS as readonly unknown[]).includes(target)) {
      throw invalidArgument("x-image-cache-clear-target must be cache or queue.");
    }
    await imageData.cache.clear(req.principal, (target as "cache" | "queue" | undefined) ?? "both");
    return reply.code(204).send();
  });
};
