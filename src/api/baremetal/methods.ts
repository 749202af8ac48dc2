import type { Core } from "../../core/core.js";
import { invalidArgument } from "../../core/errors.js";
import type { ImageCondition } from "../../core/image-query.js";
import type { ImageKind } from "../../core/image.js";
import type { UpdatePolicy } from "../../core/images/update-image.js";
import { ownEntry } from "../../core/own-entry.js";
import type { Principal } from "../../core/principal.js";
import type { CallContext } from "../compute/methods.js";
import { type FilterTerm, readImageListRequest, readPage } from "../yandex/listing.js";
import type { ImageService } from "../yandex/image-service.js";
import { renderOperation } from "../yandex/operation-render.js";
import type { ListImagesQuery, PageQuery } from "../yandex/schemas.js";
import { renderBareMetalImage } from "./render.js";
import { FOLDER_PATTERN, checkImageId, toChange, toCreateInput } from "./rules.js";
import type { CreateImageBody, UpdateImageBody } from "./schemas.js";

const DEFAULT_PAGE_SIZE = 20;

type Json = Record<string, unknown>;

/**
 * The BareMetal ImageService (ISO images servers boot from), one function per RPC taking the
 * request message and returning the response in proto3 JSON form, for REST and gRPC alike.
 */
export function bareMetalImageMethods(core: Core, services: Record<ImageKind, ImageService>) {
  const { images } = core;
  const op = (o: Parameters<typeof renderOperation>[0]) => renderOperation(o, services);
  const ref = (id: string | undefined) => {
    checkImageId(id ?? "");
    return { kind: "baremetal" as const, id: id! };
  };

  return {
    Get: async (p: Principal, req: { imageId?: string }): Promise<Json> =>
      renderBareMetalImage(await images.get(p, ref(req.imageId))),

    List: async (p: Principal, req: ListImagesQuery): Promise<Json> => {
      const list = readImageListRequest(req, {
        defaultPageSize: DEFAULT_PAGE_SIZE,
        filterOps: ["=", ":"],
        folderPattern: FOLDER_PATTERN,
      });
      const page = await images.list(p, { kind: "baremetal", ...list, conditions: toConditions(list.terms) });
      return {
        images: page.items.map(renderBareMetalImage),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
    },

    Create: async (p: Principal, req: CreateImageBody, ctx: CallContext): Promise<Json> =>
      op(await images.create(p, { ...toCreateInput(req), idempotencyKey: ctx.idempotencyKey })),

    Update: async (p: Principal, req: UpdateImageBody & { imageId?: string }): Promise<Json> => {
      const { imageId, ...body } = req;
      const target = ref(imageId);
      const { operation } = await images.update(p, target, toChange(body), UPDATE_POLICY);
      return op(operation);
    },

    Delete: async (p: Principal, req: { imageId?: string }): Promise<Json> =>
      op(await images.delete(p, ref(req.imageId), "Delete image")),

    ListOperations: async (p: Principal, req: PageQuery & { imageId?: string }): Promise<Json> => {
      const target = ref(req.imageId);
      const { pageSize, pageToken } = readPage(req, DEFAULT_PAGE_SIZE);
      const page = await images.listOperations(p, target, pageSize, pageToken);
      return {
        operations: page.items.map(op),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
    },
  };
}

export type BareMetalImageMethods = ReturnType<typeof bareMetalImageMethods>;

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
