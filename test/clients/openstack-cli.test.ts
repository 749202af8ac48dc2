import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image } from "../helpers/fixtures.js";
import { projectToken } from "../helpers/openstack.js";
import { type RunningServer, eventually, startServer, tempDir } from "../helpers/server.js";

const run = promisify(execFile);

// Keystone-style project ids: the clients take UUID-like ids as given (names need Keystone).
const PROJECT_A = "6a0d8e5c9b2f4e51a3c7d9e2f1b4a6c8";
const PROJECT_B = "7b1e9f6d0c3a4f62b4d8e0f3a2c5b7d9";

describe("real clients: openstack and glance CLIs against Vitrine", () => {
  let server: RunningServer;
  let files: FileServer;
  let home: string;
  let tokenA: string;
  let tokenB: string;

  before(async () => {
    files = await startFileServer();
    server = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    home = tempDir("client-home"); // glanceclient caches the image schema under $HOME
    tokenA = projectToken(server, PROJECT_A);
    tokenB = projectToken(server, PROJECT_B);
  });
  after(async () => {
    await server.stop();
    await files.close();
  });

  /**
   * Runs a client with stdin closed: both CLIs read image data from a stdin that is not a
   * terminal (`<&-` is how their docs say "no data").
   */
  const client = async (command: string, args: string[], env: Record<string, string> = {}) => {
    const { stdout } = await run("bash", ["-c", `exec ${command} "$@" <&-`, command, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: home, ...env },
    });
    return stdout;
  };
  /** `openstack` with token auth straight to the image endpoint (no Keystone). */
  const openstack = (token: string, ...args: string[]) =>
    client("openstack", args, {
      OS_AUTH_TYPE: "admin_token",
      OS_ENDPOINT: `${server.url}/v2`,
      OS_TOKEN: token,
    });
  const openstackJson = async (token: string, ...args: string[]) =>
    JSON.parse(await openstack(token, ...args, "-f", "json"));
  /** `glance` reads image data from stdin when it is not a terminal: close it. */
  const glance = async (token: string, ...args: string[]) => {
    const { stdout } = await run(
      "bash",
      [
        "-c",
        'exec glance "$@" <&-',
        "glance",
        "--os-image-url",
        server.url,
        "--os-auth-token",
        token,
        ...args,
      ],
      { env: { PATH: process.env.PATH, HOME: home } },
    );
    return stdout;
  };
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail("the command should have failed"),
      (err: { stderr?: string }) => err.stderr ?? "",
    );

  test("image create --file, show, list with filters, set, save, delete", async () => {
    const fixture = image("qcow2", 16);
    const admin = server.token;
    const created = await openstackJson(
      admin,
      "image",
      "create",
      "--file",
      fixture.path,
      "--disk-format",
      "qcow2",
      "--container-format",
      "bare",
      "--property",
      "color=blue",
      "--property",
      "__os_version=Ubuntu 22.04 server 64bit",
      "--tag",
      "t1",
      "cli-img",
    );
    assert.equal(created.name, "cli-img");
    assert.equal(created.disk_format, "qcow2");
    assert.deepEqual(created.tags, ["t1"]);

    const shown = await openstackJson(admin, "image", "show", "cli-img");
    assert.equal(shown.status, "active");
    assert.equal(shown.size, fixture.size);
    assert.equal(shown.checksum, fixture.md5);
    assert.equal(shown.virtual_size, fixture.virtualSize);
    assert.equal(shown.properties.color, "blue");
    assert.equal(shown.properties.__platform, "Ubuntu");
    assert.equal(shown.properties.os_hash_value, fixture.sha512);

    await openstack(admin, "image", "create", "--disk-format", "raw", "other-img");
    const names = async (...filters: string[]) =>
      (await openstackJson(admin, "image", "list", ...filters)).map((i: { Name: string }) => i.Name).sort();
    assert.deepEqual(await names(), ["cli-img", "other-img"]);
    assert.deepEqual(await names("--property", "color=blue"), ["cli-img"]);
    assert.deepEqual(await names("--tag", "t1"), ["cli-img"]);
    assert.deepEqual(await names("--name", "other-img"), ["other-img"]);
    assert.deepEqual(await names("--status", "queued"), ["other-img"]);

    await openstack(
      admin,
      "image",
      "set",
      "--property",
      "color=red",
      "--tag",
      "t2",
      "--protected",
      "cli-img",
    );
    const changed = await openstackJson(admin, "image", "show", "cli-img");
    assert.equal(changed.properties.color, "red");
    assert.deepEqual([...changed.tags].sort(), ["t1", "t2"]);
    assert.equal(changed.protected, true);

    const out = path.join(home, "saved.qcow2");
    await openstack(admin, "image", "save", "--file", out, "cli-img");
    assert.deepEqual(fs.readFileSync(out), fs.readFileSync(fixture.path), "downloaded bytes are identical");

    const refused = await failure(openstack(admin, "image", "delete", "cli-img"));
    assert.match(refused, /protected/i);
    await openstack(admin, "image", "set", "--unprotected", "cli-img");
    await openstack(admin, "image", "delete", "cli-img", "other-img");
    assert.deepEqual(await names(), []);
    await failure(openstack(admin, "image", "show", "cli-img"));
  });

  test('lifecycle through properties (README "Lifecycle"): set, kept by later edits, hidden when obsolete, cleared', async () => {
    const admin = server.token;
    const fixture = image("qcow2", 8);
    const create = (name: string) =>
      openstackJson(
        admin,
        "image",
        "create",
        "--file",
        fixture.path,
        "--disk-format",
        "qcow2",
        "--container-format",
        "bare",
        name,
      );
    const old = await create("life-old");
    const fresh = await create("life-new");
    await openstack(
      admin,
      "image",
      "set",
      "--property",
      "deprecation_state=DEPRECATED",
      "--property",
      `deprecation_replacement=${fresh.id}`,
      "--property",
      "deprecation_obsolete_at=2031-01-01T00:00:00Z",
      old.id,
    );
    // Later edits by the same client (which sends back or removes properties it does not know)
    // leave the deprecation as it is.
    await openstack(admin, "image", "set", "--name", "life-old-2", "--property", "color=green", old.id);
    const shown = (await openstackJson(admin, "image", "show", old.id)).properties;
    assert.equal(shown.deprecation_state, "DEPRECATED");
    assert.equal(shown.deprecation_replacement, fresh.id);
    assert.equal(shown.deprecation_obsolete_at, "2031-01-01T00:00:00Z");
    assert.equal(shown.color, "green");
    await openstack(admin, "image", "unset", "--property", "color", old.id);

    await openstack(admin, "image", "set", "--property", "deprecation_state=OBSOLETE", old.id);
    const hidden = await openstackJson(admin, "image", "list", "--hidden");
    assert.ok(
      hidden.some((i: { ID: string }) => i.ID === old.id),
      "listed with --hidden",
    );
    const visible = await openstackJson(admin, "image", "list");
    assert.ok(!visible.some((i: { ID: string }) => i.ID === old.id), "hidden by default");
    await openstack(admin, "image", "set", "--property", "deprecation_state=ACTIVE", old.id);
    const back = await openstackJson(admin, "image", "show", old.id);
    assert.equal(back.properties.deprecation_state, "ACTIVE", "times on record keep the state shown");
    assert.equal((await server.request("GET", `/v2/images/${old.id}`)).body.os_hidden, false, "shown again");
    await openstack(admin, "image", "delete", old.id, fresh.id);
  });

  test('conversion (README "Conversion and export"): a gzip-compressed qcow2 sent with image create ends raw; image set keeps what was recorded', async () => {
    const policy = await server.request("PATCH", `/vitrine/v1/folders/${PROJECT_A}/conversion`, {
      conversion: { target: "raw" },
    });
    assert.equal(policy.status, 200, policy.text);
    try {
      const fixture = image("qcow2", 16);
      const gz = path.join(home, "disk.qcow2.gz");
      fs.writeFileSync(gz, execFileSync("gzip", ["-c", fixture.path]));
      await openstack(
        tokenA,
        "image",
        "create",
        "--file",
        gz,
        "--disk-format",
        "qcow2",
        "--container-format",
        "bare",
        "conv-cli",
      );
      // openstacksdk sends properties it does not know back unchanged (or not at all): the
      // reserved ones recorded by the conversion must not make an unrelated change fail.
      await openstack(tokenA, "image", "set", "--property", "color=red", "conv-cli");
      const shown = await openstackJson(tokenA, "image", "show", "conv-cli");
      assert.equal(shown.status, "active");
      assert.equal(shown.disk_format, "raw");
      assert.equal(shown.properties.color, "red");
      assert.equal(shown.properties.vitrine_original_disk_format, "qcow2");
      assert.equal(shown.properties.vitrine_original_checksum, fixture.md5);
      assert.equal(shown.properties.vitrine_source_compression, "gzip");
      const out = path.join(home, "conv-cli.raw");
      await openstack(tokenA, "image", "save", "--file", out, "conv-cli");
      execFileSync("qemu-img", ["compare", "-q", "-f", "qcow2", "-F", "raw", fixture.path, out]);
      await openstack(tokenA, "image", "delete", "conv-cli");
    } finally {
      await server.request("PATCH", `/vitrine/v1/folders/${PROJECT_A}/conversion`, { conversion: null });
    }
  });

  test("sharing: image add project, member list, the member accepts and then lists the image", async () => {
    const fixture = image("qcow2", 8);
    const created = await openstackJson(
      tokenA,
      "image",
      "create",
      "--file",
      fixture.path,
      "--disk-format",
      "qcow2",
      "--private",
      "to-share",
    );
    assert.equal(created.owner, PROJECT_A);
    await openstack(tokenA, "image", "set", "--shared", "to-share");
    const member = await openstackJson(tokenA, "image", "add", "project", "to-share", PROJECT_B);
    assert.equal(member.member_id, PROJECT_B);
    assert.equal(member.status, "pending");
    const members = await openstackJson(tokenA, "image", "member", "list", "to-share");
    assert.deepEqual(
      members.map((m: Record<string, string>) => [m["Member ID"], m.Status]),
      [[PROJECT_B, "pending"]],
    );
    const beforeAccept = await openstackJson(tokenB, "image", "list");
    assert.deepEqual(beforeAccept, [], "a pending share is not listed");

    // `openstack image set --accept` needs a Keystone-scoped token to know the project; the glance
    // CLI takes the member id explicitly.
    await glance(tokenB, "member-update", created.id, PROJECT_B, "accepted");
    const listed = await openstackJson(tokenB, "image", "list");
    assert.deepEqual(
      listed.map((i: { Name: string }) => i.Name),
      ["to-share"],
    );
    const after = await openstackJson(tokenA, "image", "member", "list", "to-share");
    assert.equal(after[0].Status, "accepted");
    const out = path.join(home, "shared.qcow2");
    await openstack(tokenB, "image", "save", "--file", out, "to-share");
    assert.equal(fs.statSync(out).size, fixture.size);
  });

  test("glance image-create-via-import --import-method web-download", async () => {
    const fixture = image("qcow2", 8);
    const uri = files.serve("web.qcow2", fixture.path);
    const out = await glance(
      server.token,
      "image-create-via-import",
      "--name",
      "via-import",
      "--disk-format",
      "qcow2",
      "--container-format",
      "bare",
      "--import-method",
      "web-download",
      "--uri",
      uri,
    );
    const id = /\|\s*id\s*\|\s*([0-9a-f-]{36})/.exec(out)?.[1];
    assert.ok(id, out);
    const shown = await eventually(async () => {
      const text = await glance(server.token, "image-show", id);
      return /\|\s*status\s*\|\s*active/.test(text) && text;
    });
    assert.match(shown, new RegExp(`\\|\\s*checksum\\s*\\|\\s*${fixture.md5}`));
    assert.match(shown, new RegExp(`\\|\\s*size\\s*\\|\\s*${fixture.size}`));
  });
});
