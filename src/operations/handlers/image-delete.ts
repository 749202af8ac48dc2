import { internal } from "../../core/errors.js";
import { transition } from "../../core/image-states.js";
import type { Operation } from "../../core/operation.js";
import type { BlobDeleter } from "../../core/ports/blob-store.js";
import type { Catalog, CatalogStores } from "../../core/ports/catalog.js";
import type { OperationHandler, RunContext } from "../engine.js";
import { releaseBlob } from "../../core/image-data/release-blob.js";

/**
 * Removes an image and frees its bytes when no other image shares them. Every step is idempotent
 * (delete the row if present, delete the blob if unreferenced), so a resumed attempt just repeats.
 */
export class DeleteImageHandler implements OperationHandler {
  readonly cancellable = false;

  constructor(private readonly deps: { catalog: Catalog; blobs: BlobDeleter }) {}

  async run(ctx: RunContext): Promise<void> {
    const { catalog, blobs } = this.deps;
    const { task } = ctx.op;
    if (task.type !== "delete") throw internal(`operation ${ctx.op.id} carries no delete task`);
    await catalog.images.delete(ctx.op.resourceId);
    if (task.blobKey) await releaseBlob({ catalog, blobs }, task.blobKey);
    await ctx.complete(async () => ({ type: "empty" }));
  }

  async rollback(tx: CatalogStores, op: Operation): Promise<void> {
    // The delete could not finish: show the image as failed rather than deleting forever.
    const image = await tx.images.findById(op.resourceId);
    if (image) await tx.images.save(image, transition(image, "killed"), Date.now());
  }
}
