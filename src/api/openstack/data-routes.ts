import { NO_BODY, answers } from "../http/response-shapes.js";
import { OPENSTACK_ANSWERS as A } from "./responses.js";
import { PassThrough, type Readable } from "node:stream";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { invalidArgument } from "../../core/errors.js";
import type { ByteRange } from "../../core/image-data/download-image-data.js";
import { DECLARED_FORMATS } from "./disk-formats.js";
import { GlanceHttpError } from "./errors.js";
import { STORE_MARKERS, importMethods } from "./glance-import.js";
import { type MinUploadRate, guardUploadRate } from "../http/upload-rate-guard.js";
import { requireMediaType } from "./conventions.js";
import type { OpenStackRoutesOptions } from "./routes.js";

const IdParams = Type.Object({ imageId: Type.String() });

/** How much of an upload body may wait between the socket and the ingest. */
const BODY_BUFFER_BYTES = 1024 * 1024;

/** `{"method": {"name": ..., "uri": ...}}`; its refusals are worded below, Glance's way. */
const ImportBody = Type.Object({
  method: Type.Object({
    name: Type.String(),
    uri: Type.Optional(Type.String()),
    // glance-download's: the image, its region, and which of the catalog's endpoints.
    glance_image_id: Type.Optional(Type.String()),
    glance_region: Type.Optional(Type.String()),
    glance_service_interface: Type.Optional(Type.String()),
  }),
  stores: Type.Optional(Type.Array(Type.String())),
  all_stores: Type.Optional(Type.Boolean()),
  all_stores_must_succeed: Type.Optional(Type.Boolean()),
});

/**
 * Streams a request's body into `receive`: the request's signal aborts when the client goes
 * away or trickles below the slowest rate accepted (408); a refusal leaves the rest of the body
 * to be read and dropped (the client reads the answer, its connection carries the next request).
 */
export async function receiveImageData<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  minUploadRate: MinUploadRate,
  receive: (source: Readable, signal: AbortSignal) => Promise<T>,
  /** Refusals after which the rest of the body is not worth reading: the connection is closed. */
  closeOn: (err: unknown) => boolean = () => false,
): Promise<T> {
  const aborted = new AbortController();
  req.raw.once("close", () => {
    if (!req.raw.complete) aborted.abort(new Error("the client disconnected during the upload"));
  });
  let tooSlow = false;
  const stopGuard = guardUploadRate(req.raw, minUploadRate, (why) => {
    tooSlow = true;
    req.log.warn({ url: req.url, why }, "upload cut: too slow");
    aborted.abort(new GlanceHttpError(408, `The upload was cut: ${why}.`));
  });
  // Once the whole body is in, the service is the one working (a conversion may take
  // minutes, README "Conversion and export"): neither the rate guard nor the idle timeout
  // judges the client by that silence; the connection's timeout is back for its next request.
  req.raw.once("end", () => {
    stopGuard();
    const socket = req.raw.socket;
    if (typeof socket?.setTimeout !== "function") return; // an injected request has no socket
    const idle = req.server.server.timeout;
    socket.setTimeout(0);
    reply.raw.once("finish", () => socket.setTimeout(idle));
  });
  // The data goes through a pipe the ingest may tear down on a refusal (a full disk, the
  // size limit), not the request itself: left intact, the rest of the body is read and
  // dropped by Node once the answer is sent, so the client finishes sending, reads the
  // refusal, and its connection carries its next request.
  const body = req.raw.pipe(new PassThrough({ highWaterMark: BODY_BUFFER_BYTES }));
  try {
    return await receive(body, aborted.signal);
  } catch (err) {
    req.raw.unpipe(body);
    // A trickling client gets the refusal and its connection closed: reading the rest of
    // its body would hold the connection as long as the upload did.
    if (tooSlow || closeOn(err))
      reply.header("connection", "close").raw.once("finish", () => req.raw.destroy());
    else if (!req.raw.complete) req.raw.resume();
    throw err;
  } finally {
    stopGuard();
  }
}

/** Glance's 413 for image data (announced or declared) larger than the service takes. */
export function refuseLargerThan(maxImageBytes: number, bytes: number): void {
  if (bytes > maxImageBytes) {
    throw new GlanceHttpError(413, `The incoming image is too large: the limit is ${maxImageBytes} bytes.`);
  }
}

