import type { Readable } from "node:stream";
import { meteredSource } from "../quotas/metered-source.js";
import { assertWithinLimits, dataReservation, reserveData } from "../quotas/quota-guard.js";
import type { QuotaLimits } from "../quotas/quota.js";
import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition, internal, notFound, unavailable } from "../errors.js";
import { assertMinDiskSizeCovers, dataSizeOf, defaultMinDiskSize } from "../image-sizes.js";
import { isActive, isBeingDeleted, isQueued, transition } from "../image-states.js";
import { type Image, NO_DATA, type StoredData, dataFields } from "../image.js";
import { releaseBlob } from "../image-data/release-blob.js";
import { assertNotObsolete } from "../lifecycle/lifecycle.js";
import { enforceRetentionFor } from "../lifecycle/retention.js";
import type { CreateImageTask, Operation, OperationError, OperationResponse } from "../operation.js";
import type { OperationRunner, RunContext } from "../operations/operation-runner.js";
import { pendingTag } from "../ports/blob-store.js";
import type { CatalogStores, ImportCheckpointRecord } from "../ports/catalog.js";
import type {
  Compression,
  IngestResult,
  ReadableSource,
  RemoteImageFacts,
  SourceData,
} from "../ports/ingest.js";
import { formatsForDeclared } from "../format-policy.js";
import type { DiskFormat } from "../disk-format.js";
import { isConvertible } from "../conversion/conversion-policy.js";
import {
  type ArrivedData,
  type ConversionStep,
  type KeptData,
  ORIGINAL_PROPERTIES,
  conversionPolicyOf,
  convertedBlobKey,
  originalProperties,
  convertData,
  keepData,
} from "../conversion/convert-data.js";
import { saveImage } from "./save-image.js";
import { startCopy } from "../image-data/copy-image-data.js";

export type RunCreateDeps = Pick<
  CoreDeps,
  | "catalog"
  | "blobs"
  | "stores"
  | "ingest"
  | "resumableIngest"
  | "sources"
  | "formats"
  | "maxImageBytes"
  | "limits"
  | "nodeId"
  | "decompress"
  | "converter"
  | "conversion"
>;

/**
 * The run half of creating an image (the request half is create-image.ts for the Yandex dialects,
 * import-image-data.ts for OpenStack's import): brings the data in and decides what the image
 * becomes. From a URI, disk or snapshot the bytes stream through the ingest pipeline into a blob
 * keyed by the operation id — so a resumed attempt overwrites its own earlier blob instead of
 * orphaning it. From another image no bytes move: the blob is shared. Staged data was inspected
 * when it was staged and is only activated.
 */
export class RunCreateImage implements OperationRunner {
  readonly cancellable = true;

  constructor(private readonly deps: RunCreateDeps) {}

