import { can } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { permissionDenied } from "../errors.js";
import { canToggleDeactivation, isDeactivated, transition } from "../image-states.js";
import type { Principal } from "../principal.js";
import { type ImageRef, loadImage, refId } from "./image-loader.js";
import { saveImage } from "./save-image.js";

/**
 * Deactivation (by the owning project or the service admin): the image stays but its data is for
 * the service admin only (download-image-data.ts).
 */
export async function setImageDeactivated(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  ref: ImageRef,
  deactivated: boolean,
): Promise<void> {
  const verb = deactivated ? "deactivate" : "reactivate";
  const target = deactivated ? "deactivated" : "active";
  await deps.catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.get", ref);
    if (!can(principal, "images.deactivate", current.folderId)) {
      throw permissionDenied(`Only the image's owners and the service admin may ${verb} it`).because(
        "DEACTIVATE_DENIED",
        {
          verb,
        },
      );
    }
    if (!canToggleDeactivation(current)) {
      throw permissionDenied(`Image ${refId(ref)} is ${current.status} and cannot be ${verb}d`).because(
        "STATUS_NOT_ALLOWED",
        { verb, status: current.status },
      );
    }
    if (isDeactivated(current) === deactivated) return;
    await saveImage(tx, current, transition(current, target), refId(ref));
  });
}