/** Upload, stage, import and download of image data. */
export const dataRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;

  // Checked before any body parser runs: a JSON body of image size must not be buffered to refuse it.
  const checkUpload = async (req: FastifyRequest) => {
    requireMediaType(req, ["application/octet-stream"]);
    refuseLargerThan(opts.maxImageBytes, Number(req.headers["content-length"] ?? "0"));
  };
  // PUT file stores data that activates the image; PUT stage keeps it for a glance-direct import.
  for (const mode of ["file", "stage"] as const) {
    app.put(
      `/images/:imageId/${mode}`,
      { schema: { params: IdParams, response: answers({ 204: NO_BODY }) }, onRequest: checkUpload },
      async (req, reply) => {
        await receiveImageData(req, reply, opts.minUploadRate, (source, signal) =>
          core.imageData.upload(req.principal, req.params.imageId, {
            source,
            signal,
            mode,
            formatsByDeclared: DECLARED_FORMATS,
            announcedBytes: announcedSize(req),
            store: storeHeader(req),
          }),
        );
        return reply.code(204).send();
      },
    );
  }

  app.post(
    "/images/:imageId/import",
    {
      schema: { params: IdParams, body: ImportBody, response: answers({ 202: NO_BODY }) },
      attachValidation: true,
    },
    async (req, reply) => {
      if (req.validationError) {
        throw invalidArgument('Import method not specified: send {"method": {"name": ...}}.');
      }
      const { name, uri } = req.body.method;
      if (!importMethods(core.imageData.importOffer()).includes(name)) {
        throw invalidArgument(`Unknown import method name '${name}'.`);
      }
      // Stores: a header (Glance's X-Image-Meta-Store) or the body's list, or all of them.
      const header = storeHeader(req);
      const named = req.body.stores ?? (header ? [header] : null);
      const all = req.body.all_stores ?? false;
      if (all && named) {
        throw invalidArgument("all_stores cannot be used with the X-Image-Meta-Store header or stores.");
      }
      const allMustSucceed = req.body.all_stores_must_succeed ?? true;
      if (name === "copy-image") {
        if (!all && !named) throw invalidArgument("Name the stores to copy the image to, or all_stores.");
        await core.imageData.copy(req.principal, req.params.imageId, {
          stores: named,
          mustSucceed: allMustSucceed,
          markers: STORE_MARKERS,
          description: "Copy image data to stores (copy-image)",
          requestId: req.id,
        });
        return reply.code(202).send();
      }
      if (name === "web-download" && !uri) {
        throw invalidArgument(
          'URI for web-download is missing: send {"method": {"name": "web-download", "uri": ...}}.',
        );
      }
      const { method } = req.body;
      if (name === "glance-download" && (!method.glance_image_id || !method.glance_region)) {
        throw invalidArgument("glance-download needs glance_image_id and glance_region.");
      }
      await core.imageData.import(req.principal, req.params.imageId, {
        source:
          name === "web-download"
            ? { type: "uri", uri: uri! }
            : name === "glance-download"
              ? {
                  type: "remote",
                  imageId: method.glance_image_id!,
                  region: method.glance_region!,
                  interface: method.glance_service_interface ?? "public",
                  credential: callerToken(req),
                }
              : { type: "staged" },
        formatsByDeclared: DECLARED_FORMATS,
        description: `Import image (${name})`,
        properties: { importing: {}, done: {}, failed: {} },
        storeMarkers: STORE_MARKERS,
        stores: { named, all, allMustSucceed },
        requestId: req.id,
      });
      return reply.code(202).send();
    },
  );

  // Where the bytes live (Glance's locations API, for operators); read-only (core/image-data/image-locations.ts).
  app.get(
    "/images/:imageId/locations",
    { schema: { params: IdParams, response: answers({ 200: A.locations }) } },
    async (req) =>
      (await core.imageData.locations(req.principal, req.params.imageId)).map(({ url, store }) => ({
        url,
        metadata: { store },
      })),
  );

  app.get(
    "/images/:imageId/file",
    {
      schema: { params: IdParams },
      config: { bodyNotJson: "the image data, streamed (204 when it has none)" },
    },
    async (req, reply) => {
      const download = await core.imageData.download(
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
    },
  );
};

/** One `bytes=` range (`a-b`, `a-`, `-n`); anything else is ignored and the whole image is sent. */
export function parseRange(header: string | undefined): ByteRange | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") return { suffix: Number(m[2]) };
  const start = Number(m[1]);
  const end = m[2] === "" ? null : Number(m[2]);
  if (end !== null && end < start) return null;
  return { start, end };
}

/** The caller's token as it sent it (a glance-download reads the other region with it). */
function callerToken(req: FastifyRequest): string {
  const header = req.headers["x-auth-token"];
  if (typeof header === "string") return header;
  return (req.headers.authorization ?? "").replace(/^Bearer\s+/i, "");
}

/** The store an upload or import names (Glance's X-Image-Meta-Store), if any. */
function storeHeader(req: FastifyRequest): string | null {
  const value = req.headers["x-image-meta-store"];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

/**
 * The size the client announced for the data: Glance's `x-openstack-image-size`, else the body's
 * Content-Length (none when it streams chunked): quota for it is held before the data arrives.
 */
function announcedSize(req: FastifyRequest): number | null {
  for (const header of ["x-openstack-image-size", "content-length"]) {
    const value = req.headers[header];
    if (typeof value === "string" && /^\d{1,16}$/.test(value.trim())) return Number(value.trim());
  }
  return null;
}
