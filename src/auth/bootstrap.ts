import fs from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { newResourceId } from "../core/ids.js";
import type { Db } from "../storage/meta/database.js";
import { hashToken, newToken } from "./tokens.js";

export const ADMIN_TOKEN_FILE = "admin-token";

/**
 * Makes sure an admin can reach a fresh installation: on first start, creates the admin subject
 * and a token, written to DATA_DIR/admin-token with mode 0600 (readable by the operator only).
 * On later starts the file's token is re-registered if the database no longer knows it.
 */
export async function ensureAdminToken(db: Db, dataDir: string, log: Logger): Promise<void> {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  let token = await fs.readFile(file, "utf8").then(
    (t) => t.trim(),
    () => "",
  );
  const created = token === "";
  if (created) token = newToken();

  let admin = await db
    .selectFrom("subjects")
    .select("id")
    .where("is_admin", "=", 1)
    .orderBy("created_at")
    .executeTakeFirst();
  if (!admin) {
    admin = { id: newResourceId() };
    await db
      .insertInto("subjects")
      .values({ id: admin.id, type: "userAccount", name: "admin", is_admin: 1, created_at: Date.now() })
      .execute();
  }
  const known = await db
    .selectFrom("tokens")
    .select("id")
    .where("token_hash", "=", hashToken(token))
    .executeTakeFirst();
  if (!known) {
    await db
      .insertInto("tokens")
      .values({
        subject_id: admin.id,
        token_hash: hashToken(token),
        created_at: Date.now(),
        expires_at: null,
        revoked_at: null,
        project_id: null,
      })
      .execute();
  }
  if (created) {
    await fs.writeFile(file, `${token}\n`, { mode: 0o600, flag: "wx" });
    log.info({ file }, "created the bootstrap admin token; read it from this file (shown only here)");
  }
}
