import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { image } from "../helpers/fixtures.js";
import { rawCall } from "../helpers/grpc.js";
import { ADMIN_PASSWORD, type Keystone, startKeystone } from "../helpers/keystone.js";
import { osRequest } from "../helpers/openstack.js";
import { type RunningServer, apiRequest, startServer, tempDir } from "../helpers/server.js";

const run = promisify(execFile);
const PASSWORD = "correct horse battery staple";

/**
 * Keystone mode end to end: a real Keystone (Debian's package under uwsgi), Vitrine validating
 * its tokens, and the `openstack` CLI logging in with a password and finding Vitrine in the
 * service catalog — the way an OpenStack deployment uses Glance.
 */
describe("Keystone mode: openstack CLI with password auth", () => {
  let keystone: Keystone;
  let server: RunningServer;
  let home: string;
  let alpha: string;
  let beta: string;

  before(async () => {
    keystone = await startKeystone();
    alpha = await keystone.project("alpha");
    beta = await keystone.project("beta");
    await keystone.project("service");
    // Reading every project's unified limits takes a role on the system (README "Quotas").
    await keystone.systemRole(await keystone.user("vitrine", PASSWORD, "service", "service"), "reader");
    await keystone.user("dave", PASSWORD, "gamma", "member");
    await keystone.user("alice", PASSWORD, "alpha", "member");
    await keystone.user("bob", PASSWORD, "beta", "member");
    await keystone.user("carol", PASSWORD, "alpha", "reader");
    server = await startServer({
      env: {
        VITRINE_KEYSTONE_URL: keystone.url,
        VITRINE_KEYSTONE_USERNAME: "vitrine",
        VITRINE_KEYSTONE_PASSWORD: PASSWORD,
        VITRINE_KEYSTONE_CACHE_SECONDS: "1",
        VITRINE_KEYSTONE_LIMITS: "true",
        VITRINE_KEYSTONE_LIMITS_CACHE_SECONDS: "2",
      },
    });
    await keystone.registerImageEndpoint(server.url);
    home = tempDir("keystone-client-home");
  });
  after(async () => {
    await server?.stop();
    await keystone?.stop();
  });

  /** The Keystone user's environment, as the clients read it. */
  const clientEnv = (user: string, project: string, password = PASSWORD) => ({
    PATH: process.env.PATH ?? "",
    HOME: home,
    OS_AUTH_URL: `${keystone.url}/v3`,
    OS_IDENTITY_API_VERSION: "3",
    OS_USERNAME: user,
    OS_PASSWORD: password,
    OS_PROJECT_NAME: project,
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
    OS_REGION_NAME: "RegionOne",
    OS_INTERFACE: "public",
  });

  /** `openstack` as a Keystone user of a project, found through the catalog like any deployment. */
  const openstack = async (user: string, project: string, ...args: string[]) => {
    const { stdout } = await run("bash", ["-c", 'exec openstack "$@" <&-', "openstack", ...args], {
      env: clientEnv(user, project),
    });
    return stdout;
  };
  const json = async (user: string, project: string, ...args: string[]) =>
    JSON.parse(await openstack(user, project, ...args, "-f", "json"));
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail("the command should have failed"),
      (err: { stderr?: string }) => err.stderr ?? "",
    );

  test("create, list, share with another project, accept, and the other project sees it", async () => {
    const fixture = image("qcow2", 8);
    const created = await json(
      "alice",
      "alpha",
      "image",
      "create",
      "--disk-format",
      "qcow2",
      "--container-format",
      "bare",
      "--file",
      fixture.path,
      "alpha-golden",
    );
    const own = await json("alice", "alpha", "image", "show", created.id);
    assert.equal(own.status, "active");
    assert.equal(own.checksum, fixture.md5);
    assert.equal(own.owner, alpha, "the Keystone project owns the image");

    const listed = await json("alice", "alpha", "image", "list");
    assert.deepEqual(
      listed.map((i: { Name: string }) => i.Name),
      ["alpha-golden"],
    );
    const hidden = await json("bob", "beta", "image", "list");
    assert.deepEqual(hidden, [], "beta does not see alpha's private image");
    assert.match(await failure(openstack("bob", "beta", "image", "show", created.id)), /No Image found|404/i);

    await openstack("alice", "alpha", "image", "set", "--shared", created.id);
    // A non-admin cannot look project names up in Keystone; OSC then passes the name on as given,
    // so members are named by project id, as with Glance.
    await openstack("alice", "alpha", "image", "add", "project", created.id, beta);
    const members = await json("alice", "alpha", "image", "member", "list", created.id);
    assert.deepEqual(
      members.map((m: { "Member ID": string; Status: string }) => [m["Member ID"], m.Status]),
      [[beta, "pending"]],
    );
    assert.deepEqual(await json("bob", "beta", "image", "list"), [], "a pending share is not listed");

    await openstack("bob", "beta", "image", "set", "--accept", created.id);
    const seen = await json("bob", "beta", "image", "list");
    assert.deepEqual(
      seen.map((i: { ID: string }) => i.ID),
      [created.id],
    );
    const shown = await json("bob", "beta", "image", "show", created.id);
    assert.equal(shown.checksum, fixture.md5);

    const saved = path.join(home, "saved.qcow2");
    await openstack("bob", "beta", "image", "save", "--file", saved, created.id);
    assert.equal(createHash("md5").update(fs.readFileSync(saved)).digest("hex"), fixture.md5);
    // Accepting is not owning.
    assert.match(
      await failure(openstack("bob", "beta", "image", "set", "--name", "stolen", created.id)),
      /403|Forbidden|not|own/i,
    );
  });

  test("Keystone roles map to ours: a reader reads but cannot create", async () => {
    const listed = await json("carol", "alpha", "image", "list");
    assert.ok(listed.some((i: { Name: string }) => i.Name === "alpha-golden"));
    assert.match(
      await failure(
        openstack(
          "carol",
          "alpha",
          "image",
          "create",
          "--disk-format",
          "raw",
          "--file",
          image("raw", 1).path,
          "nope",
        ),
      ),
      /403|Forbidden|not permitted/i,
    );
  });

  test("Keystone tokens are validated at Keystone: unknown and revoked tokens are 401", async () => {
    const token = await keystone.token("alice", PASSWORD, "alpha");
    const list = (t: string) => osRequest(server, "GET", "/v2/images", undefined, {}, t);
    assert.equal((await list(token)).status, 200);
    assert.equal((await list("gAAAAABnot-a-real-fernet-token")).status, 401);
    await keystone.revoke(token);
    await new Promise((r) => setTimeout(r, 1100)); // VITRINE_KEYSTONE_CACHE_SECONDS=1
    assert.equal((await list(token)).status, 401);
    // The same Keystone token works with the Yandex-style dialects: its project is the folder.
    const fresh = await keystone.token("alice", PASSWORD, "alpha");
    const compute = await apiRequest(server.url, fresh, "GET", `/compute/v1/images?folderId=${alpha}`);
    assert.equal(compute.status, 200, compute.text);
    assert.equal(compute.body.images.length, 1);
    assert.equal(
      (await apiRequest(server.url, fresh, "GET", `/compute/v1/images?folderId=${beta}`)).status,
      403,
    );
    // And over gRPC, as the SDK sends it (authorization: Bearer).
    const overGrpc = (folderId: string) =>
      rawCall(
        server.grpcAddress,
        "/yandex.cloud.compute.v1.ImageService/List",
        { folderId },
        {
          token: fresh,
          requestType: "yandex.cloud.compute.v1.ListImagesRequest",
          responseType: "yandex.cloud.compute.v1.ListImagesResponse",
        },
      );
    const grpcList = await overGrpc(alpha);
    assert.equal(grpcList.code, 0, grpcList.message);
    assert.equal((grpcList.response!.images as unknown[]).length, 1);
    assert.equal((await overGrpc(beta)).code, 7, "PERMISSION_DENIED");
    // Tokens this service issued keep working beside Keystone (the bootstrap admin's, the CLI's).
    assert.equal((await list(server.token)).status, 200);
  });

  test("clients nobody here wrote: glance task-list and location-add, openstacksdk's update_image", async () => {
    // glanceclient sorts tasks by status unless told otherwise; the task list is the admin's.
    const tasks = await run("bash", ["-c", 'exec glance task-list "$@" <&-', "glance"], {
      env: clientEnv("admin", "admin", ADMIN_PASSWORD),
    });
    assert.match(tasks.stdout, /\| ID\s+\| Type\s+\| Status/);

    const [image] = await json("alice", "alpha", "image", "list");
    const added = await run(
      "bash",
      [
        "-c",
        'exec glance location-add --url "$1" "$2" <&-',
        "glance",
        "http://127.0.0.1:1/elsewhere.qcow2",
        image.ID,
      ],
      { env: clientEnv("alice", "alpha") },
    ).then(
      () => assert.fail("adding a location must be refused"),
      (err: { stderr: string }) => err.stderr,
    );
    assert.match(added, /403|read-only/i, "the read-only answer, as replace /locations gets");

    // Most OpenStack automation updates images through openstacksdk: it sends a remove for every
    // property it was not given, the extension fields included.
    const sdk = `
import json, openstack
conn = openstack.connect()
image = conn.image.create_image(name="sdk-made", disk_format="qcow2", container_format="bare",
                                __os_version="Windows Server 2019 Datacenter 64bit")
updated = conn.image.update_image(image, my_prop="x")
shown = conn.image.get_image(image.id)
print(json.dumps({k: shown.properties.get(k) for k in ["my_prop", "__os_version", "__os_type", "__imagetype"]}))
`;
    const out = await run("/usr/bin/python3", ["-c", sdk], { env: clientEnv("alice", "alpha") });
    assert.deepEqual(JSON.parse(out.stdout.trim().split("\n").pop()!), {
      my_prop: "x",
      __os_version: "Windows Server 2019 Datacenter 64bit",
      __os_type: "Windows",
      __imagetype: "private",
    });
  });

  test("a Keystone project (hex id, often starting with a digit) uses every dialect, BareMetal included", async () => {
    // Keystone picks the ids: make projects until one starts with a digit.
    let name = "";
    let numeric = "";
    for (let i = 0; i < 20 && !/^[0-9]/.test(numeric); i++)
      numeric = await keystone.project((name = `numeric-${i}`));
    assert.match(numeric, /^[0-9][0-9a-f]{31}$/);
    await keystone.user("dora", PASSWORD, name, "member");
    const token = await keystone.token("dora", PASSWORD, name);
    for (const dialect of ["compute/v1", "baremetal/v1alpha"]) {
      const listed = await apiRequest(server.url, token, "GET", `/${dialect}/images?folderId=${numeric}`);
      assert.equal(listed.status, 200, `${dialect}: ${listed.text}`);
    }
  });

  test("quotas from Keystone's unified limits: a registered default, a project's own limit, a change seen within the cache time", async () => {
    // What an OpenStack operator does for Glance, against the image service in the catalog.
    const asAdmin = (...args: string[]) =>
      run("bash", ["-c", 'exec openstack "$@" <&-', "openstack", ...args], {
        env: clientEnv("admin", "admin", ADMIN_PASSWORD),
      });
    /** Creates a limit (`registered limit` for every project, `limit` for one) and returns its id. */
    const createLimit = async (kind: string[], value: string[], resource: string) =>
      JSON.parse(
        (
          await asAdmin(
            ...kind,
            "create",
            "--service",
            "vitrine",
            "--region",
            "RegionOne",
            ...value,
            resource,
            "-f",
            "json",
          )
        ).stdout,
      ).id as string;
    const registered = await createLimit(
      ["registered", "limit"],
      ["--default-limit", "1"],
      "image_count_total",
    );
    const sized = await createLimit(["registered", "limit"], ["--default-limit", "1"], "image_size_total");
    let projectLimit: string | null = null;
    try {
      const small = path.join(home, "small.raw");
      fs.writeFileSync(small, Buffer.alloc(1024, 7));
      const create = (name: string, ...more: string[]) =>
        openstack(
          "dave",
          "gamma",
          "image",
          "create",
          "--disk-format",
          "raw",
          "--container-format",
          "bare",
          ...more,
          name,
        );
      assert.match(JSON.parse(await create("first", "--file", small, "-f", "json")).id, /^[0-9a-f-]{36}$/);
      const refused = await failure(create("second", "--file", small));
      assert.match(refused, /413|Request Entity Too Large/, refused);
      assert.match(refused, /image_count_total/, "the refusal names the quota");

      // The project's own limit overrides the default, seen within the cache time (2 s here).
      projectLimit = await createLimit(
        ["limit"],
        ["--project", "gamma", "--resource-limit", "3"],
        "image_count_total",
      );
      await new Promise((r) => setTimeout(r, 2500));
      const daveToken = await keystone.token("dave", PASSWORD, "gamma");
      const third = await osRequest(
        server,
        "POST",
        "/v2/images",
        { name: "third", disk_format: "raw", container_format: "bare" },
        {},
        daveToken,
      );
      assert.equal(third.status, 201, third.text);
      // 2 MiB over the 1 MiB default (Glance's unit for sizes): refused before it is stored.
      const put = await fetch(`${server.url}/v2/images/${third.body.id}/file`, {
        method: "PUT",
        headers: { "x-auth-token": daveToken, "content-type": "application/octet-stream" },
        body: Buffer.alloc(2 * 1024 * 1024, 7),
      });
      const answer = await put.text();
      assert.equal(put.status, 413, answer);
      assert.match(answer, /image_size_total: the limit is 1 MiB/);
      const { stdout } = await run("glance", ["usage"], { env: clientEnv("dave", "gamma") });
      assert.match(stdout, /image_count_total\s*\|\s*3\s*\|\s*2\s*\|/, stdout);
      assert.match(stdout, /image_size_total\s*\|\s*1\s*\|\s*1\s*\|/, stdout);
      // Vitrine's own quota API says where the limits come from, and does not set them.
      const quota = await apiRequest(
        server.url,
        server.token,
        "GET",
        `/vitrine/v1/quotas/${await keystone.project("gamma")}`,
      );
      assert.equal(quota.body.origin, "keystone");
      assert.equal(quota.body.quotas.image_count_total.limit, "3");
      const set = await apiRequest(server.url, server.token, "PATCH", "/vitrine/v1/quotaDefaults", {
        limits: { image_count_total: 9 },
      });
      assert.equal(set.status, 400);
      assert.match(set.body.message, /Keystone/);
    } finally {
      if (projectLimit) await asAdmin("limit", "delete", projectLimit);
      await asAdmin("registered", "limit", "delete", registered, sized);
    }
  });

  test("the web console signs a Keystone user in through the service (browsers cannot reach Keystone)", async () => {
    const config = await (await fetch(`${server.url}/console/config.json`)).json();
    assert.deepEqual(config, { keystone: true });
    const signIn = (body: unknown) =>
      fetch(`${server.url}/console/keystone/tokens`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const ok = await signIn({ user: "alice", password: PASSWORD, project: "alpha" });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("cache-control"), "no-store");
    const issued = (await ok.json()) as { token: string; projectId: string };
    assert.equal(issued.projectId, alpha);
    assert.equal((await osRequest(server, "GET", "/v2/images", undefined, {}, issued.token)).status, 200);
    const wrong = await signIn({ user: "alice", password: "not-her-password", project: "alpha" });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { message: string }).message, /Keystone refused/);
    assert.equal((await signIn({ user: "alice" })).status, 400);
    // The password is never logged.
    assert.ok(!JSON.stringify(server.logs).includes(PASSWORD));
  });
});

describe("Keystone mode: an unreachable Keystone", () => {
  test("is 503 (the service is unavailable), not 401, and does not count as a failed login", async () => {
    const server = await startServer({
      env: {
        VITRINE_KEYSTONE_URL: "http://127.0.0.1:9", // discard port: nothing listens
        VITRINE_KEYSTONE_USERNAME: "vitrine",
        VITRINE_KEYSTONE_PASSWORD: PASSWORD,
        VITRINE_AUTH_FAILURE_BURST: "1",
      },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await osRequest(server, "GET", "/v2/images", undefined, {}, "gAAAAABsome-keystone-token");
        assert.equal(res.status, 503, res.text);
      }
      const compute = await apiRequest(
        server.url,
        "gAAAAABsome-keystone-token",
        "GET",
        "/compute/v1/images?folderId=x",
      );
      assert.equal(compute.status, 503);
      assert.equal(compute.body.code, 14);
      assert.equal((await osRequest(server, "GET", "/v2/images")).status, 200, "local tokens still work");
    } finally {
      await server.stop();
    }
  });
});
