import { invalidArgument, notFound } from "../core/errors.js";
import { newResourceId } from "../core/ids.js";
import { isRole, ROLES } from "../core/access.js";
import type { SubjectType } from "../core/access-binding.js";
import { AccessBindingsRepo } from "../storage/meta/access-bindings-repo.js";
import type { Db } from "../storage/meta/database.js";
import { SubjectsRepo } from "../storage/meta/subjects-repo.js";
import { hashToken, newToken } from "./tokens.js";

export { ROLES };
export const SUBJECT_TYPES = ["userAccount", "serviceAccount"] as const;

/** Subjects, their tokens and folder bindings: what the admin CLI manages. */
export class SubjectAdmin {
  constructor(private readonly db: Db) {}

  async createSubject(name: string, type: (typeof SUBJECT_TYPES)[number]): Promise<string> {
    const id = newResourceId();
    await this.db
      .insertInto("subjects")
      .values({ id, type, name, is_admin: 0, created_at: Date.now() })
      .execute();
    return id;
  }

  /** Issues a token; only its hash is stored, so the returned value is shown once. */
  async createToken(
    subjectId: string,
    opts: { ttlMs: number | null; projectId: string | null },
  ): Promise<string> {
    await this.assertSubject(subjectId);
    const token = newToken();
    const now = Date.now();
    await this.db
      .insertInto("tokens")
      .values({
        subject_id: subjectId,
        token_hash: hashToken(token),
        created_at: now,
        expires_at: opts.ttlMs === null ? null : now + opts.ttlMs,
        revoked_at: null,
        project_id: opts.projectId,
      })
      .execute();
    return token;
  }

  async revokeToken(token: string): Promise<void> {
    const result = await this.db
      .updateTable("tokens")
      .set({ revoked_at: Date.now() })
      .where("token_hash", "=", hashToken(token))
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound("No such active token");
  }

  async bindFolder(folderId: string, subjectId: string, role: string): Promise<void> {
    if (!isRole(role)) {
      throw invalidArgument(`role must be one of ${ROLES.join(", ")}, not ${role}`);
    }
    const type = await this.assertSubject(subjectId);
    await new AccessBindingsRepo().add(this.db, "folder", folderId, {
      roleId: role,
      subject: { id: subjectId, type },
    });
  }

  private async assertSubject(id: string): Promise<SubjectType> {
    const type = (await new SubjectsRepo().typesOf(this.db, [id])).get(id);
    if (type === undefined) throw notFound(`No subject ${id}`);
    return type as SubjectType;
  }
}

/** Parses a TTL like 90s, 15m, 12h, 30d. */
export function parseTtl(raw: string): number {
  const m = /^(\d+)([smhd])$/.exec(raw.trim());
  if (!m) throw invalidArgument(`--ttl must look like 90s, 15m, 12h or 30d, not ${raw}`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}
