import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition } from "../errors.js";
import { awaitsData, hasData, isBeingDeleted, isReceivingUpload, transition } from "../image-states.js";
import type { Image } from "../image.js";
import { binRetentionOf } from "../lifecycle/recycle-bin.js";
import type { Operation } from "../operation.js";
import { recordImageOperation } from "../operations/record-operation.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";
import { type ImageRef, loadImage, refId } from "./image-loader.js";
import { saveImage } from "./save-image.js";

/**
 * Starts deleting an image: it disappears from lists at once, a worker frees its bytes (or, when
 * the folder keeps a recycle bin, moves the image there). Images still receiving data through an
 * operation are refused (cancel the operation instead). An image receiving a direct upload
 * (OpenStack PUT file or stage) is deleted as Glance does: the upload's bytes then belong to
 * nobody and are dropped when it ends (uploadImageData), so a client that cancels its upload and
 * deletes the image leaves nothing, whichever reaches the service first.
 */
export async function deleteImage(
  deps: Pick<CoreDeps, "catalog" | "queue" | "binRetentionSeconds">,
  principal: Principal,
  ref: ImageRef,
  description: string,
  opts: { skipBin?: boolean } = {},
): Promise<Operation> {
  const op = await deps.catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.delete", ref);
    return startDelete(tx, principal, current, refId(ref), description, deps, opts.skipBin);
  });
  deps.queue.kick();
  return op;
}

/**
 * Marks `current` deleting and queues its delete, in the caller's transaction (a user's delete, a
 * scheduled one). Whether it goes to the recycle bin is decided now, by its folder's retention:
 * only an image holding data of the Compute kind (the one its dialects and OpenStack share) goes
 * there; one without data has nothing to restore. `skipBin`: for good, as a caller asked (the
 * CLI's hidden upload image, a user deleting for good).
 */
export async function startDelete(
  tx: CatalogStores,
  by: Pick<Principal, "subjectId">,
  current: Image,
  label: string,
  description: string,
  deps: Pick<CoreDeps, "binRetentionSeconds">,
  skipBin = false,
): Promise<Operation> {
  if (isBeingDeleted(current)) throw failedPrecondition(`Image ${current.id} is already being deleted`);
  const busy =
    awaitsData(current) && !isReceivingUpload(current) && (await tx.operations.hasUnfinished(current.id));
  if (busy) {
    throw failedPrecondition(
      `Image ${label} is being created; cancel its create operation or wait for it to end`,
    ).because("STATUS_CONFLICT");
  }
  if (current.protected) {
    throw failedPrecondition(`Image ${label} is protected and cannot be deleted.`).because("PROTECTED");
  }
  const binnable = hasData(current) && current.kind === "compute" && !skipBin;
  const seconds = binnable ? await binRetentionOf(tx, deps, current.folderId) : 0;
  await saveImage(tx, current, transition(current, "deleting"), label);
  return recordImageOperation(tx, by, current, {
    kind: "image.delete",
    description,
    task: {
      type: "delete",
      blobKey: current.blobKey,
      ...(seconds > 0
        ? { bin: { seconds, restoreStatus: current.status === "deactivated" ? "deactivated" : "active" } }
        : {}),
    },
  });
}