  async run(ctx: RunContext): Promise<void> {
    const { op } = ctx;
    const task = taskOf(op);
    const { catalog, blobs } = this.deps;
    // An earlier attempt's leftovers, unless it left a checkpoint to go on from.
    if (!(await catalog.importCheckpoints.find(op.id))) await blobs.discardPending(tagOf(op));

    const image = await catalog.images.findById(op.resourceId);
    if (!image) throw notFound(`Image ${op.resourceId} not found`);
    // Creates queued before they were stored `importing` (an upgrade with work in its queue).
    if (isQueued(image)) await saveImage(catalog, image, transition(image, "importing"));

    const { source } = task;
    const limits = await this.deps.limits.limitsFor(image.folderId);
    if (source.type === "image") {
      if (task.convertTo) {
        const exported = await this.exportFrom(ctx, source.imageId, task.convertTo);
        ctx.log.info(
          { from: source.imageId, size: exported.size, format: exported.format },
          "image data exported",
        );
        await ctx.complete((tx) => finishExport(tx, limits, op, task, source.imageId, exported));
        return;
      }
      await ctx.complete((tx) => finishFromImage(tx, limits, op, task, source.imageId));
      return;
    }
    if (source.type === "staged") {
      // The stage already streamed the bytes through the ingest pipeline; nothing to read again,
      // unless the folder's policy converts them.
      const staged = stagedData(image, source.blobKey);
      const kept = staged ? await this.keep(ctx, image, staged, null) : null;
      if (!kept?.converted) {
        await ctx.complete((tx) => finish(tx, op, (current) => markers(current, task, "done")));
        return;
      }
      ctx.log.info({ size: kept.data.size, format: kept.data.format }, "staged data converted");
      await ctx.complete((tx) =>
        finish(tx, op, (current) => fieldsFromData(tx, limits, current, task, staged!, kept)),
      );
      await releaseBlob(this.deps, source.blobKey);
      return;
    }
    const { result, compression, remote } = await this.ingest(ctx, task, source, image);
    if (remote) assertIsRemoteData(result, remote);
    // Read: the caller's credential for the other region is not kept a moment longer.
    if (source.type === "remote") await catalog.operationCredentials.remove(op.id);
    ctx.log.info(
      { size: result.size, format: result.format, ...(compression ? { compression } : {}) },
      "image data stored",
    );
    const kept = await this.keep(ctx, image, result, compression);
    if (kept.converted)
      ctx.log.info({ size: kept.data.size, format: kept.data.format }, "image data converted");
    await ctx.complete((tx) =>
      finish(tx, op, async (current) =>
        withRemoteFacts(
          await fieldsFromData(tx, limits, current, task, result, kept),
          remote,
          kept.converted,
        ),
      ),
    );
    if (kept.converted) await releaseBlob(this.deps, op.id);
  }

  /** The data as the image keeps it: converted when its folder's policy says so. */
  private async keep(
    ctx: RunContext,
    image: Image,
    arrived: ArrivedData,
    compression: Compression | null,
  ): Promise<KeptData> {
    const policy = await conversionPolicyOf(this.deps.catalog, this.deps, image.folderId);
    return keepData(this.deps, policy, arrived, compression, this.conversionStep(ctx));
  }

  /** An export: the source image's data converted, into a blob of this operation's. */
  private async exportFrom(ctx: RunContext, sourceId: string, target: DiskFormat): Promise<IngestResult> {
    const src = await this.deps.catalog.images.findById(sourceId);
    const data = src ? exportable(src) : null;
    if (!src || !data) throw failedPrecondition(`Image ${sourceId} is not ready to be used as a source`);
    assertNotObsolete(src);
    return convertData(this.deps, data, target, this.conversionStep(ctx));
  }

  private conversionStep(ctx: RunContext): ConversionStep {
    return {
      key: convertedKeyOf(ctx.op),
      tag: tagOf(ctx.op),
      signal: ctx.signal,
      label: "image data",
      report: (progress) => ctx.reportProgress(progress),
    };
  }

  /**
   * A failed create kills the image or puts it back to queued; a cancelled one, or one a quota
   * stopped, leaves nothing.
   */
  async rollback(tx: CatalogStores, op: Operation, error: OperationError): Promise<void> {
    await tx.quotas.release(op.resourceId);
    const image = await tx.images.findById(op.resourceId);
    if (!image || isBeingDeleted(image) || isActive(image)) return;
    const task = taskOf(op);
    if (task.onFailure === "requeue") {
      await saveImage(
        tx,
        image,
        transition(image, "queued", { ...NO_DATA, ...markers(image, task, "failed") }),
      );
    } else if (error.code === "CANCELLED" || error.reason === "QUOTA_EXCEEDED") {
      // The image never existed: a project at its limit is not left an ERROR image in its count.
      await tx.images.delete(image.id);
    } else {
      await saveImage(tx, image, transition(image, "killed"));
    }
  }

