import { failedPrecondition, internal, notFound } from "../../core/errors.js";
import { assertMinDiskSizeCovers, dataSizeOf, defaultMinDiskSize } from "../../core/image-sizes.js";
import { isActive, isBeingDeleted, isQueued, transition } from "../../core/image-states.js";
import { type Image, NO_DATA, dataFields } from "../../core/image.js";
import type { CreateImageTask, ImageSource, Operation, OperationError } from "../../core/operation.js";
import { saveImage } from "../../core/images/save-image.js";
import { type BlobDeleter, pendingTag } from "../../core/ports/blob-store.js";
import type { Catalog, CatalogStores } from "../../core/ports/catalog.js";
import type { Ingest } from "../../core/ports/ingest.js";
import { openUrl } from "../../ingest/sources/url-source.js";
import type { SourceData } from "../../ingest/sources/source-data.js";
import type { VolumeSource } from "../../ingest/sources/volume-source.js";
import type { UrlPolicy } from "../../ingest/url-policy.js";
import type { OperationHandler, RunContext } from "../engine.js";
import { releaseBlob } from "../../core/image-data/release-blob.js";

export interface CreateImageDeps {
  catalog: Catalog;
  blobs: BlobDeleter;
  ingest: Ingest;
  volumes: VolumeSource;
  urlPolicy: UrlPolicy;
  maxImageBytes: number;
  maxVirtualSize: number;
}

/** The create task of an operation (the engine runs this handler for `image.create` only). */
function taskOf(op: Operation): CreateImageTask {
  if (op.task.type !== "create") throw internal(`operation ${op.id} carries no create task`);
  return op.task;
}

/**
 * Brings an image's data in. From a URI, disk or snapshot the bytes stream through the ingest
 * pipeline into a blob keyed by the operation id — so a resumed attempt overwrites its own
 * earlier blob instead of orphaning it. From another image no bytes move: the blob is shared.
 * Staged data was inspected when it was staged and is only activated.
 */
export class CreateImageHandler implements OperationHandler {
  readonly cancellable = true;

  constructor(private readonly deps: CreateImageDeps) {}

  async run(ctx: RunContext): Promise<void> {
    const { op } = ctx;
    const task = taskOf(op);
    const { catalog, blobs } = this.deps;
    const tag = pendingTag({ type: "operation", operationId: op.id });
    await blobs.discardPending(tag); // leftovers of an interrupted earlier attempt

    const image = await catalog.images.findById(op.resourceId);
    if (!image) throw notFound(`Image ${op.resourceId} not found`);
    if (isQueued(image)) await catalog.images.save(image, transition(image, "importing"), Date.now());

    const { source } = task;
    if (source.type === "image") {
      await ctx.complete(async (tx) => this.finishFromImage(tx, op, task, source.imageId));
      return;
    }
    if (source.type === "staged") {
      // The stage already streamed the bytes through the ingest pipeline; nothing to read again.
      await ctx.complete(async (tx) => {
        const current = await loadForCompletion(tx, op);
        const done = await saveImage(
          tx,
          current,
          transition(current, "active", withProperties(current, task, "done")),
        );
        return { type: "image", image: done };
      });
      return;
    }

    const data = await this.open(source, ctx.signal);
    ctx.reportProgress({ bytesDone: 0, bytesTotal: data.length });
    const result = await this.deps.ingest({
      source: data.stream,
      onBytes: (bytesDone) => ctx.reportProgress({ bytesDone, bytesTotal: data.length }),
      key: op.id,
      tag,
      signal: ctx.signal,
      maxBytes: this.deps.maxImageBytes,
      maxVirtualSize: this.deps.maxVirtualSize,
      allowedFormats: task.allowedFormats,
      sourceLabel: source.type === "uri" ? "uri" : `${source.type} ${source.id}`,
      sourceKind: source.type,
    });
    ctx.log.info({ size: result.size, format: result.format }, "image data stored");

    await ctx.complete(async (tx) => {
      const current = await loadForCompletion(tx, op);
      if (task.formats === "declared") {
        const done = await saveImage(
          tx,
          current,
          transition(current, "active", { ...dataFields(result), ...withProperties(current, task, "done") }),
        );
        return { type: "image", image: done };
      }
      const dataSize = dataSizeOf(result);
      const minDiskSize = task.inherit.minDiskSize ? defaultMinDiskSize(dataSize) : current.minDiskSize;
      assertMinDiskSizeCovers(minDiskSize, dataSize);
      const done = await saveImage(
        tx,
        current,
        transition(current, "active", {
          ...dataFields(result),
          diskFormat: result.format,
          containerFormat: current.containerFormat ?? "bare",
          minDiskSize,
        }),
      );
      return { type: "image", image: done };
    });
  }

