import type { CoreDeps } from "../core-deps.js";
import { internal } from "../errors.js";
import { releaseBlob } from "../image-data/release-blob.js";
import { transition } from "../image-states.js";
import type { Operation } from "../operation.js";
import type { OperationRunner, RunContext } from "../operations/operation-runner.js";
import type { CatalogStores } from "../ports/catalog.js";
import { saveImage } from "./save-image.js";

/**
 * The run half of deleting an image (delete-image.ts marked it `deleting`): removes the row and
 * frees its bytes when no other image shares them. Every step is idempotent (delete the row if
 * present, the blob if unreferenced), so a resumed attempt just repeats.
 */
export class RunDeleteImage implements OperationRunner {
  readonly cancellable = false;

  constructor(private readonly deps: Pick<CoreDeps, "catalog" | "blobs">) {}

  async run(ctx: RunContext): Promise<void> {
    const { task } = ctx.op;
    if (task.type !== "delete") throw internal(`operation ${ctx.op.id} carries no delete task`);
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
