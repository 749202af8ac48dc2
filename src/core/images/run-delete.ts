import type { CoreDeps } from "../core-deps.js";
import { internal } from "../errors.js";
import { releaseBlob } from "../image-data/release-blob.js";
import { isBeingDeleted, transition } from "../image-states.js";
import { schedulePurge } from "../lifecycle/recycle-bin.js";
import { endScheduled } from "../lifecycle/schedule.js";
import type { Operation } from "../operation.js";
import type { OperationRunner, RunContext } from "../operations/operation-runner.js";
import type { CatalogStores } from "../ports/catalog.js";
import { saveImage } from "./save-image.js";

/**
 * The run half of deleting an image (delete-image.ts marked it `deleting`): removes the row and
 * frees its bytes when no other image shares them, or moves the image to the recycle bin. Every
 * step is idempotent (delete the row if present, the blob if unreferenced; bin an image still
 * `deleting`), so a resumed attempt just repeats.
 */
export class RunDeleteImage implements OperationRunner {
  readonly cancellable = false;

  constructor(private readonly deps: Pick<CoreDeps, "catalog" | "blobs">) {}

  async run(ctx: RunContext): Promise<void> {
    const { task } = ctx.op;
    if (task.type !== "delete") throw internal(`operation ${ctx.op.id} carries no delete task`);
    const { bin } = task;
    if (bin) {
      // Into the recycle bin: the row, bytes and everything attached stay; its purge is scheduled.
      let purgeAt: number | null = null;
      await ctx.complete(async (tx) => {
        const image = await tx.images.findById(ctx.op.resourceId);
        if (!image || !isBeingDeleted(image)) return { type: "empty" };
        const now = Date.now();
        purgeAt = now + bin.seconds * 1000;
        const binned = await saveImage(
          tx,
          image,
          transition(image, "binned", { bin: { binnedAt: now, purgeAt, restoreStatus: bin.restoreStatus } }),
        );
        await endScheduled(tx, image.id, "image.transition", "the image was deleted");
        await schedulePurge(tx, { subjectId: ctx.op.createdBy }, binned, purgeAt);
        return { type: "empty" };
      });
      if (purgeAt !== null) {
        const until = new Date(purgeAt).toISOString();
        ctx.log.info({ imageId: ctx.op.resourceId, purgeAt: until }, "image moved to the recycle bin");
      }
      return;
    }
    await this.deps.catalog.images.delete(ctx.op.resourceId);
    if (task.blobKey) await releaseBlob(this.deps, task.blobKey);
    await ctx.complete(async () => ({ type: "empty" }));
  }

  /** The delete could not finish: show the image as failed rather than deleting for ever. */
  async rollback(tx: CatalogStores, op: Operation): Promise<void> {
    const image = await tx.images.findById(op.resourceId);
    if (image) await saveImage(tx, image, transition(image, "killed"));
  }
}
