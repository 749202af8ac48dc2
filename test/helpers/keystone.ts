import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePort, waitForHttp } from "./net.js";
import { tempDir } from "./server.js";

/**
 * A real Keystone from Debian's `keystone` package: the packaged uwsgi serves
 * /usr/bin/keystone-wsgi-public on loopback with a sqlite database and fernet tokens, bootstrapped
 * with an `admin` user. Nothing is faked; tests create projects, users and roles through its API.
 */
export interface Keystone {
  url: string;
  adminToken: string;
  /** Creates (or finds) a project, returning its id. */
  project(name: string): Promise<string>;
  /** Creates a user with `role` on `project`, returning its id. */
  user(name: string, password: string, project: string, role: string): Promise<string>;
  /** Gives a user a role on the system (what reading every project's unified limits takes). */
  systemRole(userId: string, role: string): Promise<void>;
  /** Registers the image service's public endpoint in the catalog. */
  /**
   * Registers an image service at `url` in `region` (RegionOne by default; another is created);
   * `type`: `image`, or another for a second endpoint.
   */
  registerImageEndpoint(url: string, type?: string, region?: string): Promise<void>;
  /**
   * Vitrine's service user (`vitrine`, role `service` in project `service`), made with `password`,
   * and the settings a Vitrine validating tokens as that user needs (tokens cached one second).
   */
  serviceEnv(password: string): Promise<Record<string, string>>;
  /** A project-scoped token for a user (what `openstack` gets when it logs in). */
  token(user: string, password: string, project: string): Promise<string>;
  revoke(token: string): Promise<void>;
  stop(): Promise<void>;
}

export const ADMIN_PASSWORD = "keystone-admin-secret";

