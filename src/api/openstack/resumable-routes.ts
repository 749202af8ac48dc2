import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { type ErrorReason, isVitrineError } from "../../core/errors.js";
import { NO_BODY, answers } from "../http/response-shapes.js";
import { DECLARED_FORMATS } from "./disk-formats.js";
import { GlanceHttpError } from "./errors.js";
import { receiveImageData, refuseLargerThan } from "./data-routes.js";
import { requireMediaType } from "./conventions.js";
import type { OpenStackRoutesOptions } from "./routes.js";
import type { UploadRef } from "../../core/image-data/resumable-upload.js";

/** The tus protocol version spoken (https://tus.io/protocols/resumable-upload). */
const TUS_VERSION = "1.0.0";
const TUS_EXTENSIONS = "creation,termination,expiration";

const ImageParams = Type.Object({ imageId: Type.String() });
const UploadParams = Type.Object({ imageId: Type.String(), uploadId: Type.String() });

/**
 * Resumable uploads of image data over tus 1.0 (README "Resumable transfers"), beside Glance's
 * one-go `PUT file` and `PUT stage`, which stay exactly as they are:
 *
 *   POST   /v2/images/{id}/file|stage      creates an upload (Upload-Length), 201 + Location
 *   HEAD   /v2/images/{id}/uploads/{u}     the offset durably stored
 *   PATCH  /v2/images/{id}/uploads/{u}     appends from Upload-Offset; the last byte settles the image
 *   DELETE /v2/images/{id}/uploads/{u}     gives the upload up (the image is queued again)
 *   OPTIONS on either                      what the server supports
 *
 * Every answer, errors included, carries Tus-Resumable; errors keep Glance's JSON body.
 */
export const resumableRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  app.addHook("onSend", async (_req, reply, payload) => {
    reply.header("tus-resumable", TUS_VERSION).header("cache-control", "no-store");
    return payload;
  });
  const describeServer = (_req: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(204)
      .header("tus-version", TUS_VERSION)
      .header("tus-extension", TUS_EXTENSIONS)
      .header("tus-max-size", String(opts.maxImageBytes))
      .send();

  for (const mode of ["file", "stage"] as const) {
    app.options(
      `/images/:imageId/${mode}`,
      { schema: { params: ImageParams, response: answers({ 204: NO_BODY }) } },
      describeServer,
    );
    app.post(
      `/images/:imageId/${mode}`,
      { schema: { params: ImageParams, response: answers({ 201: NO_BODY }) } },
      async (req, reply) => {
        requireTus(req);
        if (req.headers["upload-defer-length"] !== undefined) {
          throw new GlanceHttpError(400, "Upload-Defer-Length is not supported: send Upload-Length.");
        }
        const length = offsetHeader(req, "upload-length");
        refuseLargerThan(opts.maxImageBytes, length);
        if (Number(req.headers["content-length"] ?? "0") > 0) {
          throw new GlanceHttpError(400, "Send the data with PATCH once the upload is created.");
        }
        const upload = await core.imageData.resumable.begin(req.principal, req.params.imageId, {
          mode,
          formatsByDeclared: DECLARED_FORMATS,
          length,
        });
        // Relative to the creation URL, so that it holds behind any prefix a proxy adds.
        return reply
          .code(201)
          .header("location", `uploads/${upload.id}`)
          .header("upload-expires", new Date(upload.expiresAt).toUTCString())
          .send();
      },
    );
  }

  const uploadPath = "/images/:imageId/uploads/:uploadId";
  app.options(
    uploadPath,
    { schema: { params: UploadParams, response: answers({ 204: NO_BODY }) } },
    describeServer,
  );

  app.head(
    uploadPath,
    { schema: { params: UploadParams, response: answers({ 200: NO_BODY }) } },
    async (req, reply) => {
      requireTus(req);
      const upload = await core.imageData.resumable.state(req.principal, uploadRef(req.params));
      return reply
        .code(200)
        .header("upload-offset", String(upload.offset))
        .header("upload-length", String(upload.length))
        .header("upload-expires", new Date(upload.expiresAt).toUTCString())
        .send();
    },
  );

  app.patch(
    uploadPath,
    { schema: { params: UploadParams, response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      requireTus(req);
      requireMediaType(req, ["application/offset+octet-stream"]);
      const offset = offsetHeader(req, "upload-offset");
      const ref = uploadRef(req.params);
      const result = await receiveImageData(
        req,
        reply,
        opts.minUploadRate,
        (source, signal) => core.imageData.resumable.append(req.principal, ref, { offset, source, signal }),
        // Refused before any byte is used: the rest of the body (up to a whole chunk) is not read.
        (err) => isVitrineError(err) && err.reason !== null && CUT_SHORT.has(err.reason),
      );
      return reply
        .code(204)
        .header("upload-offset", String(result.offset))
        .header("upload-expires", new Date(result.expiresAt).toUTCString())
        .send();
    },
  );

  app.delete(
    uploadPath,
    { schema: { params: UploadParams, response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      requireTus(req);
      await core.imageData.resumable.cancel(req.principal, uploadRef(req.params));
      return reply.code(204).send();
    },
  );
};

/** Refusals of a PATCH whose body the server will not read: the connection is closed instead. */
const CUT_SHORT: ReadonlySet<ErrorReason> = new Set<ErrorReason>([
  "UPLOAD_OFFSET_MISMATCH",
  "UPLOAD_LOCKED",
  "UPLOAD_NOT_FOUND",
  "UPLOAD_TAKEN_OVER",
]);

/** tus asks for 412 when the client speaks another version (or none). */
function requireTus(req: FastifyRequest): void {
  const version = req.headers["tus-resumable"];
  if (version !== TUS_VERSION) {
    throw new GlanceHttpError(
      412,
      `This is a tus ${TUS_VERSION} endpoint: send Tus-Resumable: ${TUS_VERSION}${version ? ` (not ${String(version)})` : ""}.`,
      { "tus-version": TUS_VERSION },
    );
  }
}

function offsetHeader(req: FastifyRequest, name: "upload-length" | "upload-offset"): number {
  const raw = req.headers[name];
  if (typeof raw !== "string" || !/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    const title = name === "upload-length" ? "Upload-Length" : "Upload-Offset";
    throw new GlanceHttpError(
      400,
      `${title} must be a number of bytes${raw === undefined ? "" : `, not ${String(raw)}`}.`,
    );
  }
  return Number(raw);
}

/** The upload a request's path names. */
function uploadRef(params: { imageId: string; uploadId: string }): UploadRef {
  return { imageUuid: params.imageId, uploadId: params.uploadId };
}