  async rollback(tx: CatalogStores, op: Operation, error: OperationError): Promise<void> {
    const image = await tx.images.findById(op.resourceId);
    if (!image || isBeingDeleted(image) || isActive(image)) return;
    const task = taskOf(op);
    if (task.onFailure === "requeue") {
      await tx.images.save(
        image,
        transition(image, "queued", { ...NO_DATA, ...withProperties(image, task, "failed") }),
        Date.now(),
      );
    } else if (error.code === "CANCELLED") {
      // A cancelled create leaves nothing behind: the image never existed.
      await tx.images.delete(image.id);
    } else {
      await tx.images.save(image, transition(image, "killed"), Date.now());
    }
  }

  async cleanup(op: Operation): Promise<void> {
    const { catalog, blobs } = this.deps;
    await blobs.discardPending(pendingTag({ type: "operation", operationId: op.id }));
    const { source } = taskOf(op);
    const key = source.type === "staged" ? source.blobKey : op.id;
    await releaseBlob({ catalog, blobs }, key);
  }

  private async open(
    source: Exclude<ImageSource, { type: "image" } | { type: "staged" }>,
    signal: AbortSignal,
  ): Promise<SourceData> {
    if (source.type === "uri") return openUrl(this.deps.urlPolicy, source.uri, signal);
    return this.deps.volumes.open(source.type, source.id);
  }

  private async finishFromImage(tx: CatalogStores, op: Operation, task: CreateImageTask, sourceId: string) {
    const current = await loadForCompletion(tx, op);
    const src = await tx.images.findById(sourceId);
    if (!src || src.kind !== current.kind) throw notFound(`Image ${sourceId} not found`);
    if (!isActive(src) || !src.blobKey) {
      throw failedPrecondition(`Image ${sourceId} is not ready to be used as a source`);
    }
    const dataSize = dataSizeOf(src);
    const minDiskSize = task.inherit.minDiskSize
      ? Math.max(src.minDiskSize, defaultMinDiskSize(dataSize))
      : current.minDiskSize;
    assertMinDiskSizeCovers(minDiskSize, dataSize);
    const done = await saveImage(
      tx,
      current,
      transition(current, "active", {
        blobKey: src.blobKey,
        size: src.size,
        virtualSize: src.virtualSize,
        checksumMd5: src.checksumMd5,
        checksumSha512: src.checksumSha512,
        diskFormat: src.diskFormat,
        containerFormat: src.containerFormat,
        osType: task.inherit.osType ? src.osType : current.osType,
        productIds: task.inherit.productIds ? src.productIds : current.productIds,
        minDiskSize,
      }),
    );
    return { type: "image" as const, image: done };
  }
}

async function loadForCompletion(tx: CatalogStores, op: Operation): Promise<Image> {
  const image = await tx.images.findById(op.resourceId);
  if (!image || isBeingDeleted(image)) throw notFound(`Image ${op.resourceId} not found`);
  return image;
}

/** The image's properties with the task's markers for how it ended (none for most tasks). */
function withProperties(image: Image, task: CreateImageTask, outcome: "done" | "failed"): Partial<Image> {
  const markers = task.properties?.[outcome];
  return markers ? { properties: { ...image.properties, ...markers } } : {};
}
