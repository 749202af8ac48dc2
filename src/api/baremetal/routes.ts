import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { invalidArgument } from "../../core/errors.js";
import type { ImageCondition } from "../../core/image-query.js";
import type { UpdatePolicy } from "../../core/images/update-image.js";
import { type FilterTerm, readImageListRequest, readPage } from "../yandex/listing.js";
import { type ImageRoutesOptions, renderOperation } from "../yandex/operation-render.js";
import { idempotencyKey, useYandexConventions } from "../yandex/plugin.js";
import { ListImagesQuery, PageQuery } from "../yandex/schemas.js";
import { renderBareMetalImage } from "./render.js";
import { FOLDER_PATTERN, checkImageId, toChange, toCreateInput } from "./rules.js";
import { CreateImageBody, ImageIdParams, UpdateImageBody } from "./schemas.js";
import { ownEntry } from "../../core/own-entry.js";

const DEFAULT_PAGE_SIZE = 20;

/** BareMetal Image API v1alpha over REST (`/baremetal/v1alpha/images...`): ISO images servers boot from. */
export const bareMetalRoutes: FastifyPluginAsync<ImageRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  useYandexConventions(app, opts.auth);
  const { images } = opts.core;
  const op = (o: Parameters<typeof renderOperation>[0]) => renderOperation(o, opts.dialects);

  app.post("/images", { schema: { body: CreateImageBody } }, async (req) =>
    op(
      await images.create(req.principal, { ...toCreateInput(req.body), idempotencyKey: idempotencyKey(req) }),
    ),
  );

  app.get("/images", { schema: { querystring: ListImagesQuery } }, async (req) => {
    const list = readImageListRequest(req.query, {
      defaultPageSize: DEFAULT_PAGE_SIZE,
      filterOps: ["=", ":"],
      folderPattern: FOLDER_PATTERN,
    });
    const page = await images.list(req.principal, {
      kind: "baremetal",
      ...list,
      conditions: toConditions(list.terms),
    });
    return {
      images: page.items.map(renderBareMetalImage),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    };
  });

  app.get("/images/:imageId", { schema: { params: ImageIdParams } }, async (req) => {
    checkImageId(req.params.imageId);
    return renderBareMetalImage(
      await images.get(req.principal, { kind: "baremetal", id: req.params.imageId }),
    );
  });

  app.get(
    "/images/:imageId/operations",
    { schema: { params: ImageIdParams, querystring: PageQuery } },
    async (req) => {
      checkImageId(req.params.imageId);
      const { pageSize, pageToken } = readPage(req.query, DEFAULT_PAGE_SIZE);
      const page = await images.listOperations(
        req.principal,
        { kind: "baremetal", id: req.params.imageId },
        pageSize,
        pageToken,
      );
      return {
        operations: page.items.map(op),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
    },
  );

  app.patch("/images/:imageId", { schema: { params: ImageIdParams, body: UpdateImageBody } }, async (req) => {
    checkImageId(req.params.imageId);
    const change = toChange(req.body);
    const { operation } = await images.update(
      req.principal,
      { kind: "baremetal", id: req.params.imageId },
      change,
      UPDATE_POLICY,
    );
    return op(operation);
  });

  app.delete("/images/:imageId", { schema: { params: ImageIdParams } }, async (req) => {
    checkImageId(req.params.imageId);
    return op(
      await images.delete(req.principal, { kind: "baremetal", id: req.params.imageId }, "Delete image"),
    );
  });
};

/** BareMetal updates are applied by a worker (the image shows UPDATING); names are unique per folder. */
const UPDATE_POLICY: UpdatePolicy = {
  apply: "deferred",
  uniqueName: true,
  minDiskCoversData: false,
  description: "Update image",
};

const FILTER_FIELDS: Record<string, "id" | "name"> = { id: "id", name: "name" };

/** BareMetal filters: `id` and `name`, with `=` (equal) or `:` (contains), joined by AND. */
function toConditions(terms: FilterTerm[]): ImageCondition[] {
  return terms.map((t) => {
    const field = ownEntry(FILTER_FIELDS, t.field);
    if (!field) {
      const description = `field ${t.field} is not supported; use id or name`;
      throw invalidArgument(`filter: ${description}`, [{ field: "filter", description }]);
    }
    return { field, op: t.op === ":" ? "contains" : "in", values: t.values };
  });
}
