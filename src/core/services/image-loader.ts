import type { Db } from "../../storage/meta/database.js";
import type { AccessBindingsRepo } from "../../storage/meta/access-bindings-repo.js";
import type { ImagesRepo } from "../../storage/meta/images-repo.js";
import type { MembersRepo } from "../../storage/meta/members-repo.js";
import { type Action, type ImageGrants, bindingSubjectsOf, can, canOnImage, foldersOf } from "../access.js";
import { notFound, permissionDenied, unauthenticated } from "../errors.js";
import type { Image, ImageKind } from "../image.js";
import type { Principal } from "../principal.js";

/** How a dialect names an image: Yandex dialects by their id and kind, OpenStack by UUID. */
export type ImageRef = { kind: ImageKind; id: string } | { uuid: string };

/**
 * Loads an image for a use case and applies the access decision (core/access.ts) once for every
 * service: an image the caller may not read does not exist for it (NOT_FOUND, nothing leaks; an
 * anonymous caller is asked to authenticate instead); one it may read but not act on is
 * PERMISSION_DENIED.
 */
export class ImageLoader {
  constructor(
    private readonly images: ImagesRepo,
    private readonly members: MembersRepo,
    private readonly bindings: AccessBindingsRepo,
  ) {}

  async load(db: Db, principal: Principal, action: Action, ref: ImageRef): Promise<Image> {
    const image = await this.find(db, ref);
    const anonymous = () => unauthenticated("Authentication required");
    if (!image) throw principal.anonymous ? anonymous() : missing(ref);
    // The folder's roles decide most calls; bindings and shares are only read when they do not.
    if (can(principal, "images.get", image.folderId) && can(principal, action, image.folderId)) return image;
    const grants = await this.grantsOn(db, principal, image);
    if (!canOnImage(principal, "images.get", image, grants)) {
      throw principal.anonymous ? anonymous() : missing(ref);
    }
    if (!canOnImage(principal, action, image, grants)) {
      if (principal.anonymous) throw anonymous();
      throw permissionDenied(
        action === "images.setAccessBindings"
          ? `Changing the access bindings of image ${image.id} needs the admin role`
          : "You do not own this image",
      ).because("NOT_OWNER");
    }
    return image;
  }

  /** What beyond its folder roles decides the caller's access to `image`. */
  private async grantsOn(db: Db, principal: Principal, image: Image): Promise<ImageGrants> {
    const imageRoles = await this.bindings.rolesOn(db, "image", image.id, bindingSubjectsOf(principal));
    return { imageRoles, memberStatus: await this.memberStatusFor(db, principal, image) };
  }

  /** The membership status of the caller's projects in a shared image (the most favourable). */
  private async memberStatusFor(db: Db, principal: Principal, image: Image): Promise<string | null> {
    if (image.visibility !== "shared" || principal.anonymous) return null;
    const rows = await this.members.list(db, image.id, foldersOf(principal));
    return rows.find((m) => m.status === "accepted")?.status ?? rows[0]?.status ?? null;
  }

  private async find(db: Db, ref: ImageRef): Promise<Image | null> {
    if ("uuid" in ref) {
      const image = await this.images.findByUuid(db, ref.uuid);
      // Glance forgets a deleted image at once; the row only lives on until its delete finishes.
      return image && image.status !== "deleting" ? image : null;
    }
    const image = await this.images.findById(db, ref.id);
    return image && image.kind === ref.kind ? image : null;
  }
}

/** An image the caller may not read does not exist for it. */
function missing(ref: ImageRef): Error {
  return notFound("uuid" in ref ? `No image found with ID ${ref.uuid}` : `Image ${ref.id} not found`);
}
