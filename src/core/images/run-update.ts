import { internal, notFound } from "../errors.js";
import { applyChange } from "../image-change.js";
import { isBeingDeleted, isUpdating, transition } from "../image-states.js";
import type { Operation, UpdateImageTask } from "../operation.js";
import type { OperationRunner, RunContext } from "../operations/operation-runner.js";
import type { CatalogStores } from "../ports/catalog.js";
import { saveImage } from "./save-image.js";
import { assertRulesHold } from "./update-image.js";

/**
 * The run half of a deferred update (update-image.ts queued it, the image shows `updating`):
 * applies the change under the same rules it was accepted by, and returns the image to active.
 */
export class RunUpdateImage implements OperationRunner {
  readonly cancellable = false;

  async run(ctx: RunContext): Promise<void> {
    const task = taskOf(ctx.op);
    await ctx.complete(async (tx) => {
      const current = await tx.images.findById(ctx.op.resourceId);
      if (!current || isBeingDeleted(current)) throw notFound(`Image ${ctx.op.resourceId} not found`);
      const next = transition(applyChange(current, task.change), "active");
      // Held when the update was accepted; somebody may have taken the name since.
      await assertRulesHold(tx, current, next, task.change, task.rules);
      return { type: "image", image: await saveImage(tx, current, next) };
    });
  }

  /** The change could not be applied: the image stays as it was, active again. */
  async rollback(tx: CatalogStores, op: Operation): Promise<void> {
    const image = await tx.images.findById(op.resourceId);
    if (image && isUpdating(image)) await saveImage(tx, image, transition(image, "active"));
  }
}

function taskOf(op: Operation): UpdateImageTask {
  if (op.task.type !== "update") throw internal(`operation ${op.id} carries no update task`);
  return op.task;
}
