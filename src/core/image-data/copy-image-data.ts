import { createHash } from "node:crypto";
import { Transform, promises as streams } from "node:stream";
import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition, internal, isVitrineError, notFound } from "../errors.js";
import { loadImage } from "../images/image-loader.js";
import { saveImage } from "../images/save-image.js";
import { isActive } from "../image-states.js";
import type { Image } from "../image.js";
import type { CopyImageTask, Operation, OperationError, StoreMarkers } from "../operation.js";
import type { OperationRunner, RunContext } from "../operations/operation-runner.js";
import { recordImageOperation } from "../operations/record-operation.js";
import { pendingTag } from "../ports/blob-store.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";
import { releaseBlob } from "./release-blob.js";
import { assertStoreExists, readImageBlob, storesOf } from "./image-stores.js";

export interface CopyInput {
  /** The stores to copy to; null: every store that does not hold the data yet. */
  stores: string[] | null;
  mustSucceed: boolean;
  markers: StoreMarkers | null;
  description: string;
  requestId?: string;
}

/**
 * Copies an active image's data to more stores (Glance's copy-image import): a durable
 * operation that survives a worker's death (a resumed attempt skips the stores already done),
 * can be cancelled, and lists a store on the image only once its copy matched the image's size
 * and SHA-512. Asking for a store that already holds the data is a conflict; asking for all of
 * them copies to those that do not.
 */
export async function copyImageData(
  deps: Pick<CoreDeps, "catalog" | "queue" | "stores">,
  principal: Principal,
  uuid: string,
  input: CopyInput,
): Promise<Operation | null> {
  for (const store of input.stores ?? []) assertStoreExists(deps, store);
  const op = await deps.catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.update", { uuid });
    if (!isActive(current) || !current.blobKey) {
      throw failedPrecondition(`Image ${uuid} is not active: only active images' data can be copied`).because(
        "STATUS_CONFLICT",
      );
    }
    const held = storesOf(current, deps);
    const already = (input.stores ?? []).find((s) => held.includes(s));
    if (already) {
      throw failedPrecondition(`Image ${uuid} is already in store ${already}`).because("ALREADY_IN_STORE", {
        store: already,
      });
    }
    const stores = [...new Set(input.stores ?? deps.stores.list().map((s) => s.id))].filter(
      (s) => !held.includes(s),
    );
    const task: CopyImageTask = {
      type: "copy",
      stores,
      mustSucceed: input.mustSucceed,
      markers: input.markers,
    };
    if (stores.length === 0) {
      if (input.markers) await saveImage(tx, current, withMarkers(current, input.markers, [], ""));
      return null;
    }
    const marked = input.markers
      ? await saveImage(tx, current, withMarkers(current, input.markers, stores, ""))
      : current;
    return startCopy(tx, principal.subjectId, marked, task, input.description, input.requestId ?? null);
  });
  if (op) deps.queue.kick();
  return op;
}

/** Records the copy operation of `task` on `image`, in `tx` (its markers are the caller's to set). */
export async function startCopy(
  tx: CatalogStores,
  createdBy: string,
  image: Image,
  task: CopyImageTask,
  description: string,
  requestId: string | null,
): Promise<Operation> {
  return recordImageOperation(tx, { subjectId: createdBy }, image, {
    kind: "image.copy",
    description,
    requestId,
    task,
  });
}

/**
 * Removes an image's data from one store (Glance's `DELETE /v2/stores/{store}/{image}`): the
 * image stays, served from its other stores; its only copy cannot be removed.
 */
export async function removeFromStore(
  deps: Pick<CoreDeps, "catalog" | "stores" | "blobs">,
  principal: Principal,
  uuid: string,
  store: string,
): Promise<void> {
  assertStoreExists(deps, store);
  const key = await deps.catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.update", { uuid });
    if (!isActive(current) || !current.blobKey) {
      throw failedPrecondition(`Image ${uuid} is not active`).because("STATUS_CONFLICT");
    }
    const held = storesOf(current, deps);
    if (!held.includes(store)) {
      throw notFound(`Image ${uuid} has no data in store ${store}`).because("NOT_IN_STORE", { store });
    }
    if (held.length === 1) {
      throw failedPrecondition(
        `Store ${store} holds image ${uuid}'s only copy: delete the image instead`,
      ).because("LAST_STORE", { store });
    }
    await saveImage(tx, current, { ...current, stores: held.filter((s) => s !== store) });
    return current.blobKey;
  });
  // Images made from this one share the blob: it stays in the store while one of them lists it.
  const others = await deps.catalog.images.findByBlobKey(key);
  if (!others.some((image) => storesOf(image, deps).includes(store)))
    await deps.stores.get(store)!.delete(key);
}

