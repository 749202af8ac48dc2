import type { Operation } from "../../core/operation.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import type { Db } from "../../storage/meta/database.js";
import type { ImagesRepo } from "../../storage/meta/images-repo.js";
import type { OperationHandler, RunContext } from "../engine.js";

/** What `image.delete` operations carry: the blob the image held, known before the row goes. */
export interface DeleteImagePayload {
  blobKey: string | null;
}

/**
 * Removes an image and frees its bytes when no other image shares them. Every step is idempotent
 * (delete the row if present, delete the blob if unreferenced), so a resumed attempt just repeats.
 */
export class DeleteImageHandler implements OperationHandler {
  readonly cancellable = false;

  constructor(private readonly deps: { db: Db; images: ImagesRepo; blobs: BlobStore }) {}

  async run(ctx: RunContext): Promise<void> {
    const { db, images, blobs } = this.deps;
    const { blobKey } = ctx.op.payload as unknown as DeleteImagePayload;
    await images.delete(db, ctx.op.resourceId);
    if (blobKey && (await images.countBlobReferences(db, blobKey)) === 0) await blobs.delete(blobKey);
    await ctx.complete(async () => ({ type: "empty" }));
  }

  async rollback(trx: Db, op: Operation): Promise<void> {
    // The delete could not finish: show the image as failed rather than deleting forever.
    const image = await this.deps.images.findById(trx, op.resourceId);
    if (image) await this.deps.images.update(trx, { ...image, status: "killed" }, Date.now());
  }
}
