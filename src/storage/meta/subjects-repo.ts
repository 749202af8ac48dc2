import type { Db } from "./database.js";

/** Subjects (users and service accounts) this service issues tokens to. */
export class SubjectsRepo {
  /** The types of those of `ids` that exist. */
  async typesOf(db: Db, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await db.selectFrom("subjects").select(["id", "type"]).where("id", "in", ids).execute();
    return new Map(rows.map((r) => [r.id, r.type]));
  }
}
