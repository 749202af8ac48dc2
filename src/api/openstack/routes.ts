import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { Authenticator } from "../../auth/authenticator.js";
import { invalidArgument, notFound } from "../../core/errors.js";
import type { Image } from "../../core/image.js";
import { MEMBER_STATUSES, type MemberStatus } from "../../core/member.js";
import type { ImageDataService, ImportMethod } from "../../core/services/image-data.js";
import type { ImageMembersService } from "../../core/services/image-members.js";
import type { ImageService } from "../../core/services/images.js";
import { GlanceHttpError } from "./errors.js";
import { osProperties } from "./extension-fields.js";
import { parseListQuery } from "./listing.js";
import { applyPatch, parsePatch } from "./patch.js";
import {
  PATCH_MEDIA_TYPES,
  baseUrl,
  mediaType,
  requireMediaType,
  requireToken,
  useOpenStackConventions,
} from "./plugin.js";
import { renderImage, renderMember } from "./render.js";
import {
  IMAGE_SCHEMA,
  IMAGES_SCHEMA,
  MEMBERS_SCHEMA,
  MEMBER_SCHEMA,
  WRITABLE_BASE_ATTRIBUTES,
} from "./schemas.js";
import { assertMatchesImageSchema, assertWritable } from "./validation.js";
import { versionRoutes } from "./versions.js";

export interface OpenStackRoutesOptions {
  images: ImageService;
  imageData: ImageDataService;
  imageMembers: ImageMembersService;
  auth: Authenticator;
  maxImageBytes: number;
  maxRequestBodyBytes: number;
  publicUrl: string | null;
  storeId: string;
}

const GIB = 1024 ** 3;
const IMPORT_METHODS = ["glance-direct", "web-download"] as const;
/** Attributes of a create body that are not custom properties (a create may also name its id and owner). */
const CREATE_ATTRIBUTES = new Set<string>([...WRITABLE_BASE_ATTRIBUTES, "id", "owner"]);

type IdParams = { Params: { imageId: string } };
type MemberParams = { Params: { imageId: string; memberId: string } };

/** The OpenStack Image API v2 (Glance-compatible), with the public-cloud extension fields. */
export const openStackRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (app, opts) => {
  useOpenStackConventions(app, opts.maxRequestBodyBytes);
  await app.register(versionRoutes, { publicUrl: opts.publicUrl });
  await app.register(imageRoutes, { ...opts, prefix: "/v2" });
};

const imageRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (app, opts) => {
  const { images, imageData, imageMembers } = opts;
  requireToken(app, opts.auth);
  const render = (image: Image) => renderImage(image, opts.storeId);

  app.get("/schemas/image", async () => IMAGE_SCHEMA);
  app.get("/schemas/images", async () => IMAGES_SCHEMA);
  app.get("/schemas/member", async () => MEMBER_SCHEMA);
  app.get("/schemas/members", async () => MEMBERS_SCHEMA);

  app.get("/info/import", async () => ({
    "import-methods": { description: "Import methods available.", type: "array", value: IMPORT_METHODS },
  }));
  app.get("/info/stores", async () => ({ stores: [{ id: opts.storeId, default: "true" }] }));

  app.post("/images", async (req, reply) => {
    // Glance reads any other media type as JSON too, and fails on it the same way.
    if (mediaType(req) !== "application/json") throw invalidArgument("Malformed JSON in request body.");
    const body = objectBody(req.body ?? {});
    for (const key of Object.keys(body)) assertWritable(key, { allowId: true });
    assertMatchesImageSchema(body);
    const extras: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (!CREATE_ATTRIBUTES.has(k)) extras[k] = v as string;
    const properties = { ...extras, ...osProperties(extras) };
    const image = await images.register(req.principal, {
      uuid: (body.id as string | undefined)?.toLowerCase() ?? null,
      folderId: (body.owner as string | undefined) ?? req.principal.projectId,
      name: (body.name as string | null | undefined) ?? "",
      visibility: (body.visibility as Image["visibility"] | undefined) ?? "private",
      protected: (body.protected as boolean | undefined) ?? false,
      osHidden: (body.os_hidden as boolean | undefined) ?? false,
      tags: [...new Set((body.tags as string[] | undefined) ?? [])],
      properties,
      diskFormat: body.disk_format === undefined ? "vhd" : (body.disk_format as string | null),
      containerFormat:
        body.container_format === undefined ? "bare" : (body.container_format as string | null),
      minRam: (body.min_ram as number | undefined) ?? 0,
      minDiskSize: ((body.min_disk as number | undefined) ?? 0) * GIB,
      osType: properties.__os_type === "Windows" ? "WINDOWS" : "LINUX",
    });
    return reply
      .code(201)
      .header("location", `${baseUrl(req, opts.publicUrl)}/v2/images/${image.uuid}`)
      .header("openstack-image-import-methods", IMPORT_METHODS.join(","))
      .header("openstack-image-store-ids", opts.storeId)
      .send(render(image));
  });

  app.get("/images", async (req) => {
    const query = req.query as Record<string, string | string[] | undefined>;
    const search = parseListQuery(query);
    const page = await images.search(req.principal, search);
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (k === "marker" || v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
    }
    const first = params.size > 0 ? `/v2/images?${params.toString()}` : "/v2/images";
    const last = page.items[page.items.length - 1];
    if (page.more && last) params.set("marker", last.uuid);
    return {
      images: page.items.map(render),
      first,
      schema: "/v2/schemas/images",
      ...(page.more && last ? { next: `/v2/images?${params.toString()}` } : {}),
    };
  });

  app.get<IdParams>("/images/:imageId", async (req) =>
    render(await images.getByUuid(req.principal, req.params.imageId)),
  );

  app.patch<IdParams>("/images/:imageId", async (req) => {
    const type = requireMediaType(req, PATCH_MEDIA_TYPES, { "accept-patch": PATCH_MEDIA_TYPES.join(", ") });
    const ops = parsePatch(req.body, type);
    const image = await images.modify(req.principal, req.params.imageId, (current) =>
      applyPatch(current, ops),
    );
    return render(image);
  });

  app.delete<IdParams>("/images/:imageId", async (req, reply) => {
    await images.delete(req.principal, { uuid: req.params.imageId }, "Delete image");
    return reply.code(204).send();
  });

  for (const [verb, deactivated] of [
    ["deactivate", true],
    ["reactivate", false],
  ] as const) {
    app.post<IdParams>(`/images/:imageId/actions/${verb}`, async (req, reply) => {
      await images.setDeactivated(req.principal, req.params.imageId, deactivated);
      return reply.code(204).send();
    });
  }

  app.put<{ Params: { imageId: string; tag: string } }>("/images/:imageId/tags/:tag", async (req, reply) => {
    const tag = req.params.tag;
    if (tag.length < 1 || tag.length > 255) throw invalidArgument("A tag has 1 to 255 characters.");
    await images.modify(req.principal, req.params.imageId, (current) => ({
      tags: current.tags.includes(tag) ? current.tags : [...current.tags, tag],
    }));
    return reply.code(204).send();
  });

  app.delete<{ Params: { imageId: string; tag: string } }>(
    "/images/:imageId/tags/:tag",
    async (req, reply) => {
      const tag = req.params.tag;
      await images.modify(req.principal, req.params.imageId, (current) => {
        if (!current.tags.includes(tag)) throw notFound("The resource could not be found.");
        return { tags: current.tags.filter((t) => t !== tag) };
      });
      return reply.code(204).send();
    },
  );

  registerDataRoutes(app, opts, imageData);

  app.post<MemberParams>("/images/:imageId/members", async (req) => {
    const body = objectBody(req.body);
    if (typeof body.member !== "string" || body.member === "" || body.member.length > 255) {
      throw invalidArgument('Member to be added not specified: send {"member": "<project id>"}.');
    }
    return renderMember(
      await imageMembers.add(req.principal, req.params.imageId, body.member),
      req.params.imageId,
    );
  });
  app.get<IdParams>("/images/:imageId/members", async (req) => ({
    members: (await imageMembers.list(req.principal, req.params.imageId)).map((m) =>
      renderMember(m, req.params.imageId),
    ),
    schema: "/v2/schemas/members",
  }));
  app.get<MemberParams>("/images/:imageId/members/:memberId", async (req) =>
    renderMember(
      await imageMembers.get(req.principal, req.params.imageId, req.params.memberId),
      req.params.imageId,
    ),
  );
  app.put<MemberParams>("/images/:imageId/members/:memberId", async (req) => {
    const body = objectBody(req.body);
    if (!MEMBER_STATUSES.includes(body.status as MemberStatus)) {
      throw invalidArgument('Incorrect request: Status must be "pending", "accepted" or "rejected".');
    }
    const member = await imageMembers.setStatus(
      req.principal,
      req.params.imageId,
      req.params.memberId,
      body.status as MemberStatus,
    );
    return renderMember(member, req.params.imageId);
  });
  app.delete<MemberParams>("/images/:imageId/members/:memberId", async (req, reply) => {
    await imageMembers.remove(req.principal, req.params.imageId, req.params.memberId);
    return reply.code(204).send();
  });
};