  async cleanup(op: Operation): Promise<void> {
    const { blobs } = this.deps;
    await this.deps.catalog.importCheckpoints.remove(op.id);
    await this.deps.catalog.operationCredentials.remove(op.id);
    await blobs.discardPending(tagOf(op));
    const { source } = taskOf(op);
    await releaseBlob(this.deps, source.type === "staged" ? source.blobKey : op.id);
    await releaseBlob(this.deps, convertedKeyOf(op));
  }

  private async ingest(
    ctx: RunContext,
    task: CreateImageTask,
    source: IngestedSource,
    image: Image,
  ): Promise<{ result: IngestResult; compression: Compression | null; remote: RemoteImageFacts | null }> {
    const { op, signal } = ctx;
    const { catalog, blobs } = this.deps;
    // A URL import whose worker died goes on from its checkpoint, if the source is unchanged.
    const saved = source.type === "uri" ? await catalog.importCheckpoints.find(op.id) : null;
    const data = await this.deps.sources.open(await this.readable(op, source), signal, saved ?? undefined);
    const remote = data.remote ?? null;
    // A remote image declares its own formats: the data is checked against those.
    const allowedFormats =
      remote && task.declared
        ? formatsForDeclared(this.deps.formats, task.declared, remote, "importing")
        : task.allowedFormats;
    const resumes = saved !== null && data.start === saved.offset && data.length === saved.length;
    if (saved && !resumes) {
      ctx.log.info(
        { offset: saved.offset },
        "the source changed or serves no ranges any more: its data is read again from the start",
      );
      await catalog.importCheckpoints.remove(op.id);
      await blobs.discardPending(tagOf(op));
    }
    const sourceLabel =
      source.type === "uri"
        ? "uri"
        : source.type === "remote"
          ? "glance-download"
          : `${source.type} ${source.id}`;
    let compression: Compression | null = null;
    // The bytes the source announced are held before any is read (a source too big for what is
    // left fails here); one that announced none is counted as it streams.
    const limits = await this.deps.limits.limitsFor(image.folderId);
    const reservation = dataReservation(image, data.length ?? 0, false, this.deps.nodeId);
    const reserve = (bytes: number) =>
      catalog.transaction((tx) => reserveData(tx, limits, { ...reservation, bytes }));
    try {
      await reserve(reservation.bytes);
    } catch (err) {
      data.stream.destroy();
      throw err;
    }
    ctx.reportProgress({ bytesDone: saved && resumes ? saved.offset : 0, bytesTotal: data.length });
    if (resumes) {
      ctx.log.info({ offset: saved.offset }, "the import goes on from its checkpoint");
      return {
        ...(await this.ingestResumably(ctx, allowedFormats, data, sourceLabel, saved)),
        remote,
      };
    }
    // A source that names its version and serves ranges is read resumably (README "Resumable
    // transfers"), unless it is compressed: that is decompressed as it streams, from the start.
    // (Resumable data goes to the default store.)
    const toDefault = !task.store || task.store === this.deps.stores.defaultStore;
    if (toDefault && data.validator && data.length !== null && data.length > 0) {
      const head = await peek(data.stream, 6);
      if (!this.deps.resumableIngest.isCompressed(head)) {
        return {
          ...(await this.ingestResumably(ctx, allowedFormats, data, sourceLabel, null)),
          remote,
        };
      }
    }
    // Counted as stored (decompressed): the quota holds what the image will take.
    const expanded = this.deps.decompress(data.stream, sourceLabel, (found) => (compression = found));
    const result = await this.deps.ingest({
      source: meteredSource(expanded, reservation.bytes, reserve),
      // A compressed source's announced length is not the image's: no total then.
      onBytes: (bytesDone) => ctx.reportProgress({ bytesDone, bytesTotal: compression ? null : data.length }),
      key: op.id,
      ...(task.store ? { store: task.store } : {}),
      tag: tagOf(op),
      signal,
      maxBytes: this.deps.maxImageBytes,
      maxVirtualSize: this.deps.formats.maxVirtualSize,
      allowedFormats,
      sourceLabel,
      sourceKind: source.type === "remote" ? "uri" : source.type,
    });
    return { result, compression, remote };
  }

