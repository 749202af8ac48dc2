import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition, permissionDenied } from "../errors.js";
import { type ChangeRules, type ImageChange, applyChange } from "../image-change.js";
import { assertMinDiskSizeCovers, dataSizeOf } from "../image-sizes.js";
import { isBeingDeleted, isQueued, transition } from "../image-states.js";
import type { Image } from "../image.js";
import type { Operation } from "../operation.js";
import { recordImageOperation, recordSavedChange } from "../operations/record-operation.js";
import type { CatalogStores } from "../ports/catalog.js";
import { withDeprecation } from "../lifecycle/deprecate-image.js";
import { scheduleTransitions } from "../lifecycle/schedule.js";
import type { Principal } from "../principal.js";
import { type ImageRef, loadImage, refId } from "./image-loader.js";
import { assertMayPublicize } from "./register-image.js";
import { assertNameFree, saveImage } from "./save-image.js";

/** How a dialect wants a change applied, and the rules it holds names and sizes to. */
export interface UpdatePolicy extends ChangeRules {
  /**
   * "now": saved at once (the operation is done); "deferred": a worker applies it (run-update.ts),
   * the image shows `updating`.
   */
  apply: "now" | "deferred";
  /** The operation's description, in the dialect's words. */
  description: string;
}

/**
 * Changes an image's metadata: authorise, load, apply the declared change, check the rules, save
 * (conditional on the status and version read), record the operation. Deferred changes are
 * checked now and again when a worker applies them (assertRulesHold, run-update.ts).
 */
export async function updateImage(
  deps: Pick<CoreDeps, "catalog" | "queue">,
  principal: Principal,
  ref: ImageRef,
  change: ImageChange,
  policy: UpdatePolicy,
): Promise<{ operation: Operation; image: Image }> {
  const result = await deps.catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.update", ref);
    if (isBeingDeleted(current)) throw failedPrecondition(`Image ${current.id} is being deleted`);
    const changed = applyChange(current, change);
    const next = change.deprecation
      ? await withDeprecation(tx, principal, changed, change.deprecation)
      : changed;
    checkChangeRules(principal, current, next);
    const rules = { uniqueName: policy.uniqueName, minDiskCoversData: policy.minDiskCoversData };
    await assertRulesHold(tx, current, next, change, rules);

    if (policy.apply === "deferred") {
      const saved = await saveImage(tx, current, transition(current, "updating"), refId(ref));
      const operation = await recordImageOperation(tx, principal, current, {
        kind: "image.update",
        description: policy.description,
        task: { type: "update", change, rules },
      });
      return { operation, image: saved };
    }
    const saved = await saveImage(tx, current, next, refId(ref));
    if (change.deprecation) await scheduleTransitions(tx, principal, saved);
    const operation = await recordSavedChange(
      tx,
      principal,
      current,
      saved,
      "image.update",
      policy.description,
    );
    return { operation, image: saved };
  });
  if (policy.apply === "deferred" || change.deprecation) deps.queue.kick();
  return result;
}

/** The dialect's rules for `change`, on the catalog as `tx` sees it: a free name, a disk that fits. */
export async function assertRulesHold(
  tx: CatalogStores,
  current: Image,
  next: Image,
  change: ImageChange,
  rules: ChangeRules,
): Promise<void> {
  if (rules.uniqueName && next.name !== current.name) await assertNameFree(tx, next);
  const sizeChanged = change.set.minDiskSize !== undefined || change.reset?.includes("minDiskSize");
  if (rules.minDiskCoversData && sizeChanged) assertMinDiskSizeCovers(next.minDiskSize, dataSizeOf(next));
}

/** Rules on fields only some dialects change: who may publish, when formats may change. */
function checkChangeRules(principal: Principal, current: Image, next: Image): void {
  if (next.visibility === "public" && current.visibility !== "public")
    assertMayPublicize(principal, next.folderId);
  if (next.folderId !== current.folderId && !principal.isAdmin) {
    throw permissionDenied("Only the service admin may give an image to another owner").because(
      "OWNER_CHANGE_DENIED",
    );
  }
  for (const field of ["diskFormat", "containerFormat"] as const) {
    if (next[field] !== current[field] && !isQueued(current)) {
      throw permissionDenied(`${field} can only be changed before the image has data`).because(
        "FORMAT_FROZEN",
        {
          field,
        },
      );
    }
  }
}
