import fs from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { newResourceId } from "../core/ids.js";
import type { Catalog } from "../core/ports/catalog.js";
import { hashToken, newToken } from "./tokens.js";

export const ADMIN_TOKEN_FILE = "admin-token";

/**
 * Makes sure an admin can reach a fresh installation: on first start, creates the admin subject
 * and a token, written to DATA_DIR/admin-token with mode 0600 (readable by the operator only).
 * On later starts the file's token is re-registered if the database no longer knows it.
 */
export async function ensureAdminToken(catalog: Catalog, dataDir: string, log: Logger): Promise<void> {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  let token = await fs.readFile(file, "utf8").then(
    (t) => t.trim(),
    () => "",
  );
  const created = token === "";
  if (created) token = newToken();

  let adminId = await catalog.subjects.firstAdmin();
  if (adminId === null) {
    adminId = newResourceId();
    await catalog.subjects.insert({
      id: adminId,
      type: "userAccount",
      name: "admin",
      isAdmin: true,
      createdAt: Date.now(),
    });
  }
  const tokenHash = hashToken(token);
  if (!(await catalog.tokens.findByHash(tokenHash))) {
    await catalog.tokens.insert({
      subjectId: adminId,
      tokenHash,
      createdAt: Date.now(),
      expiresAt: null,
      revokedAt: null,
      projectId: null,
    });
  }
  if (created) {
    await fs.writeFile(file, `${token}\n`, { mode: 0o600, flag: "wx" });
    log.info({ file }, "created the bootstrap admin token; read it from this file (shown only here)");
  }
}
