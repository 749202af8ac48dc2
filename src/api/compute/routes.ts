import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { notFound } from "../../core/errors.js";
import type { ImageRoutesOptions } from "../yandex/image-service.js";
import { idempotencyKey, useYandexConventions } from "../yandex/plugin.js";
import { AccessBindingsBody, ListImagesQuery, PageQuery } from "../yandex/schemas.js";
import { ID_MAX_LENGTH, Rules } from "../yandex/validation.js";
import { Type } from "@sinclair/typebox";
import { answers } from "../http/response-shapes.js";
import { RESPONSES, message } from "../yandex/responses.js";
import { DeprecateImageFields } from "./deprecation.js";
import { ExportImageFields } from "./export.js";
import { computeImageMethods } from "./methods.js";
import { CreateImageBody, ImageRefParams, LatestByFamilyQuery, UpdateImageBody } from "./schemas.js";

/**
 * Compute Image API v1 over REST (`/compute/v1/images...`): maps paths, queries and bodies onto
 * the request messages of methods.ts (shared with gRPC).
 */
const SummaryQuery = Type.Object({ folderId: Type.Optional(Type.String()) });
/** The custom methods on one image share a path and so a body schema: access bindings, deprecate. */
const ImageMethodBody = Type.Object(
  { ...AccessBindingsBody.properties, ...DeprecateImageFields, ...ExportImageFields },
  { additionalProperties: false },
);
const ANSWERS = RESPONSES["yandex.cloud.compute.v1.ImageService"];
/** Vitrine's extension `images:summary`: what a folder's images hold (REST only, int64 as strings). */
const Summary = message({
  folders: Type.Array(
    message({
      folderId: Type.String(),
      images: Type.String(),
      imagesWithData: Type.String(),
      referencedBytes: Type.String(),
      storedBytes: Type.String(),
      savedBytes: Type.String(),
    }),
  ),
});

