import type { Readable } from "node:stream";
import { ingest } from "../../ingest/pipeline.js";
import type { UrlPolicy } from "../../ingest/url-policy.js";
import type { DiskFormat } from "../../inspect/format.js";
import type { OperationEngine } from "../../operations/engine.js";
import type { CreateImagePayload } from "../../operations/handlers/image-create.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import type { Db } from "../../storage/meta/database.js";
import type { ImagesRepo } from "../../storage/meta/images-repo.js";
import type { OperationsRepo } from "../../storage/meta/operations-repo.js";
import { can } from "../access.js";
import { type FormatPolicy, formatsForDeclared } from "../format-policy.js";
import { VitrineError, failedPrecondition, invalidArgument, notFound, permissionDenied } from "../errors.js";
import { newResourceId } from "../ids.js";
import { type Image, dataFields } from "../image.js";
import type { Operation } from "../operation.js";
import type { Principal } from "../principal.js";
import type { ImageLoader } from "./image-loader.js";
import { recordImageOperation } from "./record-operation.js";

/** The detected formats each declared `disk_format` accepts (the format-mismatch rule). */
const DECLARED_FORMATS: Record<string, readonly DiskFormat[]> = {
  raw: ["raw"],
  qcow2: ["qcow2"],
  vmdk: ["vmdk"],
  vhd: ["vhd"],
  vhdx: ["vhdx"],
  vdi: ["vdi"],
  iso: ["iso"],
  // Kernel, ramdisk and machine images of the EC2 family, and Virtuozzo ploop, are plain bytes to us.
  ami: ["raw"],
  ari: ["raw"],
  aki: ["raw"],
  ploop: ["raw"],
  // zvhd/zvhd2 are a public cloud's compressed VHD variants; we cannot look inside them.
  zvhd: ["vhd", "raw"],
  zvhd2: ["vhd", "raw"],
};

export function formatsAcceptedFor(diskFormat: string): readonly DiskFormat[] {
  return DECLARED_FORMATS[diskFormat] ?? [];
}

export type ImportMethod = { name: "glance-direct" } | { name: "web-download"; uri: string };

export interface ImageDataDeps {
  db: Db;
  images: ImagesRepo;
  operations: OperationsRepo;
  blobs: BlobStore;
  engine: OperationEngine;
  urlPolicy: UrlPolicy;
  loader: ImageLoader;
  maxImageBytes: number;
  formats: FormatPolicy;
  /** The name of the blob store in OpenStack terms (`fs`, `s3`). */
  storeId: string;
}

export interface ImageDownload {
  image: Image;
  /** null when the image has no data yet. */
  stream: Readable | null;
  range: { start: number; end: number } | null;
}

/**
 * Image bytes in and out outside operations: direct upload (OpenStack PUT file), staging for a
 * later import, import, and download. Uploads stream through the same ingest pipeline as every
 * other path (size, MD5, SHA-512, format verdict), so what is refused there is refused here.
 */
export class ImageDataService {
  constructor(private readonly deps: ImageDataDeps) {}

  /**
   * Stores the data of a queued image. `stage`: keep it staged (`uploading`) for a later
   * glance-direct import instead of activating it. Any failure — a refused format, a client gone
   * mid-stream, the size limit — puts the image back to `queued` with no bytes kept.
   */
  async upload(
    principal: Principal,
    uuid: string,
    source: Readable,
    signal: AbortSignal,
    mode: "file" | "stage",
  ): Promise<Image> {
    const { db, images, blobs } = this.deps;
    const receiving = mode === "file" ? "saving" : "uploading";
    const image = await db.transaction().execute(async (trx) => {
      const current = await this.deps.loader.load(trx, principal, "images.update", { uuid });
      if (current.status !== "queued") {
        throw failedPrecondition(
          `Image status transition from ${current.status} to ${receiving} is not allowed`,
        ).because("STATUS_CONFLICT");
      }
      if (!current.diskFormat || !current.containerFormat) {
        throw invalidArgument("Properties disk_format, container_format must be set prior to saving data.");
      }
      return this.save(trx, { ...current, status: receiving });
    });

    const key = newResourceId();
    let stored: Awaited<ReturnType<typeof ingest>>;
    try {
      stored = await ingest(blobs, {
        source,
        key,
        tag: `upload-${image.id}`,
        signal,
        maxBytes: this.deps.maxImageBytes,
        allowedFormats: formatsForDeclared(this.deps.formats, formatsAcceptedFor(image.diskFormat!)),
        maxVirtualSize: this.deps.formats.maxVirtualSize,
        sourceLabel: `disk_format ${image.diskFormat}`,
      });
    } catch (err) {
      await this.requeue(image.id, receiving);
      throw err;
    }

    try {
      return await db.transaction().execute(async (trx) => {
        const current = await images.findById(trx, image.id);
        if (!current || current.status !== receiving) throw notFound(`No image found with ID ${uuid}`);
        return this.save(trx, {
          ...current,
          status: mode === "file" ? "active" : "uploading",
          ...dataFields(stored),
        });
      });
    } catch (err) {
      // Deleted or changed while the bytes streamed in: the blob belongs to nobody.
      await blobs.delete(key);
      throw err;
    }
  }

