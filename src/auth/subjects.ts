import { type LocalSubjectType, type SubjectType } from "../core/access-binding.js";
import { isRole, ROLES } from "../core/access.js";
import { invalidArgument, notFound } from "../core/errors.js";
import { newResourceId } from "../core/ids.js";
import type { Subject } from "../core/ports/catalog.js";
import type { IdentityStores } from "./token-store.js";
import { parseDurationSeconds } from "../duration.js";
import { hashToken, newToken } from "./tokens.js";

export { ROLES };

/** Subjects, their tokens and folder bindings: what the admin CLI manages. */
export class SubjectAdmin {
  constructor(private readonly catalog: IdentityStores) {}

  async createSubject(name: string, type: LocalSubjectType): Promise<string> {
    const id = newResourceId();
    await this.catalog.subjects.insert({ id, type, name, isAdmin: false, createdAt: Date.now() });
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
    await this.catalog.tokens.insert({
      subjectId,
      tokenHash: hashToken(token),
      createdAt: now,
      expiresAt: opts.ttlMs === null ? null : now + opts.ttlMs,
      revokedAt: null,
      projectId: opts.projectId,
    });
    return token;
  }

  async revokeToken(token: string): Promise<void> {
    if (!(await this.catalog.tokens.revoke(hashToken(token), Date.now())))
      throw notFound("No such active token");
  }

  async bindFolder(folderId: string, subjectId: string, role: string): Promise<void> {
    if (!isRole(role)) {
      throw invalidArgument(`role must be one of ${ROLES.join(", ")}, not ${role}`);
    }
    const type = await this.assertSubject(subjectId);
    await this.catalog.bindings.add("folder", folderId, { roleId: role, subject: { id: subjectId, type } });
  }

  /** Removes a subject's role on a folder; NOT_FOUND when it held none. */
  async unbindFolder(folderId: string, subjectId: string, role: string): Promise<void> {
    if (!isRole(role)) {
      throw invalidArgument(`role must be one of ${ROLES.join(", ")}, not ${role}`);
    }
    const type = await this.assertSubject(subjectId);
    const removed = await this.catalog.bindings.remove("folder", folderId, {
      roleId: role,
      subject: { id: subjectId, type },
    });
    if (!removed) throw notFound(`${subjectId} holds no ${role} role on folder ${folderId}`);
  }

  listSubjects(): Promise<Subject[]> {
    return this.catalog.subjects.list();
  }

  /** Issued tokens, never their values: each named by the head of its hash. */
  async listTokens(subjectId?: string): Promise<TokenListing[]> {
    return (await this.catalog.tokens.list(subjectId)).map((t) => ({
      id: t.tokenHash.slice(0, 12),
      subjectId: t.subjectId,
      projectId: t.projectId,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      revokedAt: t.revokedAt,
    }));
  }

  /** The roles held on one folder, or (by subject) every folder role of one subject. */
  async folderBindings(by: { folderId?: string; subjectId?: string }): Promise<FolderBinding[]> {
    if (by.folderId !== undefined) {
      return (await this.catalog.bindings.list("folder", by.folderId)).map((b) => ({
        folderId: by.folderId!,
        role: b.roleId,
        subjectType: b.subject.type,
        subjectId: b.subject.id,
      }));
    }
    if (by.subjectId === undefined) throw invalidArgument("name a folder or a subject");
    const type = await this.assertSubject(by.subjectId);
    return (await this.catalog.bindings.folderRolesOf(by.subjectId)).map((b) => ({
      folderId: b.folderId,
      role: b.role,
      subjectType: type,
      subjectId: by.subjectId!,
    }));
  }

  private async assertSubject(id: string): Promise<SubjectType> {
    const type = (await this.catalog.subjects.typesOf([id])).get(id);
    if (type === undefined) throw notFound(`No subject ${id}`);
    return type as SubjectType;
  }
}

/** A token as the admin commands list it: who, where, until when; never its value or hash. */
export interface TokenListing {
  /** The first 12 hex digits of its SHA-256: enough to tell tokens apart. */
  id: string;
  subjectId: string;
  projectId: string | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export interface FolderBinding {
  folderId: string;
  role: string;
  subjectType: string;
  subjectId: string;
}

/** Parses a TTL like 90s, 15m, 12h, 30d (its unit written out), in milliseconds. */
export function parseTtl(raw: string): number {
  const seconds = /[smhd]$/.test(raw.trim()) ? parseDurationSeconds(raw) : null;
  if (seconds === null) throw invalidArgument(`--ttl must look like 90s, 15m, 12h or 30d, not ${raw}`);
  return seconds * 1000;
}
