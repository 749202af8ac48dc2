import type { CoreDeps } from "../core-deps.js";
import { internal } from "../errors.js";
import { isBeingDeleted, isInBin } from "../image-states.js";
import { startDelete } from "../images/delete-image.js";
import { saveImage } from "../images/save-image.js";
import type { Operation, OperationResponse, TransitionTask } from "../operation.js";
import type { OperationRunner, RunContext } from "../operations/operation-runner.js";
import type { CatalogStores } from "../ports/catalog.js";
import { dueTimeOf, hasReached } from "./lifecycle.js";

/**
 * The run half of a scheduled transition (schedule.ts queued it for its time): the image becomes
 * DEPRECATED or OBSOLETE, or is deleted (into the recycle bin when its folder keeps one). It is
 * decided in the transaction that ends the operation, on the image as stored then, so a resumed
 * or repeated run changes nothing twice: a transition already reached, or one whose time the image
 * no longer names (rescheduled, cleared), ends without effect.
 */
export class RunTransition implements OperationRunner {
  readonly cancellable = true;

  constructor(private readonly deps: Pick<CoreDeps, "catalog" | "binRetentionSeconds">) {}

  // The delete a DELETED transition queues is taken by the engine as soon as this one ends.
  async run(ctx: RunContext): Promise<void> {
    const task = taskOf(ctx.op);
    let applied = false;
    await ctx.complete(async (tx) => {
      const { response, changed } = await this.transition(tx, ctx.op, task);
      applied = changed;
      return response;
    });
    const fields = { target: task.target, dueAt: new Date(task.at).toISOString() };
    if (applied) ctx.log.info(fields, "scheduled transition applied");
    else
      ctx.log.info(fields, "scheduled transition had nothing left to do (reached, rescheduled or deleted)");
  }

  private async transition(
    tx: CatalogStores,
    op: Operation,
    task: TransitionTask,
  ): Promise<{ response: OperationResponse; changed: boolean }> {
    const image = await tx.images.findById(op.resourceId);
    const gone = !image || isBeingDeleted(image) || isInBin(image);
    if (gone) return { response: { type: "empty" }, changed: false };
    if (dueTimeOf(image, task.target) !== task.at || hasReached(image, task.target)) {
      return { response: { type: "image", image }, changed: false };
    }
    if (task.target === "DELETED") {
      await startDelete(tx, { subjectId: op.createdBy }, image, image.id, "Delete image", this.deps);
      return { response: { type: "empty" }, changed: true };
    }
    const saved = await saveImage(tx, image, {
      ...image,
      deprecation: { ...image.deprecation, state: task.target },
      osHidden: task.target === "OBSOLETE" || image.osHidden,
    });
    return { response: { type: "image", image: saved }, changed: true };
  }

  /** A transition that failed (a protected image due for deletion) leaves the image as it is. */
  async rollback(): Promise<void> {}
}

function taskOf(op: Operation): TransitionTask {
  if (op.task.type !== "transition") throw internal(`operation ${op.id} carries no transition task`);
  return op.task;
}
