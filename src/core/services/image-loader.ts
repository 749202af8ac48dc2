import type { Db } from "../../storage/meta/database.js";
import type { ImagesRepo } from "../../storage/meta/images-repo.js";
import type { MembersRepo } from "../../storage/meta/members-repo.js";
import { type Action, can, canRead, foldersOf } from "../access.js";
import { notFound, permissionDenied } from "../errors.js";
import type { Image, ImageKind } from "../image.js";
import type { Principal } from "../principal.js";

/** How a dialect names an image: Yandex dialects by their id and kind, OpenStack by UUID. */
export type ImageRef = { kind: ImageKind; id: string } | { uuid: string };

const READ_ACTIONS: readonly Action[] = ["images.get", "images.list"];

/**
 * Loads an image for a use case and applies the access rules once for every service: an image
 * the caller may not read does not exist for it (NOT_FOUND, nothing leaks); one it may read but
 * not change is PERMISSION_DENIED.
 */
export class ImageLoader {
  constructor(
    private readonly images: ImagesRepo,
    private readonly members: MembersRepo,
  ) {}

  async load(db: Db, principal: Principal, action: Action, ref: ImageRef): Promise<Image> {
    const image = await this.find(db, ref);
    const missing = () =>
      notFound("uuid" in ref ? `No image found with ID ${ref.uuid}` : `Image ${ref.id} not found`);
    if (!image || !(await this.mayRead(db, principal, image))) throw missing();
    if (!READ_ACTIONS.includes(action) && !can(principal, action, image.folderId)) {
      throw permissionDenied("You do not own this image").because("NOT_OWNER");
    }
    return image;
  }

  /** The membership status of the caller's projects in a shared image (the most favourable). */
  private async memberStatusFor(db: Db, principal: Principal, image: Image): Promise<string | null> {
    if (image.visibility !== "shared") return null;
    const rows = await this.members.list(db, image.id, foldersOf(principal));
    return rows.find((m) => m.status === "accepted")?.status ?? rows[0]?.status ?? null;
  }

  private async mayRead(db: Db, principal: Principal, image: Image): Promise<boolean> {
    if (canRead(principal, image, null)) return true;
    return canRead(principal, image, await this.memberStatusFor(db, principal, image));
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