  /**
   * Starts an interoperable import: glance-direct activates staged data, web-download fetches a
   * URL (same allow-list as Compute create-from-URI). A worker runs it; the image shows
   * `importing`, and a failure puts it back to `queued` with `os_glance_failed_import` set.
   */
  async import(principal: Principal, uuid: string, method: ImportMethod): Promise<Operation> {
    const { db, operations } = this.deps;
    if (method.name === "web-download") {
      try {
        this.deps.urlPolicy.parse(method.uri);
      } catch {
        throw invalidArgument(`URI for web-download does not pass filtering: ${method.uri}`);
      }
    }
    const op = await db.transaction().execute(async (trx) => {
      const current = await this.deps.loader.load(trx, principal, "images.update", { uuid });
      const staged = current.status === "uploading" && current.blobKey !== null;
      if (method.name === "glance-direct" && !staged) {
        throw failedPrecondition(
          `Image ${uuid} has no staged data: upload it with PUT /v2/images/${uuid}/stage first`,
        ).because("STATUS_CONFLICT");
      }
      if (method.name === "web-download" && current.status !== "queued") {
        throw failedPrecondition(
          `Image status transition from ${current.status} to importing is not allowed`,
        ).because("STATUS_CONFLICT");
      }
      if (!current.diskFormat || !current.containerFormat) {
        throw invalidArgument(
          "Properties disk_format, container_format must be set prior to importing data.",
        );
      }
      const saved = await this.save(trx, {
        ...current,
        status: "importing",
        properties: { ...current.properties, os_glance_importing_to_stores: this.deps.storeId },
      });
      const payload: CreateImagePayload = {
        source:
          method.name === "web-download"
            ? { type: "uri", uri: method.uri }
            : { type: "staged", blobKey: current.blobKey! },
        allowedFormats: formatsForDeclared(this.deps.formats, formatsAcceptedFor(current.diskFormat)),
        inherit: { osType: false, productIds: false, minDiskSize: false },
        openstackImport: { store: this.deps.storeId },
      };
      return recordImageOperation(
        operations,
        trx,
        principal,
        saved,
        "image.create",
        `Import image (${method.name})`,
        payload as unknown as Record<string, unknown>,
      );
    });
    this.deps.engine.kick();
    return op;
  }

  /**
   * The image's bytes (or an inclusive range of them) for a reader. A deactivated image refuses
   * everyone but admins; an image without data yields no stream.
   */
  async download(
    principal: Principal,
    uuid: string,
    /** Inclusive bytes from `start` to `end` (open-ended when null); `suffix`: the last bytes. */
    range: { start: number; end: number | null } | { suffix: number } | null,
  ): Promise<ImageDownload> {
    const image = await this.deps.loader.load(this.deps.db, principal, "images.get", { uuid });
    if (image.status === "deactivated" && !can(principal, "images.deactivate", image.folderId)) {
      throw permissionDenied("The requested image has been deactivated. Image data download is forbidden.");
    }
    const hasData = image.status === "active" || image.status === "deactivated";
    if (!hasData || !image.blobKey || image.size === null) return { image, stream: null, range: null };
    let bounds: { start: number; end: number } | null = null;
    if (range) {
      const start = "suffix" in range ? Math.max(0, image.size - range.suffix) : range.start;
      const end = "suffix" in range ? image.size - 1 : Math.min(range.end ?? image.size - 1, image.size - 1);
      if (start >= image.size || start > end || ("suffix" in range && range.suffix === 0)) {
        throw new VitrineError(
          "OUT_OF_RANGE",
          `Requested range is not satisfiable: the image has ${image.size} bytes`,
        ).because("RANGE_NOT_SATISFIABLE");
      }
      bounds = { start, end };
    }
    const stream = await this.deps.blobs.read(image.blobKey, bounds ?? undefined);
    return { image, stream, range: bounds };
  }

  /** After a failed upload: back to queued, unless the image moved on (deleted meanwhile). */
  private async requeue(imageId: string, receiving: Image["status"]): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const current = await this.deps.images.findById(trx, imageId);
      if (current && current.status === receiving) await this.save(trx, { ...current, status: "queued" });
    });
  }

  private async save(trx: Db, image: Image): Promise<Image> {
    return this.deps.images.updateOrAbort(trx, image, Date.now(), image.uuid);
  }
}
