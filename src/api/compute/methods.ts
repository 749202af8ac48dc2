import { type ExportImageBody, toExportInput } from "./export.js";
import type { Core } from "../../core/core.js";
import { invalidArgument } from "../../core/errors.js";
import type { ImageCondition } from "../../core/image-query.js";
import type { ImageKind } from "../../core/image.js";
import type { UpdatePolicy } from "../../core/images/update-image.js";
import { ownEntry } from "../../core/own-entry.js";
import type { Principal } from "../../core/principal.js";
import { type FilterTerm, readImageListRequest, readPage } from "../yandex/listing.js";
import type { ImageService } from "../yandex/image-service.js";
import { renderBinding, renderOperation } from "../yandex/operation-render.js";
import type { AccessBindingsBody, ListImagesQuery, PageQuery } from "../yandex/schemas.js";
import { Rules } from "../yandex/validation.js";
import { type DeprecateImageBody, toDeprecationInput } from "./deprecation.js";
import { renderComputeImage } from "./render.js";
import { FAMILY_PATTERN, toChange, toCreateInput } from "./rules.js";
import type { CreateImageBody, UpdateImageBody } from "./schemas.js";
import { coreStatusesFor } from "./status.js";

/** What a call carries besides its message: the caller's idempotency key for mutations. */
export interface CallContext {
  idempotencyKey: string | null;
}

type Json = Record<string, unknown>;

/**
 * The Compute ImageService, one function per RPC, taking the request message and returning the
 * response in proto3 JSON form. REST routes and the gRPC service both call these, so a request
 * is checked by the same rules and answered with the same document whatever the transport.
 */