  /** The source as the opener reads it: a remote one with the credential its import was asked with. */
  private async readable(op: Operation, source: IngestedSource): Promise<ReadableSource> {
    if (source.type !== "remote") return source;
    const credential = await this.deps.catalog.operationCredentials.find(op.id);
    if (!credential) {
      throw failedPrecondition(
        "glance-download: the credential this import was asked with is gone; ask for the import again",
      );
    }
    return { ...source, credential };
  }

  /**
   * Reads the source through the resumable ingest, recording a checkpoint with the source's
   * version as it goes: a worker killed mid-way leaves the next one the offset to ask for (a
   * Range request) and the state of the hashes and the inspection there. Its length was held
   * against the quota before this (the source announced it).
   */
  private async ingestResumably(
    ctx: RunContext,
    allowedFormats: DiskFormat[],
    data: SourceData,
    sourceLabel: string,
    saved: ImportCheckpointRecord | null,
  ): Promise<{ result: IngestResult; compression: null }> {
    const { op, signal } = ctx;
    const { catalog } = this.deps;
    const length = data.length!;
    const validator = saved?.validator ?? data.validator!;
    const record = (offset: number, checkpoint: string) =>
      catalog.importCheckpoints.save({
        operationId: op.id,
        offset,
        length,
        validator,
        checkpoint,
        updatedAt: Date.now(),
      });
    let checkpoint = saved?.checkpoint;
    if (checkpoint === undefined) {
      checkpoint = await this.deps.resumableIngest.begin(op.id, tagOf(op), length);
      await record(0, checkpoint);
    }
    const appended = await this.deps.resumableIngest.append({
      checkpoint,
      source: data.stream,
      signal,
      length,
      maxVirtualSize: this.deps.formats.maxVirtualSize,
      allowedFormats,
      sourceLabel,
      onCheckpoint: record,
      onBytes: (bytesDone) => ctx.reportProgress({ bytesDone, bytesTotal: length }),
    });
    if (!appended.stored) {
      throw unavailable(
        `${sourceLabel}: the source ended after ${appended.offset} of the ${length} bytes it announced`,
      );
    }
    await catalog.importCheckpoints.remove(op.id);
    return {
      result: { ...appended.stored, key: op.id, store: this.deps.stores.defaultStore },
      compression: null,
    };
  }
}

/** The first `bytes` of a stream (fewer if it is shorter), put back to be read again. */
async function peek(stream: Readable, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < bytes && !stream.readableEnded && !stream.destroyed) {
    const chunk = stream.read() as Buffer | null;
    if (chunk === null) {
      await new Promise<void>((resolve, reject) => {
        const settle = () => {
          stream.off("readable", settle).off("end", settle).off("error", fail);
          resolve();
        };
        const fail = (err: Error) => {
          stream.off("readable", settle).off("end", settle);
          reject(err);
        };
        stream.once("readable", settle).once("end", settle).once("error", fail);
      });
      continue;
    }
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(chunks);
  if (head.length > 0) stream.unshift(head);
  return head;
}

/** The sources whose bytes the worker reads (an image source is shared, staged data is in). */
type IngestedSource = Exclude<CreateImageTask["source"], { type: "image" | "staged" }>;

/** The create task of an operation (the worker runs this for `image.create` only). */
function taskOf(op: Operation): CreateImageTask {
  if (op.task.type !== "create") throw internal(`operation ${op.id} carries no create task`);
  return op.task;
}

/** The tag of the data this operation writes: its pending data is found (and dropped) by it. */
const tagOf = (op: Operation): string => pendingTag({ type: "operation", operationId: op.id });

/** The blob an operation's converted data is committed under (its ingested data is under its id). */
const convertedKeyOf = (op: Operation): string => convertedBlobKey(op.id);

