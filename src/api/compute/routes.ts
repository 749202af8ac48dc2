import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { invalidArgument, notFound } from "../../core/errors.js";
import type { ImageCondition } from "../../core/image-query.js";
import type { UpdatePolicy } from "../../core/images/update-image.js";
import { type FilterTerm, readImageListRequest, readPage } from "../yandex/listing.js";
import { type ImageRoutesOptions, renderBinding, renderOperation } from "../yandex/operation-render.js";
import { idempotencyKey, useYandexConventions } from "../yandex/plugin.js";
import { AccessBindingsBody, ListImagesQuery, PageQuery } from "../yandex/schemas.js";
import { Rules } from "../yandex/validation.js";
import { renderComputeImage } from "./render.js";
import { FAMILY_PATTERN, toChange, toCreateInput } from "./rules.js";
import { CreateImageBody, ImageRefParams, LatestByFamilyQuery, UpdateImageBody } from "./schemas.js";
import { coreStatusesFor } from "./status.js";
import { ownEntry } from "../../core/own-entry.js";

/** Compute Image API v1 over REST (`/compute/v1/images...`). Translates shapes; rules live in core. */
export const computeRoutes: FastifyPluginAsync<ImageRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  useYandexConventions(app, opts.auth);
  const { images, accessBindings } = opts.core;
  const op = (o: Parameters<typeof renderOperation>[0]) => renderOperation(o, opts.dialects);

  app.post("/images", { schema: { body: CreateImageBody } }, async (req) =>
    op(
      await images.create(req.principal, { ...toCreateInput(req.body), idempotencyKey: idempotencyKey(req) }),
    ),
  );

  // `images:latestByFamily` is one path segment with a literal colon (escaped as "::").
  app.get("/images::latestByFamily", { schema: { querystring: LatestByFamilyQuery } }, async (req) => {
    const folderId = req.query.folderId ?? req.query.folder_id;
    const r = new Rules();
    r.required("folderId", folderId).maxLength("folderId", folderId, 50);
    r.required("family", req.query.family).pattern("family", req.query.family, FAMILY_PATTERN);
    r.check();
    return renderComputeImage(
      await images.latestOfFamily(req.principal, "compute", folderId!, req.query.family!),
    );
  });

  app.get("/images", { schema: { querystring: ListImagesQuery } }, async (req) => {
    const list = readImageListRequest(req.query, {
      defaultPageSize: 100,
      filterOps: ["=", "!=", "IN", "NOT IN"],
    });
    const page = await images.list(req.principal, {
      kind: "compute",
      ...list,
      conditions: toConditions(list.terms),
    });
    return {
      images: page.items.map(renderComputeImage),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    };
  });

  app.get(
    "/images/:imageRef",
    // An image bound to allUsers is readable without credentials (the core decides which).
    { schema: { params: ImageRefParams, querystring: PageQuery }, config: { allowAnonymous: true } },
    async (req) => {
      const { id, verb } = imageRef(req.params.imageRef);
      if (verb === null) return renderComputeImage(await images.get(req.principal, { kind: "compute", id }));
      if (verb === "listAccessBindings") {
        const { pageSize, pageToken } = readPage(req.query, 100);
        const page = await accessBindings.list(req.principal, { kind: "compute", id }, pageSize, pageToken);
        return {
          accessBindings: page.items.map(renderBinding),
          ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
        };
      }
      throw notFound(`No such method: GET ${req.url.split("?")[0]}`);
    },
  );

  app.post(
    "/images/:imageRef",
    { schema: { params: ImageRefParams, body: AccessBindingsBody } },
    async (req) => {
      const { id, verb } = imageRef(req.params.imageRef);
      const ref = { kind: "compute" as const, id };
      const body = req.body;
      const r = new Rules();
      if (body.resourceId !== undefined && body.resourceId !== id) {
        r.fail("resourceId", "must match the image id in the path");
      }
      if (verb === "setAccessBindings") {
        if (body.accessBindingDeltas) r.fail("accessBindingDeltas", "is not a field of this method");
        r.check();
        return op(await accessBindings.set(req.principal, ref, body.accessBindings ?? []));
      }
      if (verb === "updateAccessBindings") {
        if (body.accessBindings) r.fail("accessBindings", "is not a field of this method");
        r.check();
        const deltas = (body.accessBindingDeltas ?? []).map((d) => ({
          action: bindingAction(d.action),
          accessBinding: d.accessBinding,
        }));
        return op(await accessBindings.update(req.principal, ref, deltas));
      }
      throw notFound(`No such method: POST ${req.url.split("?")[0]}`);
    },
  );

  app.get(
    "/images/:imageRef/operations",
    { schema: { params: ImageRefParams, querystring: PageQuery } },
    async (req) => {
      const { id } = imageRef(req.params.imageRef);
      const { pageSize, pageToken } = readPage(req.query, 100);
      const page = await images.listOperations(req.principal, { kind: "compute", id }, pageSize, pageToken);
      return {
        operations: page.items.map(op),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
    },
  );

  app.patch(
    "/images/:imageRef",
    { schema: { params: ImageRefParams, body: UpdateImageBody } },
    async (req) => {
      const { id } = imageRef(req.params.imageRef);
      const { operation } = await images.update(
        req.principal,
        { kind: "compute", id },
        toChange(req.body),
        UPDATE_POLICY,
      );
      return op(operation);
    },
  );

  app.delete("/images/:imageRef", { schema: { params: ImageRefParams } }, async (req) => {
    const { id } = imageRef(req.params.imageRef);
    return op(await images.delete(req.principal, { kind: "compute", id }, "Delete image"));
  });
};

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

/** Splits `{imageId}` or `{imageId}:verb` (custom methods share the path segment). */
function imageRef(ref: string): { id: string; verb: string | null } {
  const colon = ref.indexOf(":");
  const id = colon < 0 ? ref : ref.slice(0, colon);
  new Rules().required("imageId", id).maxLength("imageId", id, 50).check();
  return { id, verb: colon < 0 ? null : ref.slice(colon + 1) };
}

const FILTER_FIELDS: Record<string, ImageCondition["field"]> = {
  id: "id",
  name: "name",
  family: "family",
  status: "status",
};

/** Compute list filter terms → core conditions; statuses are translated to the core's. */
function toConditions(terms: FilterTerm[]): ImageCondition[] {
  return terms.map((t) => {
    const field = ownEntry(FILTER_FIELDS, t.field);
    if (!field) {
      throw invalidArgument(`filter: field ${t.field} is not supported; use name, family, status or id`, [
        { field: "filter", description: `field ${t.field} is not supported; use name, family, status or id` },
      ]);
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
