import type { Readable } from "node:stream";
import { failedPrecondition, notFound } from "../../core/errors.js";
import type { Image } from "../../core/image.js";
import { NO_DATA, assertTransition, dataFields } from "../../core/image.js";
import { assertMinDiskSizeCovers, dataSizeOf, defaultMinDiskSize } from "../../core/image-sizes.js";
import type { Operation, OperationError } from "../../core/operation.js";
import { ingest } from "../../ingest/pipeline.js";
import { openUrl } from "../../ingest/sources/url-source.js";
import type { VolumeSource } from "../../ingest/sources/volume-source.js";
import type { UrlPolicy } from "../../ingest/url-policy.js";
import type { DiskFormat } from "../../inspect/format.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import type { Db } from "../../storage/meta/database.js";
import type { ImagesRepo } from "../../storage/meta/images-repo.js";
import type { OperationHandler, RunContext } from "../engine.js";

export type ImageSource =
  | { type: "uri"; uri: string }
  | { type: "image"; imageId: string }
  | { type: "disk"; id: string }
  | { type: "snapshot"; id: string }
  /** Data already stored and inspected by an OpenStack stage, waiting under `blobKey`. */
  | { type: "staged"; blobKey: string };

/** What `image.create` operations carry from the request to the worker. */
export interface CreateImagePayload {
  source: ImageSource;
  allowedFormats: DiskFormat[];
  /** Fields the request left unset, to be inherited from a source image or derived from the data. */
  inherit: { osType: boolean; productIds: boolean; minDiskSize: boolean };
  /**
   * Set for OpenStack interoperable imports: the declared disk_format and min_disk stay as the
   * user set them, the os_glance_* import properties are kept, and a failure puts the image back
   * to `queued` (Glance's way) instead of killing it.
   */
  openstackImport?: { store: string };
}

export interface CreateImageDeps {
  db: Db;
  images: ImagesRepo;
  blobs: BlobStore;
  volumes: VolumeSource;
  urlPolicy: UrlPolicy;
  maxImageBytes: number;
  maxVirtualSize: number;
}

/**
 * Brings an image's data in. From a URI, disk or snapshot the bytes stream through the ingest
 * pipeline into a blob keyed by the operation id — so a resumed attempt overwrites its own
 * earlier blob instead of orphaning it. From another image no bytes move: the blob is shared.
 */
export class CreateImageHandler implements OperationHandler {
  readonly cancellable = true;

  constructor(private readonly deps: CreateImageDeps) {}

  async run(ctx: RunContext): Promise<void> {
    const { op } = ctx;
    const payload = op.payload as unknown as CreateImagePayload;
    const { db, images, blobs } = this.deps;
    await blobs.discardPending(op.id); // leftovers of an interrupted earlier attempt

    const image = await images.findById(db, op.resourceId);
    if (!image) throw notFound(`Image ${op.resourceId} not found`);
    if (image.status === "queued") {
      assertTransition(image.status, "importing");
      await images.update(db, { ...image, status: "importing" }, Date.now());
    }

    if (payload.source.type === "image") {
      const sourceId = payload.source.imageId;
      await ctx.complete(async (trx) => this.finishFromImage(trx, op, payload, sourceId));
      return;
    }
    if (payload.source.type === "staged") {
      // The stage already streamed the bytes through the ingest pipeline; nothing to read again.
      await ctx.complete(async (trx) => {
        const current = await this.loadForCompletion(trx, op);
        const done = await this.save(trx, {
          ...current,
          status: "active",
          properties: importedProperties(current),
        });
        return { type: "image", image: done };
      });
      return;
    }

    const source = await this.open(payload.source, ctx.signal);
    const result = await ingest(blobs, {
      source,
      key: op.id,
      tag: op.id,
      signal: ctx.signal,
      maxBytes: this.deps.maxImageBytes,
      maxVirtualSize: this.deps.maxVirtualSize,
      allowedFormats: payload.allowedFormats,
      sourceLabel: payload.source.type === "uri" ? "uri" : `${payload.source.type} ${payload.source.id}`,
    });
    ctx.log.info({ size: result.size, format: result.format }, "image data stored");

    await ctx.complete(async (trx) => {
      const current = await this.loadForCompletion(trx, op);
      if (payload.openstackImport) {
        const done = await this.save(trx, {
          ...current,
          status: "active",
          ...dataFields(result),
          properties: importedProperties(current),
        });
        return { type: "image", image: done };
      }
      const dataSize = dataSizeOf(result);
      const minDiskSize = payload.inherit.minDiskSize ? defaultMinDiskSize(dataSize) : current.minDiskSize;
      assertMinDiskSizeCovers(minDiskSize, dataSize);
      const done = await this.save(trx, {
        ...current,
        status: "active",
        ...dataFields(result),
        diskFormat: result.format,
        containerFormat: current.containerFormat ?? "bare",
        minDiskSize,
      });
      return { type: "image", image: done };
    });
  }

