import { unauthenticated } from "../core/errors.js";
import type { Principal, Role } from "../core/principal.js";
import type { Db } from "../storage/meta/database.js";
import { hashToken } from "./tokens.js";

/** Turns the credentials of a request into a Principal, or refuses with UNAUTHENTICATED. */
export class Authenticator {
  /** `adminProject`: the project of admin tokens scoped to none (where their OpenStack creates go). */
  constructor(
    private readonly db: Db,
    private readonly adminProject: string,
  ) {}

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
      .select([
        "subjects.id",
        "subjects.type",
        "subjects.is_admin",
        "tokens.expires_at",
        "tokens.revoked_at",
        "tokens.project_id",
      ])
      .where("tokens.token_hash", "=", hashToken(token))
      .executeTakeFirst();
    const now = Date.now();
    if (!row || row.revoked_at !== null || (row.expires_at !== null && Number(row.expires_at) <= now)) {
      throw unauthenticated("Token is invalid or has expired.");
    }
    const bindings = await this.db
      .selectFrom("access_bindings")
      .select(["resource_id", "role"])
      .where("subject_id", "=", row.id)
      .where("resource_type", "=", "folder")
      .execute();
    const folderRoles: Record<string, Role> = {};
    for (const b of bindings)
      folderRoles[b.resource_id] = strongest(folderRoles[b.resource_id], b.role as Role);
    const isAdmin = row.is_admin === 1;
    return {
      subjectId: row.id,
      subjectType: row.type as Principal["subjectType"],
      isAdmin,
      projectId: row.project_id ?? (isAdmin ? this.adminProject : (bindings[0]?.resource_id ?? row.id)),
      folderRoles,
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

const ROLE_RANK: Record<Role, number> = { "compute.images.user": 0, viewer: 1, editor: 2, admin: 3 };

/** A subject bound to a folder with several roles acts with the strongest. */
function strongest(a: Role | undefined, b: Role): Role {
  return a !== undefined && ROLE_RANK[a] >= ROLE_RANK[b] ? a : b;
}
