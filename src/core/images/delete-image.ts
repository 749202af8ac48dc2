import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition } from "../errors.js";
import { awaitsData, isBeingDeleted, isReceivingUpload, transition } from "../image-states.js";
import type { Operation } from "../operation.js";
import { recordImageOperation } from "../operations/record-operation.js";
import type { Principal } from "../principal.js";
import { type ImageRef, loadImage, refId } from "./image-loader.js";
import { saveImage } from "./save-image.js";

/**
 * Starts deleting an image: it disappears from lists at once, a worker frees its bytes. Images
 * still receiving data through an operation are refused (cancel the operation instead). An image
 * receiving a direct upload (OpenStack PUT file or stage) is deleted as Glance does: the upload's
 * bytes then belong to nobody and are dropped when it ends (uploadImageData), so a client that
 * cancels its upload and deletes the image leaves nothing, whichever reaches the service first.
 */
export async function deleteImage(
  deps: Pick<CoreDeps, "catalog" | "queue">,
  principal: Principal,
  ref: ImageRef,
  description: string,
): Promise<Operation> {
  const op = await deps.catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.delete", ref);
    if (isBeingDeleted(current)) throw failedPrecondition(`Image ${current.id} is already being deleted`);
    const busy =
      awaitsData(current) && !isReceivingUpload(current) && (await tx.operations.hasUnfinished(current.id));
    if (busy) {
      throw failedPrecondition(
        `Image ${refId(ref)} is being created; cancel its create operation or wait for it to end`,
      ).because("STATUS_CONFLICT");
    }
    if (current.protected) {
      throw failedPrecondition(`Image ${refId(ref)} is protected and cannot be deleted.`).because(
        "PROTECTED",
      );
    }
    await saveImage(tx, current, transition(current, "deleting"), refId(ref));
    return recordImageOperation(tx, principal, current, {
      kind: "image.delete",
      description,
      task: { type: "delete", blobKey: current.blobKey },
    });
  });
  deps.queue.kick();
  return op;
}