  async rollback(trx: Db, op: Operation, error: OperationError): Promise<void> {
    const image = await this.deps.images.findById(trx, op.resourceId);
    if (!image || image.status === "deleting") return;
    const payload = op.payload as unknown as CreateImagePayload;
    if (payload.openstackImport) {
      if (image.status === "active") return;
      await this.deps.images.update(
        trx,
        {
          ...image,
          status: "queued",
          ...NO_DATA,
          properties: {
            ...image.properties,
            os_glance_importing_to_stores: "",
            os_glance_failed_import: payload.openstackImport.store,
          },
        },
        Date.now(),
      );
    } else if (error.code === "CANCELLED") {
      // A cancelled create leaves nothing behind: the image never existed.
      await this.deps.images.delete(trx, image.id);
    } else if (image.status !== "active") {
      await this.deps.images.update(trx, { ...image, status: "killed" }, Date.now());
    }
  }

  async cleanup(op: Operation): Promise<void> {
    const { db, images, blobs } = this.deps;
    await blobs.discardPending(op.id);
    const payload = op.payload as unknown as CreateImagePayload;
    const key = payload.source.type === "staged" ? payload.source.blobKey : op.id;
    if ((await images.countBlobReferences(db, key)) === 0) await blobs.delete(key);
  }

  private async open(
    source: Exclude<ImageSource, { type: "image" } | { type: "staged" }>,
    signal: AbortSignal,
  ): Promise<Readable> {
    if (source.type === "uri") return openUrl(this.deps.urlPolicy, source.uri, signal);
    return this.deps.volumes.open(source.type, source.id);
  }

  private async finishFromImage(trx: Db, op: Operation, payload: CreateImagePayload, sourceId: string) {
    const current = await this.loadForCompletion(trx, op);
    const src = await this.deps.images.findById(trx, sourceId);
    if (!src || src.kind !== current.kind) throw notFound(`Image ${sourceId} not found`);
    if (src.status !== "active" || !src.blobKey) {
      throw failedPrecondition(`Image ${sourceId} is not ready to be used as a source`);
    }
    const dataSize = dataSizeOf(src);
    const minDiskSize = payload.inherit.minDiskSize
      ? Math.max(src.minDiskSize, defaultMinDiskSize(dataSize))
      : current.minDiskSize;
    assertMinDiskSizeCovers(minDiskSize, dataSize);
    const done = await this.save(trx, {
      ...current,
      status: "active",
      blobKey: src.blobKey,
      size: src.size,
      virtualSize: src.virtualSize,
      checksumMd5: src.checksumMd5,
      checksumSha512: src.checksumSha512,
      diskFormat: src.diskFormat,
      containerFormat: src.containerFormat,
      osType: payload.inherit.osType ? src.osType : current.osType,
      productIds: payload.inherit.productIds ? src.productIds : current.productIds,
      minDiskSize,
    });
    return { type: "image" as const, image: done };
  }

  private async loadForCompletion(trx: Db, op: Operation): Promise<Image> {
    const image = await this.deps.images.findById(trx, op.resourceId);
    if (!image || image.status === "deleting") throw notFound(`Image ${op.resourceId} not found`);
    return image;
  }

  private async save(trx: Db, image: Image): Promise<Image> {
    return this.deps.images.updateOrAbort(trx, image, Date.now());
  }
}

/** An OpenStack import ended well: no store is pending, none failed. */
function importedProperties(image: Image): Record<string, string> {
  return { ...image.properties, os_glance_importing_to_stores: "", os_glance_failed_import: "" };
}