/** Upload, stage, import and download of image data. */
function registerDataRoutes(
  app: FastifyInstance,
  opts: OpenStackRoutesOptions,
  imageData: ImageDataService,
): void {
  // Checked before any body parser runs: a JSON body of image size must not be buffered to refuse it.
  const checkUpload = async (req: FastifyRequest) => {
    requireMediaType(req, ["application/octet-stream"]);
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > opts.maxImageBytes) {
      throw new GlanceHttpError(
        413,
        `The incoming image is too large: the limit is ${opts.maxImageBytes} bytes.`,
      );
    }
  };
  const receive = (mode: "file" | "stage") => async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
    const aborted = new AbortController();
    req.raw.once("close", () => {
      if (!req.raw.complete) aborted.abort(new Error("the client disconnected during the upload"));
    });
    await imageData.upload(req.principal, req.params.imageId, req.raw, aborted.signal, mode);
    return reply.code(204).send();
  };
  app.put<IdParams>("/images/:imageId/file", { onRequest: checkUpload }, receive("file"));
  app.put<IdParams>("/images/:imageId/stage", { onRequest: checkUpload }, receive("stage"));

  app.post<IdParams>("/images/:imageId/import", async (req, reply) => {
    const body = objectBody(req.body);
    const method = body.method as Record<string, unknown> | undefined;
    const name = method?.name;
    if (typeof name !== "string")
      throw invalidArgument('Import method not specified: send {"method": {"name": ...}}.');
    if (!(IMPORT_METHODS as readonly string[]).includes(name)) {
      throw invalidArgument(`Unknown import method name '${name}'.`);
    }
    let importMethod: ImportMethod = { name: "glance-direct" };
    if (name === "web-download") {
      if (typeof method!.uri !== "string" || method!.uri === "") {
        throw invalidArgument(
          'URI for web-download is missing: send {"method": {"name": "web-download", "uri": ...}}.',
        );
      }
      importMethod = { name, uri: method!.uri };
    }
    await imageData.import(req.principal, req.params.imageId, importMethod);
    return reply.code(202).send();
  });

  app.get<IdParams>("/images/:imageId/file", async (req, reply) => {
    const download = await imageData.download(
      req.principal,
      req.params.imageId,
      parseRange(req.headers.range),
    );
    if (!download.stream) return reply.code(204).send();
    const { image, range } = download;
    reply.header("content-type", "application/octet-stream");
    if (image.checksumMd5) reply.header("content-md5", image.checksumMd5);
    if (range) {
      reply
        .code(206)
        .header("content-range", `bytes ${range.start}-${range.end}/${image.size}`)
        .header("content-length", range.end - range.start + 1);
    } else {
      reply.header("content-length", image.size);
    }
    return reply.send(download.stream);
  });
}

/** One `bytes=` range (`a-b`, `a-`, `-n`); anything else is ignored and the whole image is sent. */
function parseRange(
  header: string | undefined,
): { start: number; end: number | null } | { suffix: number } | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") return { suffix: Number(m[2]) };
  const start = Number(m[1]);
  const end = m[2] === "" ? null : Number(m[2]);
  if (end !== null && end < start) return null;
  return { start, end };
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidArgument("Request body must be a JSON object.");
  }
  return body as Record<string, unknown>;
}