export const computeRoutes: FastifyPluginAsync<ImageRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  useYandexConventions(app, opts.auth);
  const methods = computeImageMethods(opts.core, opts.services);

  app.post(
    "/images",
    { schema: { body: CreateImageBody, response: answers({ 200: ANSWERS.Create }) } },
    async (req) => methods.Create(req.principal, req.body, { idempotencyKey: idempotencyKey(req) }),
  );

  // `images:latestByFamily` is one path segment with a literal colon (escaped as "::").
  app.get(
    "/images::latestByFamily",
    { schema: { querystring: LatestByFamilyQuery, response: answers({ 200: ANSWERS.GetLatestByFamily }) } },
    async (req) => methods.GetLatestByFamily(req.principal, req.query),
  );

  // Vitrine's extension: what a folder's images (every kind) hold, and what sharing data saves.
  app.get(
    "/images::summary",
    { schema: { querystring: SummaryQuery, response: answers({ 200: Summary }) } },
    async (req) => {
      const folderId = req.query.folderId ?? null;
      if (folderId !== null) new Rules().maxLength("folderId", folderId, ID_MAX_LENGTH).check();
      const folders = await opts.core.images.summarize(req.principal, folderId);
      return {
        folders: folders.map((f) => ({
          folderId: f.folderId,
          images: String(f.images),
          imagesWithData: String(f.withData),
          referencedBytes: String(f.referencedBytes),
          storedBytes: String(f.storedBytes),
          savedBytes: String(f.referencedBytes - f.storedBytes),
        })),
      };
    },
  );

  app.get(
    "/images",
    { schema: { querystring: ListImagesQuery, response: answers({ 200: ANSWERS.List }) } },
    async (req) => methods.List(req.principal, req.query),
  );

  app.get(
    "/images/:imageRef",
    // An image bound to allUsers is readable without credentials (the core decides which).
    {
      schema: {
        params: ImageRefParams,
        querystring: PageQuery,
        response: answers({ 200: Type.Union([ANSWERS.Get, ANSWERS.ListAccessBindings]) }),
      },
      config: { allowAnonymous: true },
    },
    async (req) => {
      const { id, verb } = imageRef(req.params.imageRef);
      if (verb === null) return methods.Get(req.principal, { imageId: id });
      if (verb === "listAccessBindings") {
        return methods.ListAccessBindings(req.principal, { ...req.query, resourceId: id });
      }
      throw notFound(`No such method: GET ${req.url.split("?")[0]}`);
    },
  );

  app.post(
    "/images/:imageRef",
    {
      schema: {
        params: ImageRefParams,
        body: ImageMethodBody,
        response: answers({ 200: ANSWERS.SetAccessBindings }),
      },
    },
    async (req) => {
      const { id, verb } = imageRef(req.params.imageRef);
      const body = req.body;
      const r = new Rules();
      if (verb === "deprecate") {
        const { state, replacement, deprecateAt, obsoleteAt, deleteAt, ...others } = body;
        for (const field of Object.keys(others)) r.fail(field, "is not a field of this method");
        r.check();
        return methods.Deprecate(req.principal, {
          imageId: id,
          state,
          replacement,
          deprecateAt,
          obsoleteAt,
          deleteAt,
        });
      }
      if (verb === "export") {
        const { format, folderId, name, description, ...others } = body;
        for (const field of Object.keys(others)) r.fail(field, "is not a field of this method");
        r.check();
        return methods.Export(req.principal, { imageId: id, format, folderId, name, description });
      }
      for (const field of [...Object.keys(DeprecateImageFields), ...Object.keys(ExportImageFields)]) {
        if (field in body) r.fail(field, "is not a field of this method");
      }
      if (body.resourceId !== undefined && body.resourceId !== id) {
        r.fail("resourceId", "must match the image id in the path");
      }
      if (verb === "setAccessBindings") {
        if (body.accessBindingDeltas) r.fail("accessBindingDeltas", "is not a field of this method");
        r.check();
        return methods.SetAccessBindings(req.principal, {
          resourceId: id,
          accessBindings: body.accessBindings,
        });
      }
      if (verb === "updateAccessBindings") {
        if (body.accessBindings) r.fail("accessBindings", "is not a field of this method");
        r.check();
        return methods.UpdateAccessBindings(req.principal, {
          resourceId: id,
          accessBindingDeltas: body.accessBindingDeltas,
        });
      }
      throw notFound(`No such method: POST ${req.url.split("?")[0]}`);
    },
  );

  app.get(
    "/images/:imageRef/operations",
    {
      schema: {
        params: ImageRefParams,
        querystring: PageQuery,
        response: answers({ 200: ANSWERS.ListOperations }),
      },
    },
    async (req) =>
      methods.ListOperations(req.principal, { ...req.query, imageId: imageRef(req.params.imageRef).id }),
  );

  app.patch(
    "/images/:imageRef",
    { schema: { params: ImageRefParams, body: UpdateImageBody, response: answers({ 200: ANSWERS.Update }) } },
    async (req) => methods.Update(req.principal, { ...req.body, imageId: imageRef(req.params.imageRef).id }),
  );

  app.delete(
    "/images/:imageRef",
    { schema: { params: ImageRefParams, response: answers({ 200: ANSWERS.Delete }) } },
    async (req) =>
      methods.Delete(req.principal, {
        imageId: imageRef(req.params.imageRef).id,
        skipRecycleBin: (req.query as Record<string, unknown>).skipRecycleBin === "true",
      }),
  );
};

/** Splits `{imageId}` or `{imageId}:verb` (custom methods share the path segment). */
function imageRef(ref: string): { id: string; verb: string | null } {
  const colon = ref.indexOf(":");
  const id = colon < 0 ? ref : ref.slice(0, colon);
  new Rules().id("imageId", id).check();
  return { id, verb: colon < 0 ? null : ref.slice(colon + 1) };
}