export async function startKeystone(): Promise<Keystone> {
  const dir = tempDir("keystone");
  const conf = path.join(dir, "keystone.conf");
  fs.mkdirSync(path.join(dir, "fernet-keys"));
  fs.mkdirSync(path.join(dir, "credential-keys"));
  fs.writeFileSync(
    conf,
    [
      "[DEFAULT]",
      `log_dir = ${dir}`,
      "[database]",
      `connection = sqlite:///${path.join(dir, "keystone.db")}`,
      "[token]",
      "provider = fernet",
      "[fernet_tokens]",
      `key_repository = ${path.join(dir, "fernet-keys")}`,
      "[fernet_receipts]",
      `key_repository = ${path.join(dir, "fernet-keys")}`,
      "[credential]",
      `key_repository = ${path.join(dir, "credential-keys")}`,
      "",
    ].join("\n"),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const manage = (...args: string[]) =>
    execFileSync("keystone-manage", ["--config-file", conf, ...args], { stdio: "pipe" });
  const user = process.getuid?.() === 0 ? "root" : String(process.getuid?.());
  manage("db_sync");
  // Keystone's uwsgi workers keep read cursors open across requests; in SQLite's default journal
  // mode such a reader blocks every writer ("database is locked"). WAL lets readers and a writer be.
  execFileSync("python3", [
    "-c",
    "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('pragma journal_mode=wal')",
    path.join(dir, "keystone.db"),
  ]);
  manage("fernet_setup", "--keystone-user", user, "--keystone-group", user);
  manage("credential_setup", "--keystone-user", user, "--keystone-group", user);
  manage(
    "bootstrap",
    "--bootstrap-password",
    ADMIN_PASSWORD,
    "--bootstrap-public-url",
    `${url}/v3`,
    "--bootstrap-region-id",
    "RegionOne",
  );
  const child: ChildProcess = spawn(
    "uwsgi",
    [
      "--plugin",
      "python3",
      "--http-socket",
      `127.0.0.1:${port}`,
      // uwsgi's plain HTTP socket does not keep connections alive, but does not say so either;
      // clients that reuse a connection then see it reset. Say it.
      "--add-header",
      "Connection: close",
      "--wsgi-file",
      "/usr/bin/keystone-wsgi-public",
      "--master",
      // Each worker opens its own database connections after the fork, not the master before it.
      "--lazy-apps",
      "--processes",
      "2",
      "--threads",
      "1",
      "--die-on-term",
      "--need-app",
      "--logto",
      path.join(dir, "uwsgi.log"),
    ],
    { env: { ...process.env, OS_KEYSTONE_CONFIG_FILES: conf }, stdio: "ignore", detached: true },
  );
  await waitForHttp(
    `${url}/v3`,
    child,
    60_000,
    () => `keystone did not start: ${fs.readFileSync(path.join(dir, "uwsgi.log"), "utf8").slice(-2000)}`,
  );

  const call = async (method: string, p: string, body?: unknown, token?: string): Promise<Response> => {
    const res = await fetch(url + p, {
      method,
      headers: {
        "content-type": "application/json",
        ...(token ? { "x-auth-token": token } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 400) throw new Error(`keystone ${method} ${p}: ${res.status} ${await res.text()}`);
    return res;
  };
  const login = async (name: string, password: string, project: string): Promise<string> => {
    const res = await call("POST", "/v3/auth/tokens", {
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name, domain: { id: "default" }, password } },
        },
        scope: { project: { name: project, domain: { id: "default" } } },
      },
    });
    return res.headers.get("x-subject-token")!;
  };
  const adminToken = await login("admin", ADMIN_PASSWORD, "admin");
  const admin = async (method: string, p: string, body?: unknown): Promise<any> =>
    (await call(method, p, body, adminToken)).json().catch(() => undefined);

  const roleIds = new Map<string, string>();
  const roleId = async (name: string): Promise<string> => {
    if (!roleIds.has(name)) {
      const found = await admin("GET", `/v3/roles?name=${name}`);
      const id = found.roles[0]?.id ?? (await admin("POST", "/v3/roles", { role: { name } })).role.id;
      roleIds.set(name, id);
    }
    return roleIds.get(name)!;
  };
  const project = async (name: string): Promise<string> => {
    const found = await admin("GET", `/v3/projects?name=${name}`);
    if (found.projects[0]) return found.projects[0].id;
    return (await admin("POST", "/v3/projects", { project: { name, domain_id: "default" } })).project.id;
  };

  const createUser = async (
    name: string,
    password: string,
    projectName: string,
    role: string,
  ): Promise<string> => {
    const id = (await admin("POST", "/v3/users", { user: { name, password, domain_id: "default" } })).user.id;
    const pid = await project(projectName);
    await call("PUT", `/v3/projects/${pid}/users/${id}/roles/${await roleId(role)}`, undefined, adminToken);
    return id;
  };

  return {
    url,
    adminToken,
    project,
    user: createUser,
    async systemRole(userId, role) {
      await call("PUT", `/v3/system/users/${userId}/roles/${await roleId(role)}`, undefined, adminToken);
    },
    async serviceEnv(password) {
      await project("service");
      await createUser("vitrine", password, "service", "service");
      return {
        VITRINE_KEYSTONE_URL: url,
        VITRINE_KEYSTONE_USERNAME: "vitrine",
        VITRINE_KEYSTONE_PASSWORD: password,
        VITRINE_KEYSTONE_CACHE_SECONDS: "1",
      };
    },
    async registerImageEndpoint(imageUrl, type = "image", region = "RegionOne") {
      if (region !== "RegionOne") await admin("POST", "/v3/regions", { region: { id: region } });
      const service = await admin("POST", "/v3/services", {
        // The image service is `vitrine` (tests name it so, e.g. for registered limits).
        service: { type, name: type === "image" ? "vitrine" : `vitrine-${type}` },
      });
      for (const iface of ["public", "internal"]) {
        await admin("POST", "/v3/endpoints", {
          endpoint: {
            service_id: service.service.id,
            interface: iface,
            url: imageUrl,
            region_id: region,
          },
        });
      }
    },
    token: login,
    async revoke(token) {
      await fetch(`${url}/v3/auth/tokens`, {
        method: "DELETE",
        headers: { "x-auth-token": adminToken, "x-subject-token": token },
      });
    },
    async stop() {
      if (child.exitCode === null && child.pid) {
        const exited = new Promise((r) => child.once("exit", r));
        process.kill(-child.pid, "SIGTERM");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
