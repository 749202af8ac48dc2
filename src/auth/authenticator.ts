import { unauthenticated } from "../core/errors.js";
import type { Principal } from "../core/principal.js";
import type { Db } from "../storage/meta/database.js";
import { hashToken } from "./tokens.js";

/** Turns the credentials of a request into a Principal, or refuses with UNAUTHENTICATED. */
export class Authenticator {
  constructor(private readonly db: Db) {}

  /** Reads `Authorization: Bearer <token>` (all dialects) or `X-Auth-Token` (OpenStack clients). */
  async authenticate(headers: {
    authorization?: string;
    "x-auth-token"?: string | string[];
  }): Promise<Principal> {
    const token = extractToken(headers);
    if (!token) throw unauthenticated("Authentication required: send Authorization: Bearer <token>");
    const row = await this.db
      .selectFrom("tokens")
      .innerJoin("subjects", "subjects.id", "tokens.subject_id")
      .select(["subjects.id", "subjects.type", "subjects.is_admin", "tokens.expires_at", "tokens.revoked_at"])
      .where("tokens.token_hash", "=", hashToken(token))
      .executeTakeFirst();
    const now = Date.now();
    if (!row || row.revoked_at !== null || (row.expires_at !== null && Number(row.expires_at) <= now)) {
      throw unauthenticated("Token is invalid or has expired.");
    }
    return {
      subjectId: row.id,
      subjectType: row.type as Principal["subjectType"],
      isAdmin: row.is_admin === 1,
    };
  }
}

function extractToken(headers: {
  authorization?: string;
  "x-auth-token"?: string | string[];
}): string | null {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : null;
  }
  const x = headers["x-auth-token"];
  const value = Array.isArray(x) ? x[0] : x;
  return value?.trim() || null;
}
