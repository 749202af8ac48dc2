import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { ImageRoutesOptions } from "../yandex/image-service.js";
import { idempotencyKey, useYandexConventions } from "../yandex/plugin.js";
import { answers } from "../http/response-shapes.js";
import { RESPONSES } from "../yandex/responses.js";
import { ListImagesQuery, PageQuery } from "../yandex/schemas.js";
import { bareMetalImageMethods } from "./methods.js";
import { CreateImageBody, ImageIdParams, UpdateImageBody } from "./schemas.js";

/**
 * BareMetal Image API v1alpha over REST (`/baremetal/v1alpha/images...`): maps paths, queries and
 * bodies onto the request messages of methods.ts (shared with gRPC).
 */
const ANSWERS = RESPONSES["yandex.cloud.baremetal.v1alpha.ImageService"];

export const bareMetalRoutes: FastifyPluginAsync<ImageRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  useYandexConventions(app, opts.auth);
  const methods = bareMetalImageMethods(opts.core, opts.services);

  app.post(
    "/images",
    { schema: { body: CreateImageBody, response: answers({ 200: ANSWERS.Create }) } },
    async (req) => methods.Create(req.principal, req.body, { idempotencyKey: idempotencyKey(req) }),
  );

  app.get(
    "/images",
    { schema: { querystring: ListImagesQuery, response: answers({ 200: ANSWERS.List }) } },
    async (req) => methods.List(req.principal, req.query),
  );

  app.get(
    "/images/:imageId",
    { schema: { params: ImageIdParams, response: answers({ 200: ANSWERS.Get }) } },
    async (req) => methods.Get(req.principal, req.params),
  );

  app.get(
    "/images/:imageId/operations",
    {
      schema: {
        params: ImageIdParams,
        querystring: PageQuery,
        response: answers({ 200: ANSWERS.ListOperations }),
      },
    },
    async (req) => methods.ListOperations(req.principal, { ...req.query, imageId: req.params.imageId }),
  );

  app.patch(
    "/images/:imageId",
    { schema: { params: ImageIdParams, body: UpdateImageBody, response: answers({ 200: ANSWERS.Update }) } },
    async (req) => methods.Update(req.principal, { ...req.body, imageId: req.params.imageId }),
  );

  app.delete(
    "/images/:imageId",
    { schema: { params: ImageIdParams, response: answers({ 200: ANSWERS.Delete }) } },
    async (req) => methods.Delete(req.principal, req.params),
  );
};
