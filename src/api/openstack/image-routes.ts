import { MIB, type QuotaResource, isByteResource } from "../../core/quotas/quota.js";
import { NO_BODY, answers } from "../http/response-shapes.js";
import { OPENSTACK_ANSWERS as A } from "./responses.js";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { invalidArgument, isVitrineError } from "../../core/errors.js";
import { GIB } from "../../core/image-sizes.js";
import type { Image } from "../../core/image.js";
import type { Principal } from "../../core/principal.js";
import { DEPRECATION_FIELDS, osProperties, renderedExtensionFields } from "./extension-fields.js";
import { COUNT_CAP } from "../../core/images/search-images.js";
import { importMethods } from "./glance-import.js";
import { parseListQuery } from "./listing.js";
import {
  type LocationOp,
  isExtensionNoop,
  isLocationOp,
  locationOp,
  parsePatch,
  patchToChange,
  touchesExtensionField,
} from "./patch.js";
import { DECLARED_FORMATS } from "./disk-formats.js";
import { PATCH_MEDIA_TYPES, baseUrl, mediaType, objectBody, requireMediaType } from "./conventions.js";
import { renderImage } from "./render.js";
import { GlanceHttpError } from "./errors.js";
import type { OpenStackRoutesOptions } from "./routes.js";
import { uniqueNames, updatePolicy } from "./update-policy.js";
import {
  IMAGE_SCHEMA,
  IMAGES_SCHEMA,
  MEMBERS_SCHEMA,
  MEMBER_SCHEMA,
  type ImageDocument,
  WRITABLE_BASE_ATTRIBUTES,
} from "./schemas.js";
import type { OpenStackProfile } from "../../config.js";
import { assertMatchesImageSchema, assertWritable } from "./validation.js";

/** Attributes of a create body that are not custom properties (a create may also name its id and owner). */
const CREATE_ATTRIBUTES = new Set<string>([...WRITABLE_BASE_ATTRIBUTES, "id", "owner"]);

type IdParams = { Params: { imageId: string } };

