import fs from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { newResourceId } from "../core/ids.js";
import type { IdentityStores } from "./token-store.js";
import { hashToken, newToken } from "./tokens.js";

export const ADMIN_TOKEN_FILE = "admin-token";

/**
 * Makes sure an admin can reach a fresh installation: on first start, creates the admin subject
 * and a token, written to DATA_DIR/admin-token with mode 0600 (readable by the operator only).
 * On later starts the file's token is re-registered if the database no longer knows it.
 */
export async function ensureAdminToken(catalog: IdentityStores, dataDir: string, log: Logger): Promise<void> {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  const existing = await fs.readFile(file, "utf8").then(
    (t) => t.trim(),
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return null;
      throw err;
    },
  );
  // An empty file (a disk that filled up on first start, an operator's `> admin-token`) holds
  // no token: a new one replaces it rather than the service refusing to start for ever.
  const created = existing === null || existing === "";
  const token = created ? newToken() : existing;

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
    // Written aside and renamed into place: a crash never leaves a half-written token file.
    const aside = `${file}.${process.pid}.tmp`;
    await fs.writeFile(aside, `${token}\n`, { mode: 0o600 });
    await fs.rename(aside, file);
    if (existing === "")
      log.warn({ file }, "the bootstrap admin token file was empty; wrote a new token to it");
    else log.info({ file }, "created the bootstrap admin token; read it from this file (shown only here)");
  }
}
