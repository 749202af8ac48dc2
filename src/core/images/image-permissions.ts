import { type Action, can, canOnImage } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { canToggleDeactivation, hasData, isDeactivated } from "../image-states.js";
import type { Principal } from "../principal.js";
import { type ImageRef, grantsOn, loadImage } from "./image-loader.js";

/** Whether the caller may do something to an image, and if not, why (in words a person reads). */
export interface Permission {
  allowed: boolean;
  reason?: string;
}

/** What a user interface offers on an image. */
export type ImageActionName =
  "update" | "delete" | "share" | "addMembers" | "deactivate" | "reactivate" | "download" | "use";

/**
 * What the caller may do to an image, decided by the rules the use cases apply (core/access.ts,
 * the state machine): a console offers only these, and says why it does not offer the others.
 * Reading the image is the entry: an image the caller cannot see is NOT_FOUND here too.
 */
export async function imagePermissions(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  ref: ImageRef,
): Promise<Record<ImageActionName, Permission>> {
  const image = await loadImage(deps.catalog, principal, "images.get", ref);
  const grants = await grantsOn(deps.catalog, principal, image);
  const on = (action: Action) => canOnImage(principal, action, image, grants);
  const owner = can(principal, "images.update", image.folderId);
  const rule = (allowed: boolean, reason: string): Permission =>
    allowed ? { allowed } : { allowed, reason };
  const toggle = can(principal, "images.deactivate", image.folderId) && canToggleDeactivation(image);
  return {
    update: rule(on("images.update"), "needs the editor role on the image or its folder"),
    delete: image.protected
      ? { allowed: false, reason: "the image is protected" }
      : rule(on("images.delete"), "needs the editor role on the image or its folder"),
    share: rule(on("images.setAccessBindings"), "needs the admin role on the image or its folder"),
    addMembers: rule(owner, "only the owning folder's editors share it with projects"),
    deactivate: rule(toggle && !isDeactivated(image), "only the owners deactivate an active image"),
    reactivate: rule(toggle && isDeactivated(image), "only the owners reactivate a deactivated image"),
    download: !hasData(image)
      ? { allowed: false, reason: "the image has no data" }
      : rule(!isDeactivated(image) || principal.isAdmin, "the image is deactivated"),
    use: rule(on("images.use"), "needs a role that may use the image"),
  };
}
