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
    await ctx.complete((tx) => this.transition(tx, ctx.op, task));
    ctx.log.info({ target: task.target, dueAt: task.at }, "scheduled transition applied");
  }

  private async transition(
    tx: CatalogStores,
    op: Operation,
    task: TransitionTask,
  ): Promise<OperationResponse> {
    const image = await tx.images.findById(op.resourceId);
    const gone = !image || isBeingDeleted(image) || isInBin(image);
    if (gone) return { type: "empty" };
    if (dueTimeOf(image, task.target) !== task.at || hasReached(image, task.target)) {
      return { type: "image", image };
    }
    if (task.target === "DELETED") {
      await startDelete(tx, { subjectId: op.createdBy }, image, image.id, "Delete image", this.deps);
      return { type: "empty" };
    }
    const saved = await saveImage(tx, image, {
      ...image,
      deprecation: { ...image.deprecation, state: task.target },
      osHidden: task.target === "OBSOLETE" || image.osHidden,
    });
    return { type: "image", image: saved };
  }

  /** A transition that failed (a protected image due for deletion) leaves the image as it is. */
  async rollback(): Promise<void> {}
}

function taskOf(op: Operation): TransitionTask {
  if (op.task.type !== "transition") throw internal(`operation ${op.id} carries no transition task`);
  return op.task;
}
