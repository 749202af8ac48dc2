import type { CoreDeps } from "../core-deps.js";
import { internal } from "../errors.js";
import { releaseBlob } from "../image-data/release-blob.js";
import { isBeingDeleted, isInBin, transition } from "../image-states.js";
import { saveImage } from "../images/save-image.js";
import type { Operation, PurgeImageTask } from "../operation.js";
import type { OperationRunner, RunContext } from "../operations/operation-runner.js";

/**
 * The run half of purging an image from the recycle bin: the image goes `deleting`, then its row,
 * then its bytes when no other image (in the bin or not) still names them. Each step is
 * idempotent, so a resumed attempt repeats; an image restored meanwhile is left alone.
 */
export class RunPurgeImage implements OperationRunner {
  readonly cancellable = false;

  constructor(private readonly deps: Pick<CoreDeps, "catalog" | "blobs">) {}

  async run(ctx: RunContext): Promise<void> {
    const task = taskOf(ctx.op);
    const { catalog } = this.deps;
    let image = await catalog.images.findById(ctx.op.resourceId);
    if (image && isInBin(image)) {
      const binned = image;
      image = await catalog.transaction((tx) => saveImage(tx, binned, transition(binned, "deleting")));
    }
    if (image && isBeingDeleted(image)) {
      await catalog.images.delete(image.id);
      if (task.blobKey) await releaseBlob(this.deps, task.blobKey);
      ctx.log.info({ imageId: image.id }, "image purged from the recycle bin");
    }
    await ctx.complete(async () => ({ type: "empty" }));
  }

  async rollback(): Promise<void> {}
}

function taskOf(op: Operation): PurgeImageTask {
  if (op.task.type !== "purge") throw internal(`operation ${op.id} carries no purge task`);
  return op.task;
}
