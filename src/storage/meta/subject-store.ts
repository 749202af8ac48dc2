import type { SubjectDirectory } from "../../auth/token-store.js";
import type { Subject, SubjectStore } from "../../core/ports/catalog.js";
import type { Db } from "./database.js";

/** Subjects (users and service accounts) this service issues tokens to. */
export class SqlSubjectStore implements SubjectStore, SubjectDirectory {
  constructor(private readonly db: Db) {}

  async insert(subject: Subject): Promise<void> {
    await this.db
      .insertInto("subjects")
      .values({
        id: subject.id,
        type: subject.type,
        name: subject.name,
        is_admin: subject.isAdmin ? 1 : 0,
        created_at: subject.createdAt,
      })
      .execute();
  }

  async typesOf(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom("subjects").select(["id", "type"]).where("id", "in", ids).execute();
    return new Map(rows.map((r) => [r.id, r.type]));
  }

  async list(): Promise<Subject[]> {
    const rows = await this.db
      .selectFrom("subjects")
      .selectAll()
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map((r) => ({
      id: r.id,
      type: r.type as Subject["type"],
      name: r.name,
      isAdmin: r.is_admin === 1,
      createdAt: Number(r.created_at),
    }));
  }

  async firstAdmin(): Promise<string | null> {
    const row = await this.db
      .selectFrom("subjects")
      .select("id")
      .where("is_admin", "=", 1)
      .orderBy("created_at")
      .executeTakeFirst();
    return row?.id ?? null;
  }
}