export function computeImageMethods(core: Core, services: Record<ImageKind, ImageService>) {
  const { images, accessBindings } = core;
  const op = (o: Parameters<typeof renderOperation>[0]) => renderOperation(o, services);
  const ref = (id: string | undefined, field = "imageId") => ({
    kind: "compute" as const,
    id: checkId(id, field),
  });

  return {
    Get: async (p: Principal, req: { imageId?: string }): Promise<Json> =>
      renderComputeImage(await images.get(p, ref(req.imageId))),

    GetLatestByFamily: async (
      p: Principal,
      req: { folderId?: string; folder_id?: string; family?: string },
    ): Promise<Json> => {
      const folderId = req.folderId ?? req.folder_id;
      const r = new Rules();
      r.id("folderId", folderId);
      r.required("family", req.family).pattern("family", req.family, FAMILY_PATTERN);
      r.check();
      return renderComputeImage(await images.latestOfFamily(p, "compute", folderId!, req.family!));
    },

    List: async (p: Principal, req: ListImagesQuery): Promise<Json> => {
      const list = readImageListRequest(req, {
        defaultPageSize: 100,
        filterOps: ["=", "!=", "IN", "NOT IN", "<", ">="],
      });
      const page = await images.list(p, { kind: "compute", ...list, conditions: toConditions(list.terms) });
      return {
        images: page.items.map(renderComputeImage),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
    },

    Create: async (p: Principal, req: CreateImageBody, ctx: CallContext): Promise<Json> =>
      op(await images.create(p, { ...toCreateInput(req), idempotencyKey: ctx.idempotencyKey })),

    Update: async (p: Principal, req: UpdateImageBody & { imageId?: string }): Promise<Json> => {
      const { imageId, ...body } = req;
      const { operation } = await images.update(p, ref(imageId), toChange(body), UPDATE_POLICY);
      return op(operation);
    },

    /** `skipRecycleBin`: Vitrine's extension (README "Lifecycle"), delete for good. */
    Delete: async (p: Principal, req: { imageId?: string; skipRecycleBin?: boolean }): Promise<Json> =>
      op(await images.delete(p, ref(req.imageId), "Delete image", { skipBin: req.skipRecycleBin === true })),

    /** Vitrine's extension (README "Lifecycle"). */
    Deprecate: async (p: Principal, req: DeprecateImageBody & { imageId?: string }): Promise<Json> => {
      const { imageId, ...body } = req;
      const input = toDeprecationInput(body);
      return op((await core.lifecycle.deprecate(p, ref(imageId), input)).operation);
    },

    /** Vitrine's extension (README "Conversion and export"). */
    Export: async (p: Principal, req: ExportImageBody & { imageId?: string }): Promise<Json> => {
      const { imageId, ...body } = req;
      return op(await core.conversion.export(p, ref(imageId), toExportInput(body)));
    },

    ListOperations: async (p: Principal, req: PageQuery & { imageId?: string }): Promise<Json> => {
      const { pageSize, pageToken } = readPage(req, 100);
      const page = await images.listOperations(p, ref(req.imageId), pageSize, pageToken);
      return {
        operations: page.items.map(op),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
    },

    ListAccessBindings: async (p: Principal, req: PageQuery & { resourceId?: string }): Promise<Json> => {
      const { pageSize, pageToken } = readPage(req, 100);
      const page = await accessBindings.list(p, ref(req.resourceId, "resourceId"), pageSize, pageToken);
      return {
        accessBindings: page.items.map(renderBinding),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
    },

    SetAccessBindings: async (
      p: Principal,
      req: Pick<AccessBindingsBody, "resourceId" | "accessBindings">,
    ): Promise<Json> =>
      op(await accessBindings.set(p, ref(req.resourceId, "resourceId"), req.accessBindings ?? [])),

    UpdateAccessBindings: async (
      p: Principal,
      req: Pick<AccessBindingsBody, "resourceId" | "accessBindingDeltas">,
    ): Promise<Json> => {
      const deltas = (req.accessBindingDeltas ?? []).map((d) => ({
        action: bindingAction(d.action),
        accessBinding: d.accessBinding,
      }));
      return op(await accessBindings.update(p, ref(req.resourceId, "resourceId"), deltas));
    },
  };
}

export type ComputeImageMethods = ReturnType<typeof computeImageMethods>;

/** An image id: required, at most 50 characters. */
function checkId(id: string | undefined, field: string): string {
  new Rules().id(field, id).check();
  return id!;
}

/** Compute updates apply at once; names are unique per folder and minDiskSize covers the data. */
const UPDATE_POLICY: UpdatePolicy = {
  apply: "now",
  uniqueName: true,
  minDiskCoversData: true,
  description: "Update image",
};

/** AccessBindingAction by name or proto number (protojson accepts both). */
function bindingAction(action: string | number): string {
  return typeof action === "number" ? (["UNSPECIFIED", "ADD", "REMOVE"][action] ?? String(action)) : action;
}

const FILTER_FIELDS: Record<string, "id" | "name" | "family" | "status"> = {
  id: "id",
  name: "name",
  family: "family",
  status: "status",
};

/**
 * Compute list filter terms → core conditions; statuses are translated to the core's. Vitrine's
 * extension `lastUsedAt < "<RFC 3339>"` (or `>=`) finds images unused since a time (README
 * "Lifecycle"); an image never used counts from its creation.
 */
function toConditions(terms: FilterTerm[]): ImageCondition[] {
  return terms.map((t): ImageCondition => {
    if (t.field === "lastUsedAt" || t.field === "last_used_at") {
      const when = Date.parse(t.values[0] ?? "");
      if ((t.op !== "<" && t.op !== ">=") || Number.isNaN(when)) {
        const description =
          'lastUsedAt takes < or >= and an RFC 3339 time, e.g. lastUsedAt < "2026-09-01T00:00:00Z"';
        throw invalidArgument(`filter: ${description}`, [{ field: "filter", description }]);
      }
      return { field: "last_used", op: t.op, values: [when] };
    }
    if (t.op === "<" || t.op === ">=") {
      const description = `operator ${t.op} is only supported for lastUsedAt`;
      throw invalidArgument(`filter: ${description}`, [{ field: "filter", description }]);
    }
    const field = ownEntry(FILTER_FIELDS, t.field);
    if (!field) {
      const description = `field ${t.field} is not supported; use name, family, status, id or lastUsedAt`;
      throw invalidArgument(`filter: ${description}`, [{ field: "filter", description }]);
    }
    if (field === "status") {
      const unknown = t.values.find((v) => coreStatusesFor(v).length === 0);
      if (unknown !== undefined) {
        const description = `unknown status "${unknown}"; use CREATING, READY, ERROR or DELETING`;
        throw invalidArgument(`filter: ${description}`, [{ field: "filter", description }]);
      }
    }
    const values = field === "status" ? t.values.flatMap(coreStatusesFor) : t.values;
    return { field, op: t.op === "!=" || t.op === "NOT IN" ? "not in" : "in", values };
  });
}