/** The run half: each store in turn, the image's data read from a store that has it and checked. */
export class RunCopyImage implements OperationRunner {
  readonly cancellable = true;

  constructor(private readonly deps: Pick<CoreDeps, "catalog" | "stores" | "cache" | "blobs">) {}

  async run(ctx: RunContext): Promise<void> {
    const { op } = ctx;
    const task = copyTaskOf(op);
    const { catalog } = this.deps;
    await this.deps.blobs.discardPending(tagOf(op)); // an earlier attempt's partial copy
    const failed: string[] = [];
    for (const [i, store] of task.stores.entries()) {
      const image = await catalog.images.findById(op.resourceId);
      if (!image || !isActive(image) || !image.blobKey) {
        throw failedPrecondition(`Image ${op.resourceId} is no longer active: its copy stopped`);
      }
      if (storesOf(image, this.deps).includes(store)) continue; // done by an earlier attempt
      try {
        await this.copyTo(ctx, image, store);
        ctx.log.info({ store, size: image.size }, "image data copied");
      } catch (err) {
        if (task.mustSucceed || ctx.signal.aborted) throw err;
        ctx.log.info(
          { store, err: isVitrineError(err) ? err.message : String(err) },
          "copying to a store failed",
        );
        failed.push(store);
      }
      const left = task.stores.slice(i + 1);
      const listed = await catalog.transaction(async (tx) => {
        const current = await tx.images.findById(op.resourceId);
        if (!current || current.blobKey !== image.blobKey) return false;
        const stores = failed.includes(store)
          ? storesOf(current, this.deps)
          : [...storesOf(current, this.deps), store];
        const next = { ...current, stores };
        await saveImage(
          tx,
          current,
          task.markers ? withMarkers(next, task.markers, left, failed.join(",")) : next,
        );
        return true;
      });
      // Deleted (or given other data) meanwhile: the copy belongs to nobody, unless an image shares it.
      if (!listed) await releaseBlob({ catalog, blobs: this.deps.stores.get(store)! }, image.blobKey);
    }
    await ctx.complete(async (tx) => {
      const current = await tx.images.findById(op.resourceId);
      if (!current) throw notFound(`Image ${op.resourceId} not found`);
      return { type: "image", image: current };
    });
  }

  /** Streams the data into `store`, committing only a copy of the image's size and SHA-512. */
  private async copyTo(ctx: RunContext, image: Image, store: string): Promise<void> {
    const target = this.deps.stores.get(store);
    if (!target) throw failedPrecondition(`Store ${store} is not configured any more`);
    const source = await readImageBlob(this.deps, image);
    const writer = await target.createWriter(image.blobKey!, tagOf(ctx.op));
    const hash = createHash("sha512");
    let bytes = 0;
    const check = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        ctx.reportProgress({ bytesDone: bytes, bytesTotal: image.size });
        done(null, chunk);
      },
    });
    try {
      await streams.pipeline(source, check, writer.stream, { signal: ctx.signal });
      if (bytes !== image.size || hash.digest("hex") !== image.checksumSha512) {
        throw internal(`The data read for store ${store} does not match the image's size and SHA-512`);
      }
      await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  /** The stores not copied to are shown as failed; the copies made stay listed. */
  async rollback(tx: CatalogStores, op: Operation, _error: OperationError): Promise<void> {
    const task = copyTaskOf(op);
    const current = await tx.images.findById(op.resourceId);
    if (!current || !task.markers) return;
    const held = storesOf(current, this.deps);
    const failed = task.stores.filter((s) => !held.includes(s));
    await saveImage(tx, current, withMarkers(current, task.markers, [], failed.join(",")));
  }

  async cleanup(op: Operation): Promise<void> {
    await this.deps.blobs.discardPending(tagOf(op));
  }
}

function withMarkers(image: Image, markers: StoreMarkers, importing: string[], failed: string): Image {
  return {
    ...image,
    properties: { ...image.properties, [markers.importing]: importing.join(","), [markers.failed]: failed },
  };
}

function copyTaskOf(op: Operation): CopyImageTask {
  if (op.task.type !== "copy") throw internal(`operation ${op.id} carries no copy task`);
  return op.task;
}

const tagOf = (op: Operation): string => pendingTag({ type: "operation", operationId: op.id });