/** Discovery documents, and images: create, list, show, patch, delete, (de)activate. */
export const imageRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (app, opts) => {
  const { images } = opts.core;
  const policy = updatePolicy(opts.profile);
  const { imageData } = opts.core;
  const render = (image: Image, viewer: Principal) =>
    renderImage(
      image,
      imageData.storesOf(image),
      viewer,
      imageData.locationsShown() ? imageData.locationsOf(image) : null,
    );

  /** One location operation (Glance's writable locations, read and verified by the core). */
  const changeLocation = (
    req: FastifyRequest<IdParams>,
    reply: FastifyReply,
    op: LocationOp,
  ): Promise<Image> => {
    const uuid = req.params.imageId;
    if (op.op === "remove") return imageData.sourceLocations.remove(req.principal, uuid, op.index);
    if (op.op === "replace") return imageData.sourceLocations.replace(req.principal, uuid, op.locations);
    // The URL's read stops if the client goes away before its answer (the request's own body is
    // read by now: only the response tells).
    const aborted = new AbortController();
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) aborted.abort(new Error("the client went away"));
    });
    return imageData.sourceLocations.add(req.principal, uuid, {
      url: op.url,
      metadata: op.metadata,
      validation: op.validation,
      formatsByDeclared: DECLARED_FORMATS,
      signal: aborted.signal,
    });
  };

  app.get("/schemas/image", { schema: { response: answers({ 200: A.schema }) } }, async () => IMAGE_SCHEMA);
  app.get("/schemas/images", { schema: { response: answers({ 200: A.schema }) } }, async () => IMAGES_SCHEMA);
  app.get("/schemas/member", { schema: { response: answers({ 200: A.schema }) } }, async () => MEMBER_SCHEMA);
  app.get(
    "/schemas/members",
    { schema: { response: answers({ 200: A.schema }) } },
    async () => MEMBERS_SCHEMA,
  );

  app.get("/info/import", { schema: { response: answers({ 200: A.importInfo }) } }, async () => ({
    "import-methods": {
      description: "Import methods available.",
      type: "array",
      value: importMethods(opts.core.imageData.importOffer()),
    },
  }));
  app.get("/info/stores", { schema: { response: answers({ 200: A.stores }) } }, async () => ({
    stores: opts.core.imageData.stores().map((s) => ({
      id: s.id,
      ...(s.isDefault ? { default: "true" as const } : {}),
    })),
  }));
  // Glance's default policy: the store details are the admin's.
  app.get("/info/stores/detail", { schema: { response: answers({ 200: A.storesDetail }) } }, async (req) => {
    if (!req.principal.isAdmin) {
      throw new GlanceHttpError(403, "You are not authorized to complete stores_info_detail action.");
    }
    return {
      stores: opts.core.imageData.stores().map((s) => ({
        id: s.id,
        default: s.isDefault,
        type: s.kind,
        weight: 0,
        // Where it is (paths, buckets): the admin's only.
        properties: { description: s.description },
      })),
    };
  });
  // The caller's project's quotas, as Glance reports them with unified limits: each limited
  // resource's limit and usage, sizes in MiB; no limit anywhere answers the empty object Glance
  // answers without unified limits.
  app.get("/info/usage", { schema: { response: answers({ 200: A.usage }) } }, async (req) => {
    // A caller with no role in its own project (a token bound elsewhere) has no usage to see.
    const quota = await opts.core.quotas.get(req.principal, req.principal.projectId).catch((err: unknown) => {
      if (isVitrineError(err) && err.code === "PERMISSION_DENIED") return null;
      throw err;
    });
    if (!quota) return { usage: {} };
    const usage: Record<string, { limit: number; usage: number }> = {};
    for (const [resource, { limit, usage: used }] of Object.entries(quota.resources)) {
      if (limit === null) continue;
      const bytes = isByteResource(resource as QuotaResource);
      usage[resource] = bytes
        ? { limit: Math.floor(limit / MIB), usage: Math.ceil(used / MIB) }
        : { limit, usage: used };
    }
    return { usage };
  });

  app.post("/images", { schema: { response: answers({ 201: A.image }) } }, async (req, reply) => {
    // Glance reads any other media type as JSON too, and fails on it the same way.
    if (mediaType(req) !== "application/json") throw invalidArgument("Malformed JSON in request body.");
    const body = objectBody(req.body ?? {});
    for (const key of Object.keys(body)) {
      assertWritable(key, { allowId: true });
      // A deprecation is set on an image that exists (README "Lifecycle"), never stored as a property.
      if ((DEPRECATION_FIELDS as readonly string[]).includes(key)) {
        throw invalidArgument(`Attribute '${key}' can only be set on an existing image (PATCH).`);
      }
    }
    assertMatchesImageSchema(body);
    const extras: Record<string, string> = {};
    for (const [k, v] of Object.entries(body))
      if (!CREATE_ATTRIBUTES.has(k) && typeof v === "string") extras[k] = v;
    const properties = { ...extras, ...osProperties(extras) };
    const visibility = createVisibility(body.visibility, opts.profile);
    const image = await images.register(req.principal, {
      uuid: body.id?.toLowerCase() ?? null,
      uniqueName: uniqueNames(opts.profile),
      folderId: body.owner ?? req.principal.projectId,
      name: body.name ?? "",
      visibility,
      protected: body.protected ?? false,
      osHidden: body.os_hidden ?? false,
      tags: [...new Set(body.tags ?? [])],
      properties,
      diskFormat: body.disk_format === undefined ? "vhd" : body.disk_format,
      containerFormat: body.container_format === undefined ? "bare" : body.container_format,
      minRam: body.min_ram ?? 0,
      minDiskSize: (body.min_disk ?? 0) * GIB,
      osType: properties.__os_type === "Windows" ? "WINDOWS" : "LINUX",
    });
    return reply
      .code(201)
      .header("location", `${baseUrl(req, opts.publicUrl)}/v2/images/${image.uuid}`)
      .header("openstack-image-import-methods", importMethods(opts.core.imageData.importOffer()).join(","))
      .header(
        "openstack-image-store-ids",
        opts.core.imageData
          .stores()
          .map((s) => s.id)
          .join(","),
      )
      .send(render(image, req.principal));
  });

  // Any query parameter may be a filter (custom properties), so the query is read as a whole.
  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    "/images",
    { schema: { response: answers({ 200: A.images }) } },
    async (req) => {
      const query = req.query;
      const page = await images.search(req.principal, parseListQuery(query));
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (k === "marker" || v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
      }
      const first = params.size > 0 ? `/v2/images?${params.toString()}` : "/v2/images";
      const last = page.items[page.items.length - 1];
      if (page.more && last) params.set("marker", last.uuid);
      return {
        images: page.items.map((image) => render(image, req.principal)),
        first,
        schema: "/v2/schemas/images",
        ...(page.more && last ? { next: `/v2/images?${params.toString()}` } : {}),
        // Asked for with x_vitrine_count=true; counted no further than COUNT_CAP.
        ...(page.total === null
          ? {}
          : {
              x_vitrine_total: Math.min(page.total, COUNT_CAP),
              x_vitrine_total_capped: page.total > COUNT_CAP,
            }),
      };
    },
  );

  app.get<IdParams>("/images/:imageId", { schema: { response: answers({ 200: A.image }) } }, async (req) =>
    render(await images.get(req.principal, { uuid: req.params.imageId }), req.principal),
  );

  app.patch<IdParams>(
    "/images/:imageId",
    { schema: { response: answers({ 200: A.image }) } },
    async (req, reply) => {
      const type = requireMediaType(req, PATCH_MEDIA_TYPES, { "accept-patch": PATCH_MEDIA_TYPES.join(", ") });
      const ref = { uuid: req.params.imageId };
      const all = parsePatch(req.body, type);
      // Location operations first, in order (each reads its URL), then the rest as one change.
      let changed: Image | null = null;
      for (const op of all.filter(isLocationOp)) changed = await changeLocation(req, reply, locationOp(op));
      let ops = all.filter((op) => !isLocationOp(op));
      if (changed && ops.length === 0) return render(changed, req.principal);
      if (ops.some(touchesExtensionField)) {
        const shown = renderedExtensionFields(await images.get(req.principal, ref), req.principal);
        ops = ops.filter((op) => !isExtensionNoop(op, shown));
      }
      const { image } = await images.update(req.principal, ref, patchToChange(ops), policy);
      return render(image, req.principal);
    },
  );

  app.delete<IdParams>(
    "/images/:imageId",
    { schema: { response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      // Vitrine's extension (README "Lifecycle"): delete for good, past the recycle bin.
      const skipBin = (req.query as Record<string, unknown>).x_vitrine_skip_recycle_bin === "true";
      await images.delete(req.principal, { uuid: req.params.imageId }, "Delete image", { skipBin });
      return reply.code(204).send();
    },
  );

  // Vitrine's extension: what the caller may do to the image, and why not (the web console offers
  // only these); decided by the rules the other routes apply.
  app.get<IdParams>(
    "/images/:imageId/actions",
    { schema: { response: answers({ 200: A.imageActions }) } },
    async (req) => ({ actions: await images.permissions(req.principal, { uuid: req.params.imageId }) }),
  );

  for (const [verb, deactivated] of [
    ["deactivate", true],
    ["reactivate", false],
  ] as const) {
    app.post<IdParams>(
      `/images/:imageId/actions/${verb}`,
      { schema: { response: answers({ 204: NO_BODY }) } },
      async (req, reply) => {
        await images.setDeactivated(req.principal, { uuid: req.params.imageId }, deactivated);
        return reply.code(204).send();
      },
    );
  }
};

/**
 * The visibility of a new image. IMS (the seed): private, and only private when creating; Glance
 * (since Rocky): shared unless given, any visibility the caller may set (the core checks who
 * may make an image public).
 */
function createVisibility(
  given: ImageDocument["visibility"],
  profile: OpenStackProfile,
): NonNullable<ImageDocument["visibility"]> {
  if (profile === "glance") return given ?? "shared";
  if (given !== undefined && given !== "private") {
    throw invalidArgument(
      `Invalid visibility: '${given}'. An image is created private; change its visibility once it exists.`,
      [{ field: "visibility", description: "must be private when creating an image" }],
    );
  }
  return "private";
}
