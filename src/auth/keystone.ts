import type { Logger } from "pino";
import type { KeystoneConfig } from "../config.js";
import { VitrineError } from "../core/errors.js";
import type { Principal, Role } from "../core/principal.js";
import { PrincipalCache } from "./principal-cache.js";
import { hashToken } from "./tokens.js";
import { ownEntry } from "../core/own-entry.js";

/** Keystone's default roles and ours (reader ⊂ member ⊂ admin, as in Keystone's own defaults). */
const ROLE_MAP: Record<string, Role> = {
  admin: "admin",
  member: "editor",
  _member_: "editor",
  reader: "viewer",
};

/** Give up on a Keystone that does not answer rather than hold the caller's request. */
const TIMEOUT_MS = 10_000;

interface KeystoneToken {
  expires_at: string;
  catalog?: {
    type: string;
    endpoints: { url: string; interface: string; region?: string; region_id?: string }[];
  }[];
  user: { id: string; name?: string };
  project?: { id: string; name?: string };
  roles?: { name: string }[];
}

type OwnScope = "project" | "system";

/**
 * Validates OpenStack tokens against Keystone v3 (`GET /v3/auth/tokens` with `X-Subject-Token`),
 * as keystonemiddleware does for Glance: with a token of our own service user, results cached
 * for a short time (and never past the token's own expiry).
 */
export class KeystoneTokenValidator {
  private readonly cache: PrincipalCache;
  /** This service's own tokens, by scope: project-scoped to validate, system-scoped to read limits. */
  private readonly own: Record<OwnScope, { value: string; expiresAt: number } | null> = {
    project: null,
    system: null,
  };

  constructor(
    private readonly config: KeystoneConfig,
    private readonly log: Logger,
  ) {
    this.cache = new PrincipalCache(config.cacheMs);
  }

  /** The caller behind `token`, or null when Keystone does not know it (invalid, expired, revoked). */
  async validate(token: string): Promise<Principal | null> {
    const key = hashToken(token);
    const cached = this.cache.get(key);
    if (cached) return cached;

    const res = await this.getAs("project", "/v3/auth/tokens", { "x-subject-token": token });
    if (res.status === 404 || res.status === 401) return null;
    if (res.status !== 200) throw keystoneUnavailable(`Keystone answered ${res.status} to token validation`);
    const { token: body } = (await res.json()) as { token: KeystoneToken };
    const principal = toPrincipal(body);
    this.cache.set(key, principal, Date.parse(body.expires_at));
    return principal;
  }

  /**
   * The endpoints of `type` services in the catalog `token` sees (a glance-download finds the
   * other region's image service there), or null when Keystone does not know the token.
   */
  async endpointsOf(
    token: string,
    type: string,
  ): Promise<{ url: string; region: string; interface: string }[] | null> {
    const res = await this.getAs("project", "/v3/auth/tokens", { "x-subject-token": token });
    if (res.status === 404 || res.status === 401) return null;
    if (res.status !== 200) throw keystoneUnavailable(`Keystone answered ${res.status} to token validation`);
    const { token: body } = (await res.json()) as { token: KeystoneToken };
    return (body.catalog ?? [])
      .filter((service) => service.type === type)
      .flatMap((service) =>
        service.endpoints.map((e) => ({
          url: e.url,
          region: e.region_id ?? e.region ?? "",
          interface: e.interface,
        })),
      );
  }

  /**
   * A project-scoped token for a Keystone user (the console's sign-in: browsers cannot reach
   * Keystone across origins). Null when Keystone refuses the credentials or the project.
   */
  async passwordToken(
    user: string,
    password: string,
    project: string,
  ): Promise<{ token: string; projectId: string } | null> {
    const c = this.config;
    const res = await this.call("POST", "/v3/auth/tokens", {}, null, {
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: user, domain: { name: c.userDomain }, password } },
        },
        scope: { project: { name: project, domain: { name: c.projectDomain } } },
      },
    });
    const value = res.headers.get("x-subject-token");
    if (res.status !== 201 || !value) return null;
    const { token } = (await res.json()) as { token: KeystoneToken };
    return { token: value, projectId: token.project?.id ?? "" };
  }

  /**
   * A GET of Keystone's API as this service with a system-scoped token (unified limits: only a
   * system-scoped reader sees every project's). The service user needs a role on the system:
   * `openstack role add --user <it> --user-domain Default --system all reader`.
   */
  async readAsSystem<T>(path: string): Promise<T> {
    const res = await this.getAs("system", path);
    if (res.status !== 200) {
      this.log.error({ status: res.status, path }, "Keystone refused a read of this service");
      throw keystoneUnavailable(`Keystone answered ${res.status} to ${path.split("?")[0]}`);
    }
    return (await res.json()) as T;
  }

  /**
   * A GET as this service with its token of `scope`; once more with a new token when Keystone no
   * longer takes ours (expired or revoked).
   */
  private async getAs(
    scope: OwnScope,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const res = await this.call("GET", path, headers, await this.ownToken(scope));
    if (res.status !== 401) return res;
    this.own[scope] = null;
    return this.call("GET", path, headers, await this.ownToken(scope));
  }

  private async ownToken(scope: OwnScope): Promise<string> {
    const held = this.own[scope];
    if (held && held.expiresAt - 60_000 > Date.now()) return held.value;
    const c = this.config;
    const issued = await this.issue(
      scope === "system"
        ? { system: { all: true } }
        : { project: { name: c.project, domain: { name: c.projectDomain } } },
    );
    this.own[scope] = issued;
    return issued.value;
  }

  /** A token of this service's user, with the scope given. */
  private async issue(scope: object): Promise<{ value: string; expiresAt: number }> {
    const c = this.config;
    const res = await this.call("POST", "/v3/auth/tokens", {}, null, {
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: c.username, domain: { name: c.userDomain }, password: c.password } },
        },
        scope,
      },
    });
    const value = res.headers.get("x-subject-token");
    if (res.status !== 201 || !value) {
      this.log.error({ status: res.status, scope }, "Keystone refused this service's credentials");
      throw keystoneUnavailable("This service cannot authenticate to Keystone");
    }
    const { token } = (await res.json()) as { token: KeystoneToken };
    return { value, expiresAt: Date.parse(token.expires_at) };
  }

  private async call(
    method: string,
    path: string,
    headers: Record<string, string>,
    authToken: string | null,
    body?: unknown,
  ): Promise<Response> {
    try {
      return await fetch(`${this.config.url}${path}`, {
        method,
        headers: {
          accept: "application/json",
          ...(body ? { "content-type": "application/json" } : {}),
          ...(authToken ? { "x-auth-token": authToken } : {}),
          ...headers,
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      this.log.error({ err }, "Keystone is unreachable");
      throw keystoneUnavailable("The identity service is unreachable");
    }
  }
}

function toPrincipal(token: KeystoneToken): Principal {
  const names = new Set((token.roles ?? []).map((r) => r.name.toLowerCase()));
  const roles = [...new Set([...names].flatMap((n) => ownEntry(ROLE_MAP, n) ?? []))];
  const projectId = token.project?.id ?? "";
  return {
    subjectId: token.user.id,
    subjectType: "userAccount",
    // Glance's default policy treats Keystone's admin role as the cloud's admin.
    isAdmin: names.has("admin"),
    projectId,
    folderRoles: roles.length > 0 && projectId ? { [projectId]: roles } : {},
  };
}

function keystoneUnavailable(message: string): VitrineError {
  return new VitrineError("UNAVAILABLE", message);
}
