import { can, foldersOf } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { alreadyExists, notFound, permissionDenied } from "../errors.js";
import { loadImage } from "../images/image-loader.js";
import type { Image } from "../image.js";
import type { ImageMember, MemberStatus } from "../member.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";

/**
 * Sharing an image with other projects (image members). The owner adds and removes members of a
 * `shared` image; each member project accepts or rejects the share itself, and sees the image in
 * its lists once it accepted. Five small use cases of one feature, kept together.
 */
type Deps = Pick<CoreDeps, "catalog">;

export async function addImageMember(
  deps: Deps,
  principal: Principal,
  uuid: string,
  memberId: string,
): Promise<ImageMember> {
  return deps.catalog.transaction(async (tx) => {
    const image = await loadAsOwner(tx, principal, uuid);
    if (image.visibility !== "shared") {
      throw permissionDenied(`Image ${uuid} is not shared: make it shared before adding members`).because(
        "NOT_SHARED",
        { id: uuid },
      );
    }
    if (await tx.members.find(image.id, memberId)) {
      throw alreadyExists(`Project ${memberId} is already a member of image ${uuid}`).because(
        "MEMBER_CONFLICT",
        {
          member: memberId,
          id: uuid,
        },
      );
    }
    const now = Date.now();
    const member: ImageMember = {
      imageId: image.id,
      memberId,
      status: "pending",
      createdAt: now,
      updatedAt: now,
    };
    await tx.members.insert(member);
    return member;
  });
}

/** The owner sees every member; a member project sees only its own membership. */
export async function listImageMembers(
  deps: Deps,
  principal: Principal,
  uuid: string,
): Promise<ImageMember[]> {
  const { catalog } = deps;
  const image = await loadImage(catalog, principal, "images.get", { uuid });
  if (isOwner(principal, image)) return catalog.members.list(image.id);
  return catalog.members.list(image.id, foldersOf(principal));
}

export async function getImageMember(
  deps: Deps,
  principal: Principal,
  uuid: string,
  memberId: string,
): Promise<ImageMember> {
  const { catalog } = deps;
  const image = await loadImage(catalog, principal, "images.get", { uuid });
  const member = await catalog.members.find(image.id, memberId);
  const visible = member && (isOwner(principal, image) || foldersOf(principal).includes(memberId));
  if (!visible) throw memberNotFound(uuid, memberId);
  return member;
}

/** Only the member project (or an admin) decides on a share; the owner cannot accept for it. */
export async function setImageMemberStatus(
  deps: Deps,
  principal: Principal,
  uuid: string,
  memberId: string,
  status: MemberStatus,
): Promise<ImageMember> {
  return deps.catalog.transaction(async (tx) => {
    const image = await loadImage(tx, principal, "images.get", { uuid });
    const member = await tx.members.find(image.id, memberId);
    const isMember = foldersOf(principal).includes(memberId);
    if (!member || !(isMember || isOwner(principal, image))) throw memberNotFound(uuid, memberId);
    if (!isMember && !principal.isAdmin) {
      throw permissionDenied(`Only the member project ${memberId} may change the status of its membership.`);
    }
    const now = Date.now();
    await tx.members.setStatus(image.id, memberId, status, now);
    return { ...member, status, updatedAt: now };
  });
}

export async function removeImageMember(
  deps: Deps,
  principal: Principal,
  uuid: string,
  memberId: string,
): Promise<void> {
  await deps.catalog.transaction(async (tx) => {
    const image = await loadAsOwner(tx, principal, uuid);
    if (!(await tx.members.find(image.id, memberId))) throw memberNotFound(uuid, memberId);
    await tx.members.delete(image.id, memberId);
  });
}

function isOwner(principal: Principal, image: Image): boolean {
  return can(principal, "images.update", image.folderId);
}

async function loadAsOwner(tx: CatalogStores, principal: Principal, uuid: string): Promise<Image> {
  const image = await loadImage(tx, principal, "images.get", { uuid });
  if (!isOwner(principal, image)) {
    throw permissionDenied(`Permission denied: images.update on image ${uuid}`).because("NOT_OWNER", {
      id: uuid,
      action: "images.update",
    });
  }
  return image;
}

function memberNotFound(uuid: string, memberId: string) {
  return notFound(`Project ${memberId} is not a member of image ${uuid}`).because("MEMBER_NOT_FOUND", {
    member: memberId,
    id: uuid,
  });
}
