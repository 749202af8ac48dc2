import type { AccessBinding, SubjectType } from "../../core/access-binding.js";
import type { Role } from "../../core/principal.js";
import type { Db } from "./database.js";
import type { AccessBindingStore, ResourceType } from "../../core/ports/catalog.js";

/** Access bindings: roles granted to subjects on folders and on single images. */
export class SqlAccessBindingStore implements AccessBindingStore {
  constructor(private readonly db: Db) {}

  /** A resource's bindings in a stable order (role, subject type, subject id). */
  async list(type: ResourceType, resourceId: string, offset = 0, limit = 1000): Promise<AccessBinding[]> {
    const rows = await this.db
      .selectFrom("access_bindings")
      .select(["role", "subject_id", "subject_type"])
      .where("resource_type", "=", type)
      .where("resource_id", "=", resourceId)
      .orderBy("role")
      .orderBy("subject_type")
      .orderBy("subject_id")
      .offset(offset)
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      roleId: r.role as Role,
      subject: { id: r.subject_id, type: r.subject_type as SubjectType },
    }));
  }

  /** The roles `subjectIds` hold on one resource. */
  async rolesOn(type: ResourceType, resourceId: string, subjectIds: string[]): Promise<Role[]> {
    if (subjectIds.length === 0) return [];
    const rows = await this.db
      .selectFrom("access_bindings")
      .select("role")
      .where("resource_type", "=", type)
      .where("resource_id", "=", resourceId)
      .where("subject_id", "in", subjectIds)
      .execute();
    return rows.map((r) => r.role as Role);
  }

  /** Every folder binding of one subject. */
  async folderRolesOf(subjectId: string): Promise<{ folderId: string; role: Role }[]> {
    const rows = await this.db
      .selectFrom("access_bindings")
      .select(["resource_id", "role"])
      .where("subject_id", "=", subjectId)
      .where("resource_type", "=", "folder")
      .execute();
    return rows.map((r) => ({ folderId: r.resource_id, role: r.role as Role }));
  }

  /** Adds a binding; false when it was already there. */
  async add(type: ResourceType, resourceId: string, b: AccessBinding): Promise<boolean> {
    const result = await this.db
      .insertInto("access_bindings")
      .values({
        resource_type: type,
        resource_id: resourceId,
        subject_id: b.subject.id,
        subject_type: b.subject.type,
        role: b.roleId,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Removes a binding; false when there was none. */
  async remove(type: ResourceType, resourceId: string, b: AccessBinding): Promise<boolean> {
    const result = await this.db
      .deleteFrom("access_bindings")
      .where("resource_type", "=", type)
      .where("resource_id", "=", resourceId)
      .where("subject_id", "=", b.subject.id)
      .where("role", "=", b.roleId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
