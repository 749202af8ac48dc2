import { VitrineError, unauthenticated } from "../core/errors.js";
import { ANONYMOUS, type Principal, type Role } from "../core/principal.js";
import type { AccessBindingStore } from "../core/ports/catalog.js";
import type { TokenStore } from "./token-store.js";
import type { FailedAuthLimiter } from "./failure-limiter.js";
import type { KeystoneTokenValidator } from "./keystone.js";
import { PrincipalCache } from "./principal-cache.js";
import { hashToken, isLocalToken } from "./tokens.js";

export interface AuthenticatorDeps {
  tokens: TokenStore;
  bindings: AccessBindingStore;
  /** The project of admin tokens scoped to none (where their OpenStack creates go). */
  adminProject: string;
  /** Keystone mode: tokens this service did not issue are validated there. */
  keystone: KeystoneTokenValidator | null;
  limiter: FailedAuthLimiter;
  /**
   * How long a checked local token is trusted without reading the database again (0: never).
   * Revocations and binding changes made with the CLI take effect within this time.
   */
  cacheMs: number;
  /** Told of every refused authentication (the metrics). */
  onFailure?: (reason: "missing" | "invalid" | "rate_limited") => void;
}

export interface Credentials {
  headers: { authorization?: string; "x-auth-token"?: string | string[] };
  /** The source address, for the failed-authentication limit. */
  ip: string;
}

/** Turns the credentials of a request into a Principal, or refuses with UNAUTHENTICATED. */
export class Authenticator {
  private readonly cache: PrincipalCache;

  constructor(private readonly deps: AuthenticatorDeps) {
    this.cache = new PrincipalCache(deps.cacheMs);
  }

  /**
   * Reads `Authorization: Bearer <token>` (all dialects) or `X-Auth-Token` (OpenStack clients).
   * Tokens this service issued are checked here; others, in Keystone mode, by Keystone. A request
   * with no token at all is the anonymous caller where `allowAnonymous` (the core decides what it
   * may see), and refused everywhere else.
   */
  async authenticate(credentials: Credentials, opts: { allowAnonymous?: boolean } = {}): Promise<Principal> {
    const { limiter, keystone } = this.deps;
    const waitMs = limiter.waitFor(credentials.ip);
    if (waitMs > 0) {
      this.deps.onFailure?.("rate_limited");
      throw new VitrineError("RESOURCE_EXHAUSTED", "Too many failed authentication attempts; retry later")
        .because("RATE_LIMITED")
        .retryAfter(Math.ceil(waitMs / 1000));
    }
    const token = extractToken(credentials.headers);
    if (token === null) {
      if (opts.allowAnonymous) return ANONYMOUS;
      this.deps.onFailure?.("missing");
      throw unauthenticated("Authentication required: send Authorization: Bearer <token>");
    }
    const principal =
      keystone && !isLocalToken(token) ? await keystone.validate(token) : await this.localPrincipal(token);
    if (!principal) {
      limiter.recordFailure(credentials.ip);
      this.deps.onFailure?.("invalid");
      throw unauthenticated("Token is invalid or has expired.");
    }
    return principal;
  }

  /** A token this service issued, from the short-lived cache or the database. */
  private async localPrincipal(token: string): Promise<Principal | null> {
    const key = hashToken(token);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const found = await this.loadLocal(key);
    if (found) this.cache.set(key, found.principal, found.expiresAt);
    return found?.principal ?? null;
  }

  private async loadLocal(
    tokenHash: string,
  ): Promise<{ principal: Principal; expiresAt: number | null } | null> {
    const { tokens, bindings, adminProject } = this.deps;
    const token = await tokens.findByHash(tokenHash);
    if (!token || token.revokedAt !== null || (token.expiresAt !== null && token.expiresAt <= Date.now())) {
      return null;
    }
    const folderBindings = await bindings.folderRolesOf(token.subjectId);
    // Folder ids are user input ("__proto__" is a valid one): a map without a prototype.
    const folderRoles: Record<string, Role[]> = Object.create(null) as Record<string, Role[]>;
    for (const b of folderBindings) (folderRoles[b.folderId] ??= []).push(b.role);
    const { isAdmin } = token;
    const principal: Principal = {
      subjectId: token.subjectId,
      subjectType: token.subjectType,
      isAdmin,
      projectId:
        token.projectId ?? (isAdmin ? adminProject : (folderBindings[0]?.folderId ?? token.subjectId)),
      folderRoles,
    };
    return { principal, expiresAt: token.expiresAt };
  }
}

/** The token a request carries; a malformed Authorization header counts as an empty token. */
function extractToken(headers: Credentials["headers"]): string | null {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : "";
  }
  const x = headers["x-auth-token"];
  const value = Array.isArray(x) ? x[0] : x;
  if (value === undefined) return null;
  return value.trim();
}
