import type { Image } from "../image.js";
import type { Operation } from "../operation.js";
import { saveImage } from "../images/save-image.js";
import { recordImageOperation, recordSavedChange } from "../operations/record-operation.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";
import { type TransitionTarget, dueTimeOf, hasReached, wholeSeconds } from "./lifecycle.js";

const TARGETS: readonly TransitionTarget[] = ["DEPRECATED", "OBSOLETE", "DELETED"];

const DESCRIPTION: Record<TransitionTarget, string> = {
  DEPRECATED: "Deprecate image",
  OBSOLETE: "Make image obsolete",
  DELETED: "Delete image",
};

/**
 * Makes the image's scheduled transitions those its deprecation names, in the caller's
 * transaction: each is an operation that no worker claims before its time, so it is durable work
 * in the existing engine (leased, resumed on another node when its worker dies). Transitions
 * scheduled before are ended as superseded; a transition already reached is not scheduled.
 */
export async function scheduleTransitions(
  tx: CatalogStores,
  by: Pick<Principal, "subjectId">,
  image: Image,
): Promise<void> {
  await endScheduled(tx, image.id, "image.transition", "superseded by a new schedule");
  for (const target of TARGETS) {
    const at = dueTimeOf(image, target);
    if (at === null || hasReached(image, target)) continue;
    await recordImageOperation(tx, by, image, {
      kind: "image.transition",
      description: `${DESCRIPTION[target]} at ${wholeSeconds(at)}`,
      task: { type: "transition", target, at },
      notBefore: at,
    });
  }
}

/**
 * Ends the unfinished scheduled operations of one kind on an image (cancelled, with `why`). One a
 * worker runs at this moment finds the image changed and ends without effect.
 */
export async function endScheduled(
  tx: CatalogStores,
  imageId: string,
  kind: Operation["kind"],
  why: string,
): Promise<void> {
  const now = Date.now();
  for (const op of await tx.operations.scheduled(imageId, kind)) {
    await tx.operations.finish(
      op.id,
      null,
      { error: { code: "CANCELLED", message: `The operation was cancelled: ${why}` } },
      now,
    );
  }
}

/**
 * Saves a lifecycle change made at once (a deprecation, a restore): the image, its scheduled
 * transitions as it now names them, and the operation, done, in the caller's transaction.
 */
export async function saveLifecycleChange(
  tx: CatalogStores,
  principal: Pick<Principal, "subjectId">,
  current: Image,
  next: Image,
  change: { kind: Operation["kind"]; description: string; label?: string },
): Promise<{ operation: Operation; image: Image }> {
  const saved = await saveImage(tx, current, next, change.label);
  await scheduleTransitions(tx, principal, saved);
  const operation = await recordSavedChange(tx, principal, current, saved, change.kind, change.description);
  return { operation, image: saved };
}
