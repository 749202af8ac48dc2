import type { ImageMember, MemberStatus } from "../../core/member.js";
import type { Db } from "./database.js";
import type { MemberStore } from "../../core/ports/catalog.js";

type Row = { image_id: string; member_id: string; status: string; created_at: number; updated_at: number };

function toMember(row: Row): ImageMember {
  return {
    imageId: row.image_id,
    memberId: row.member_id,
    status: row.status as MemberStatus,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export class SqlMemberStore implements MemberStore {
  constructor(private readonly db: Db) {}

  async insert(member: ImageMember): Promise<void> {
    await this.db
      .insertInto("image_members")
      .values({
        image_id: member.imageId,
        member_id: member.memberId,
        status: member.status,
        created_at: member.createdAt,
        updated_at: member.updatedAt,
      })
      .execute();
  }

  async find(imageId: string, memberId: string): Promise<ImageMember | null> {
    const row = await this.db
      .selectFrom("image_members")
      .selectAll()
      .where("image_id", "=", imageId)
      .where("member_id", "=", memberId)
      .executeTakeFirst();
    return row ? toMember(row) : null;
  }

  async list(imageId: string, memberIds?: string[]): Promise<ImageMember[]> {
    let q = this.db.selectFrom("image_members").selectAll().where("image_id", "=", imageId);
    if (memberIds) q = q.where("member_id", "in", memberIds.length > 0 ? memberIds : [""]);
    const rows = await q.orderBy("created_at").orderBy("member_id").execute();
    return rows.map(toMember);
  }

  async setStatus(imageId: string, memberId: string, status: MemberStatus, now: number): Promise<void> {
    await this.db
      .updateTable("image_members")
      .set({ status, updated_at: now })
      .where("image_id", "=", imageId)
      .where("member_id", "=", memberId)
      .execute();
  }

  async delete(imageId: string, memberId: string): Promise<void> {
    await this.db
      .deleteFrom("image_members")
      .where("image_id", "=", imageId)
      .where("member_id", "=", memberId)
      .execute();
  }
}
