import type { Principal } from "../../core/principal.js";
import type { TokenDirectory, TokenHolder, TokenRecord, TokenStore } from "../../auth/token-store.js";
import type { Db } from "./database.js";

/** API tokens, by the SHA-256 of their value. */
export class SqlTokenStore implements TokenStore, TokenDirectory {
  constructor(private readonly db: Db) {}

  async insert(token: TokenRecord): Promise<void> {
    await this.db
      .insertInto("tokens")
      .values({
        subject_id: token.subjectId,
        token_hash: token.tokenHash,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        revoked_at: token.revokedAt,
        project_id: token.projectId,
      })
      .execute();
  }

  async findByHash(tokenHash: string): Promise<TokenHolder | null> {
    const row = await this.db
      .selectFrom("tokens")
      .innerJoin("subjects", "subjects.id", "tokens.subject_id")
      .select([
        "subjects.id",
        "subjects.type",
        "subjects.is_admin",
        "tokens.created_at",
        "tokens.expires_at",
        "tokens.revoked_at",
        "tokens.project_id",
      ])
      .where("tokens.token_hash", "=", tokenHash)
      .executeTakeFirst();
    if (!row) return null;
    return {
      subjectId: row.id,
      subjectType: row.type as Principal["subjectType"],
      isAdmin: row.is_admin === 1,
      tokenHash,
      createdAt: Number(row.created_at),
      expiresAt: row.expires_at === null ? null : Number(row.expires_at),
      revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
      projectId: row.project_id,
    };
  }

  async list(subjectId?: string): Promise<TokenRecord[]> {
    let query = this.db.selectFrom("tokens").selectAll().orderBy("created_at").orderBy("token_hash");
    if (subjectId !== undefined) query = query.where("subject_id", "=", subjectId);
    return (await query.execute()).map((r) => ({
      subjectId: r.subject_id,
      tokenHash: r.token_hash,
      createdAt: Number(r.created_at),
      expiresAt: r.expires_at === null ? null : Number(r.expires_at),
      revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
      projectId: r.project_id,
    }));
  }

  async revoke(tokenHash: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable("tokens")
      .set({ revoked_at: now })
      .where("token_hash", "=", tokenHash)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