/** Staged data as a conversion reads it (its format the declared one), or null when it cannot be. */
function stagedData(image: Image, blobKey: string): ArrivedData | null {
  const { diskFormat, size, virtualSize, checksumMd5, checksumSha512 } = image;
  if (!diskFormat || !isConvertible(diskFormat) || size === null || !checksumMd5 || !checksumSha512)
    return null;
  return {
    key: blobKey,
    format: diskFormat,
    size,
    virtualSize: virtualSize ?? size,
    md5: checksumMd5,
    sha512: checksumSha512,
  };
}

/** An active image's data as an export reads it, or null when it has none to convert. */
function exportable(image: Image): ArrivedData | null {
  if (!isActive(image) || !image.blobKey) return null;
  return stagedData(image, image.blobKey);
}

/** Makes the image active with what `fields` derives from it as it is stored now. */
async function finish(
  tx: CatalogStores,
  op: Operation,
  fields: (current: Image) => Partial<Image> | Promise<Partial<Image>>,
): Promise<OperationResponse> {
  const current = await tx.images.findById(op.resourceId);
  if (!current || isBeingDeleted(current)) throw notFound(`Image ${op.resourceId} not found`);
  await tx.quotas.release(current.id); // settled: the image's own size counts from now on
  const done = await saveImage(tx, current, transition(current, "active", await fields(current)));
  // An import into several stores: the data is in one, a copy operation takes it to the others.
  if (op.task.type === "create" && op.task.copyTo) {
    const copy = { type: "copy" as const, ...op.task.copyTo };
    await startCopy(
      tx,
      op.createdBy,
      done,
      copy,
      `Copy image data to ${copy.stores.join(", ")}`,
      op.requestId,
    );
  }
  // A new image of a family with a retention rule may push older ones out of the newest kept.
  await enforceRetentionFor(tx, { subjectId: op.createdBy }, done);
  return { type: "image", image: done };
}

/**
 * What ingested data decides: with declared formats only the data fields; with detected ones the
 * disk format found, `bare` when no container was named, and a minimum disk size that covers the
 * data (the request's, or derived from the data when it named none).
 */
async function fieldsFromData(
  tx: CatalogStores,
  limits: QuotaLimits,
  current: Image,
  task: CreateImageTask,
  arrived: StoredData,
  kept: KeptData,
): Promise<Partial<Image>> {
  const { data } = kept;
  // Converted data may be bigger than what arrived (raw from qcow2): the folder must have room.
  if (kept.converted && data.size > arrived.size) {
    await assertWithinLimits(tx, limits, current.folderId, { image_size_total: data.size - arrived.size });
  }
  const properties = { ...current.properties, ...task.properties?.done, ...kept.properties };
  if (task.formats === "declared") {
    return { ...dataFields(data), properties, ...(kept.converted ? { diskFormat: data.format } : {}) };
  }
  const dataSize = dataSizeOf(data);
  const minDiskSize = task.inherit.minDiskSize ? defaultMinDiskSize(dataSize) : current.minDiskSize;
  assertMinDiskSizeCovers(minDiskSize, dataSize);
  return {
    ...dataFields(data),
    properties,
    diskFormat: data.format,
    containerFormat: current.containerFormat ?? "bare",
    minDiskSize,
  };
}

/** An export: the converted copy of the source, with what the request left unset inherited from it. */
async function finishExport(
  tx: CatalogStores,
  limits: QuotaLimits,
  op: Operation,
  task: CreateImageTask,
  sourceId: string,
  exported: IngestResult,
): Promise<OperationResponse> {
  return finish(tx, op, async (current) => {
    const src = await tx.images.findById(sourceId);
    const original = src && src.kind === current.kind ? exportable(src) : null;
    if (!src || !original) throw notFound(`Image ${sourceId} not found`);
    await tx.lifecycle.recordUse(src.id, Date.now());
    await assertWithinLimits(tx, limits, current.folderId, { image_size_total: exported.size });
    return {
      ...dataFields(exported),
      diskFormat: exported.format,
      containerFormat: src.containerFormat ?? "bare",
      ...inheritedFrom(src, current, task, dataSizeOf(exported)),
      properties: {
        ...current.properties,
        ...originalProperties(original),
        [ORIGINAL_PROPERTIES.exportedFrom]: src.id,
      },
    };
  });
}

