import { assertWithinLimits } from "../quotas/quota-guard.js";
import { authorize, can } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { alreadyExists, permissionDenied } from "../errors.js";
import { type Image, newQueuedImage } from "../image.js";
import type { Principal } from "../principal.js";
import { assertNameFree } from "./save-image.js";

/** An image registered without data (OpenStack `POST /v2/images`): it waits in `queued`. */
export interface RegisterImageInput extends Pick<
  Image,
  | "folderId"
  | "name"
  | "visibility"
  | "protected"
  | "osHidden"
  | "tags"
  | "properties"
  | "diskFormat"
  | "containerFormat"
  | "minRam"
  | "minDiskSize"
  | "osType"
> {
  /** A caller-chosen UUID, or null for a new one. */
  uuid: string | null;
  /** Whether the name must be free in the folder (see README "Names across dialects"). */
  uniqueName: boolean;
}

/** Registers an image's metadata; its data comes later through an upload or an import. */
export async function registerImage(
  deps: Pick<CoreDeps, "catalog" | "limits">,
  principal: Principal,
  input: RegisterImageInput,
): Promise<Image> {
  authorize(principal, "images.create", input.folderId);
  // Private, shared and community images are the owner's choice (Glance's default policy);
  // publishing to everyone is the admin's.
  if (input.visibility === "public") assertMayPublicize(principal, input.folderId);
  const { uuid, uniqueName, ...fields } = input;
  const image = newQueuedImage({ ...fields, ...(uuid ? { uuid } : {}), kind: "compute" }, Date.now());
  const limits = await deps.limits.limitsFor(image.folderId);
  await deps.catalog.transaction(async (tx) => {
    if (uuid && (await tx.images.findByUuid(uuid))) {
      throw alreadyExists(`Image with id ${uuid} already exists`).because("UUID_TAKEN", { uuid });
    }
    if (uniqueName) await assertNameFree(tx, image);
    await assertWithinLimits(tx, limits, image.folderId, { image_count_total: 1 });
    await tx.images.insert(image);
  });
  return image;
}

/** Publishing an image to everyone is the service admin's decision. */
export function assertMayPublicize(principal: Principal, folderId: string): void {
  if (!can(principal, "images.publicize", folderId)) {
    throw permissionDenied("Only the service admin may make an image public").because("PUBLICIZE_DENIED");
  }
}
