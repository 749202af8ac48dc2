import { internal, notFound } from "../../core/errors.js";
import { applyChange } from "../../core/image-change.js";
import { isBeingDeleted, isUpdating, transition } from "../../core/image-states.js";
import { assertNameFree, saveImage } from "../../core/images/save-image.js";
import type { Operation } from "../../core/operation.js";
import type { CatalogStores } from "../../core/ports/catalog.js";
import type { OperationHandler, RunContext } from "../engine.js";

/** Applies a deferred metadata change and returns the image to active. */
export class UpdateImageHandler implements OperationHandler {
  readonly cancellable = false;

  async run(ctx: RunContext): Promise<void> {
    const { task } = ctx.op;
    if (task.type !== "update") throw internal(`operation ${ctx.op.id} carries no update task`);
    await ctx.complete(async (tx) => {
      const current = await tx.images.findById(ctx.op.resourceId);
      if (!current || isBeingDeleted(current)) throw notFound(`Image ${ctx.op.resourceId} not found`);
      const next = transition(applyChange(current, task.change), "active");
      // The name was free when the update was accepted; make sure nobody took it since.
      if (next.name !== current.name) await assertNameFree(tx, next);
      return { type: "image", image: await saveImage(tx, current, next) };
    });
  }

  async rollback(tx: CatalogStores, op: Operation): Promise<void> {
    const image = await tx.images.findById(op.resourceId);
    if (image && isUpdating(image)) await tx.images.save(image, transition(image, "active"), Date.now());
  }
}
