import type { AccessBindingStore, Subject, SubjectStore } from "../core/ports/catalog.js";
import type { Principal } from "../core/principal.js";

/** The tokens this service issued, as auth/ reads and writes them (storage/meta implements it). */
export interface TokenRecord {
  subjectId: string;
  /** SHA-256 of the token: the token itself is never stored. */
  tokenHash: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  /** The project the token is scoped to, or null. */
  projectId: string | null;
}

/** A token with the subject it was issued to. */
export interface TokenHolder extends TokenRecord {
  subjectType: Principal["subjectType"];
  isAdmin: boolean;
}

export interface TokenStore {
  insert(token: TokenRecord): Promise<void>;
  findByHash(tokenHash: string): Promise<TokenHolder | null>;
  /** Revokes an active token; false when there is none. */
  revoke(tokenHash: string, now: number): Promise<boolean>;
}

/** Every subject, for the admin commands (`vitrine subject list`). */
export interface SubjectDirectory {
  /** Oldest first. */
  list(): Promise<Subject[]>;
}

/** Every token issued, for the admin commands (`vitrine token list`): records, never values. */
export interface TokenDirectory {
  /** Oldest first; only `subjectId`'s when given. */
  list(subjectId?: string): Promise<TokenRecord[]>;
}

/** What the admin commands and the bootstrap token need of the catalog. */
export interface IdentityStores {
  subjects: SubjectStore & SubjectDirectory;
  bindings: AccessBindingStore;
  tokens: TokenStore & TokenDirectory;
}
