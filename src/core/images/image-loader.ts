import { type Action, type ImageGrants, bindingSubjectsOf, can, canOnImage, foldersOf } from "../access.js";
import { notFound, permissionDenied, unauthenticated } from "../errors.js";
import { looksLikeUuid } from "../ids.js";
import { isBeingDeleted, isInBin } from "../image-states.js";
import type { Image, ImageKind } from "../image.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";

/** How a dialect names an image: Yandex dialects by their id and kind, OpenStack by UUID. */
export type ImageRef = { kind: ImageKind; id: string } | { uuid: string };

/** The id the caller used for the image, for messages. */
export const refId = (ref: ImageRef): string => ("uuid" in ref ? ref.uuid : ref.id);

/**
 * Loads an image for a use case and applies the access decision (core/access.ts) once for every
 * use case: an image the caller may not read does not exist for it (NOT_FOUND, nothing leaks; an
 * anonymous caller is asked to authenticate instead); one it may read but not act on is
 * PERMISSION_DENIED.
 */
export async function loadImage(
  stores: CatalogStores,
  principal: Principal,
  action: Action,
  ref: ImageRef,
): Promise<Image> {
  const image = await find(stores, ref);
  const anonymous = () => unauthenticated("Authentication required");
  if (!image) throw principal.anonymous ? anonymous() : imageNotFound(ref);
  // The folder's roles decide most calls; bindings and shares are only read when they do not.
  if (can(principal, "images.get", image.folderId) && can(principal, action, image.folderId)) return image;
  const grants = await grantsOn(stores, principal, image);
  if (!canOnImage(principal, "images.get", image, grants)) {
    throw principal.anonymous ? anonymous() : imageNotFound(ref);
  }
  if (!canOnImage(principal, action, image, grants)) {
    if (principal.anonymous) throw anonymous();
    throw permissionDenied(
      action === "images.setAccessBindings"
        ? `Changing the access bindings of image ${image.id} needs the admin role`
        : `Permission denied: ${action} on image ${refId(ref)}`,
    ).because("NOT_OWNER", { id: refId(ref), action });
  }
  return image;
}

/** An image the caller may not read does not exist for it. */
export function imageNotFound(ref: ImageRef) {
  return notFound(`Image ${refId(ref)} not found`).because("IMAGE_NOT_FOUND", { id: refId(ref) });
}

/** What beyond its folder roles decides the caller's access to `image`. */
export async function grantsOn(
  stores: CatalogStores,
  principal: Principal,
  image: Image,
): Promise<ImageGrants> {
  const imageRoles = await stores.bindings.rolesOn("image", image.id, bindingSubjectsOf(principal));
  return { imageRoles, memberStatus: await memberStatusFor(stores, principal, image) };
}

/** The membership status of the caller's projects in a shared image (the most favourable). */
async function memberStatusFor(
  stores: CatalogStores,
  principal: Principal,
  image: Image,
): Promise<string | null> {
  if (image.visibility !== "shared" || principal.anonymous) return null;
  const rows = await stores.members.list(image.id, foldersOf(principal));
  return rows.find((m) => m.status === "accepted")?.status ?? rows[0]?.status ?? null;
}

async function find(stores: CatalogStores, ref: ImageRef): Promise<Image | null> {
  if ("uuid" in ref) {
    // Vitrine's extension, the other way round: OpenStack finds an image by its Yandex-style id.
    const image = looksLikeUuid(ref.uuid)
      ? await stores.images.findByUuid(ref.uuid)
      : await stores.images.findById(ref.uuid);
    // Glance forgets a deleted image at once; the row only lives on until its delete finishes.
    return image && !isBeingDeleted(image) && !isInBin(image) ? image : null;
  }
  // Vitrine's extension: the Compute API also finds an image by its OpenStack UUID, so a client
  // that made an image through one dialect can go on with it in another (README "One image, every
  // dialect"); BareMetal's own id rule refuses UUIDs before they get here.
  const image = looksLikeUuid(ref.id)
    ? await stores.images.findByUuid(ref.id)
    : await stores.images.findById(ref.id);
  return image && image.kind === ref.kind && !isInBin(image) ? image : null;
}