/**
 * From another image: share its blob and data fields, inherit what the request left unset. The
 * bytes are shared, not copied: they count against the project's size total only when the
 * project holds no image with that data yet (an image of another project's, say).
 */
async function finishFromImage(
  tx: CatalogStores,
  limits: QuotaLimits,
  op: Operation,
  task: CreateImageTask,
  sourceId: string,
): Promise<OperationResponse> {
  return finish(tx, op, async (current) => {
    const src = await tx.images.findById(sourceId);
    if (!src || src.kind !== current.kind) throw notFound(`Image ${sourceId} not found`);
    if (!isActive(src) || !src.blobKey) {
      throw failedPrecondition(`Image ${sourceId} is not ready to be used as a source`);
    }
    assertNotObsolete(src);
    await tx.lifecycle.recordUse(src.id, Date.now());
    const held = await tx.quotas.holdsData(current.folderId, src.blobKey, current.id);
    await assertWithinLimits(tx, limits, current.folderId, {
      image_size_total: held ? 0 : (src.size ?? 0),
    });
    return {
      blobKey: src.blobKey,
      stores: src.stores,
      size: src.size,
      virtualSize: src.virtualSize,
      checksumMd5: src.checksumMd5,
      checksumSha512: src.checksumSha512,
      diskFormat: src.diskFormat,
      containerFormat: src.containerFormat,
      ...inheritedFrom(src, current, task, dataSizeOf(src)),
    };
  });
}

/**
 * What a new image made from `src` takes from it where the request left the field unset: its OS
 * type, product ids, and a minimum disk size that covers `dataSize` (the new image's data).
 */
function inheritedFrom(
  src: Image,
  current: Image,
  task: CreateImageTask,
  dataSize: number,
): Pick<Image, "osType" | "productIds" | "minDiskSize"> {
  const minDiskSize = task.inherit.minDiskSize
    ? Math.max(src.minDiskSize, defaultMinDiskSize(dataSize))
    : current.minDiskSize;
  assertMinDiskSizeCovers(minDiskSize, dataSize);
  return {
    osType: task.inherit.osType ? src.osType : current.osType,
    productIds: task.inherit.productIds ? src.productIds : current.productIds,
    minDiskSize,
  };
}

/**
 * Data read from another image service is the data it described: its size and checksums (MD5,
 * and SHA-512 when it gave one) must match what the ingest measured.
 */
function assertIsRemoteData(result: IngestResult, remote: RemoteImageFacts): void {
  const mismatch =
    (remote.size !== null && remote.size !== result.size) ||
    (remote.md5 !== null && remote.md5 !== result.md5) ||
    (remote.sha512 !== null && remote.sha512 !== result.sha512);
  if (mismatch) {
    throw failedPrecondition(
      "glance-download: the data read does not match the size and checksums its image service gave",
    );
  }
}

/**
 * What a remote image brings besides its data (glance-download): its disk and container formats
 * (unless the data was converted) and the properties a copy takes over.
 */
function withRemoteFacts(
  fields: Partial<Image>,
  remote: RemoteImageFacts | null,
  converted: boolean,
): Partial<Image> {
  if (!remote) return fields;
  return {
    ...fields,
    ...(converted ? {} : { diskFormat: remote.diskFormat, containerFormat: remote.containerFormat }),
    properties: { ...fields.properties, ...remote.properties },
  };
}

/** The image's properties with the task's markers for how it ended (none for most tasks). */
function markers(image: Image, task: CreateImageTask, outcome: "done" | "failed"): Partial<Image> {
  const set = task.properties?.[outcome];
  return set ? { properties: { ...image.properties, ...set } } : {};
}
