import type { Db } from "../../storage/meta/database.js";
import type { MembersRepo } from "../../storage/meta/members-repo.js";
import { can, foldersOf } from "../access.js";
import { alreadyExists, notFound, permissionDenied } from "../errors.js";
import type { Image } from "../image.js";
import type { ImageMember, MemberStatus } from "../member.js";
import type { Principal } from "../principal.js";
import type { ImageLoader } from "./image-loader.js";

export interface ImageMembersDeps {
  db: Db;
  members: MembersRepo;
  loader: ImageLoader;
}

/**
 * Sharing an image with other projects (Glance's image members). The owner adds and removes
 * members of a `shared` image; each member project accepts or rejects the share itself, and sees
 * the image in its lists once it accepted.
 */
export class ImageMembersService {
  constructor(private readonly deps: ImageMembersDeps) {}

  async add(principal: Principal, uuid: string, memberId: string): Promise<ImageMember> {
    const { db, members } = this.deps;
    return db.transaction().execute(async (trx) => {
      const image = await this.loadAsOwner(trx, principal, uuid);
      if (image.visibility !== "shared") {
        throw permissionDenied(`Not allowed to create members for image ${uuid}.`);
      }
      if (await members.find(trx, image.id, memberId)) {
        throw alreadyExists(`Member ${memberId} is duplicated for image ${uuid}`).because("MEMBER_CONFLICT");
      }
      const now = Date.now();
      const member: ImageMember = {
        imageId: image.id,
        memberId,
        status: "pending",
        createdAt: now,
        updatedAt: now,
      };
      await members.insert(trx, member);
      return member;
    });
  }

  /** The owner sees every member; a member project sees only its own membership. */
  async list(principal: Principal, uuid: string): Promise<ImageMember[]> {
    const { db, members } = this.deps;
    const image = await this.deps.loader.load(db, principal, "images.get", { uuid });
    if (this.isOwner(principal, image)) return members.list(db, image.id);
    return members.list(db, image.id, foldersOf(principal));
  }

  async get(principal: Principal, uuid: string, memberId: string): Promise<ImageMember> {
    const { db, members } = this.deps;
    const image = await this.deps.loader.load(db, principal, "images.get", { uuid });
    const member = await members.find(db, image.id, memberId);
    const visible = member && (this.isOwner(principal, image) || foldersOf(principal).includes(memberId));
    if (!visible) throw notFound(`${memberId} not found in the member list of the image ${uuid}.`);
    return member;
  }

  /** Only the member project (or an admin) decides on a share; the owner cannot accept for it. */
  async setStatus(
    principal: Principal,
    uuid: string,
    memberId: string,
    status: MemberStatus,
  ): Promise<ImageMember> {
    const { db, members } = this.deps;
    return db.transaction().execute(async (trx) => {
      const image = await this.deps.loader.load(trx, principal, "images.get", { uuid });
      const member = await members.find(trx, image.id, memberId);
      const isMember = foldersOf(principal).includes(memberId);
      if (!member || !(isMember || this.isOwner(principal, image))) {
        throw notFound(`${memberId} not found in the member list of the image ${uuid}.`);
      }
      if (!isMember && !principal.isAdmin) {
        throw permissionDenied(
          `Only the member project ${memberId} may change the status of its membership.`,
        );
      }
      const now = Date.now();
      await members.setStatus(trx, image.id, memberId, status, now);
      return { ...member, status, updatedAt: now };
    });
  }

  async remove(principal: Principal, uuid: string, memberId: string): Promise<void> {
    const { db, members } = this.deps;
    await db.transaction().execute(async (trx) => {
      const image = await this.loadAsOwner(trx, principal, uuid);
      if (!(await members.find(trx, image.id, memberId))) {
        throw notFound(`${memberId} not found in the member list of the image ${uuid}.`);
      }
      await members.delete(trx, image.id, memberId);
    });
  }

  private isOwner(principal: Principal, image: Image): boolean {
    return can(principal, "images.update", image.folderId);
  }

  private async loadAsOwner(trx: Db, principal: Principal, uuid: string): Promise<Image> {
    const image = await this.deps.loader.load(trx, principal, "images.get", { uuid });
    if (!this.isOwner(principal, image))
      throw permissionDenied("You do not own this image").because("NOT_OWNER");
    return image;
  }
}
