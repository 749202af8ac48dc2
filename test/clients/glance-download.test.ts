import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { after, before, describe, test } from "node:test";
import { image } from "../helpers/fixtures.js";
import { type Keystone, startKeystone } from "../helpers/keystone.js";
import { PATCH_TYPE, osRequest, putData } from "../helpers/openstack.js";
import { type RunningServer, eventually, startServer } from "../helpers/server.js";

const PASSWORD = "correct horse battery staple";

/**
 * glance-download between two Vitrine installations registered as the image services of two
 * regions of one Keystone: an image of RegionOne imported into RegionTwo as its owner, through the
 * catalog the owner's token sees, with the source's checksums verified.
 */
describe("glance-download: two installations as two regions of one Keystone", () => {
  let keystone: Keystone;
  let one: RunningServer;
  let two: RunningServer;
  let token: string;

  let serviceEnv: Record<string, string>;
  const keystoneEnv = (hosts: string) => ({ ...serviceEnv, VITRINE_IMPORT_ALLOWED_HOSTS: hosts });

  before(async () => {
    keystone = await startKeystone();
    serviceEnv = await keystone.serviceEnv(PASSWORD);
    await keystone.user("alice", PASSWORD, "alpha", "member");
    one = await startServer({ env: keystoneEnv("127.0.0.1") });
    two = await startServer({ env: keystoneEnv("127.0.0.1") });
    await keystone.registerImageEndpoint(one.url, "image", "RegionOne");
    await keystone.registerImageEndpoint(two.url, "image", "RegionTwo");
    token = await keystone.token("alice", PASSWORD, "alpha");
  });
  after(async () => {
    await one?.stop();
    await two?.stop();
    await keystone?.stop();
  });

  const as = (server: RunningServer, method: string, path: string, body?: unknown, headers = {}) =>
    osRequest(server, method, path, body, headers, token);
  const created = async (server: RunningServer, fields: Record<string, unknown>) => {
    const res = await as(server, "POST", "/v2/images", fields);
    assert.equal(res.status, 201, res.text);
    return res.body.id as string;
  };
  const importFrom = (id: string, params: Record<string, string>) =>
    as(two, "POST", `/v2/images/${id}/import`, { method: { name: "glance-download", ...params } });
  const taskOf = async (id: string) =>
    eventually(
      async () => {
        const tasks = (await as(two, "GET", `/v2/images/${id}/tasks`)).body.tasks as {
          status: string;
          message: string;
        }[];
        return tasks.find((t) => t.status === "success" || t.status === "failure");
      },
      30_000,
      "the import's task to end",
    );

  test("an image of RegionOne is imported into RegionTwo: same bytes, the source's formats and copied properties", async () => {
    const fixture = image("qcow2", 8);
    const src = await created(one, { name: "source", disk_format: "qcow2", container_format: "bare" });
    assert.equal((await putData(one, src, fixture.path, { token })).status, 204);
    const patched = await as(
      one,
      "PATCH",
      `/v2/images/${src}`,
      [
        { op: "add", path: "/hw_cpu_cores", value: "5" },
        { op: "add", path: "/os_distro", value: "rhel" },
        { op: "add", path: "/speed", value: "88mph" },
      ],
      PATCH_TYPE,
    );
    assert.equal(patched.status, 200, patched.text);

    const methods = await as(two, "GET", "/v2/info/import");
    assert.ok(methods.body["import-methods"].value.includes("glance-download"));
    const dst = await created(two, { name: "copy", disk_format: "iso", container_format: "ovf" });
    const res = await importFrom(dst, { glance_image_id: src, glance_region: "RegionOne" });
    assert.equal(res.status, 202, res.text);
    assert.equal((await taskOf(dst)).status, "success");
    const copy = (await as(two, "GET", `/v2/images/${dst}`)).body;
    assert.equal(copy.status, "active");
    assert.equal(copy.disk_format, "qcow2");
    assert.equal(copy.container_format, "bare");
    assert.equal(copy.hw_cpu_cores, "5");
    assert.equal(copy.os_distro, "rhel");
    assert.equal(copy.speed, undefined, "only the properties a copy takes over");
    const source = (await as(one, "GET", `/v2/images/${src}`)).body;
    assert.equal(copy.os_hash_value, source.os_hash_value);
    assert.equal(copy.checksum, source.checksum);
    const bytes = await fetch(`${two.url}/v2/images/${dst}/file`, { headers: { "x-auth-token": token } });
    const digest = createHash("sha512")
      .update(Buffer.from(await bytes.arrayBuffer()))
      .digest("hex");
    assert.equal(digest, createHash("sha512").update(fs.readFileSync(fixture.path)).digest("hex"));
  });

  test("a missing image, an unknown region and a bad interface fail the task and leave the image queued; a non-UUID id is refused at once", async () => {
    const dst = await created(two, { name: "target", disk_format: "raw", container_format: "bare" });
    const attempts: Record<string, string>[] = [
      { glance_image_id: "36d4b546-64a2-4bb9-bdd0-ba676aa48f2c", glance_region: "RegionOne" },
      { glance_image_id: "36d4b546-64a2-4bb9-bdd0-ba676aa48f2c", glance_region: "not a region" },
      {
        glance_image_id: "36d4b546-64a2-4bb9-bdd0-ba676aa48f2c",
        glance_region: "RegionOne",
        glance_service_interface: "not an interface",
      },
    ];
    for (const params of attempts) {
      const before = ((await as(two, "GET", `/v2/images/${dst}/tasks`)).body.tasks as unknown[]).length;
      assert.equal((await importFrom(dst, params)).status, 202);
      const ended = await eventually(
        async () => {
          const tasks = (await as(two, "GET", `/v2/images/${dst}/tasks`)).body.tasks as {
            status: string;
            message: string;
          }[];
          return tasks.length > before && tasks[0]!.status === "failure" ? tasks[0] : null;
        },
        30_000,
        "the failed task",
      );
      assert.match(ended!.message, /glance-download/);
      assert.equal((await as(two, "GET", `/v2/images/${dst}`)).body.status, "queued");
    }
    const bad = await importFrom(dst, { glance_image_id: "foo", glance_region: "RegionOne" });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /image id does not look like a UUID/);
  });

  test("the import URL policy applies: a region whose endpoint is not allowed is not fetched", async () => {
    const strict = await startServer({ env: keystoneEnv("") });
    try {
      const src = await created(one, { name: "guarded", disk_format: "raw", container_format: "bare" });
      assert.equal((await putData(one, src, Buffer.alloc(1024 * 1024, 7), { token })).status, 204);
      const res = await as(strict, "POST", "/v2/images", {
        name: "x",
        disk_format: "raw",
        container_format: "bare",
      });
      const dst = res.body.id as string;
      const imported = await as(strict, "POST", `/v2/images/${dst}/import`, {
        method: { name: "glance-download", glance_image_id: src, glance_region: "RegionOne" },
      });
      assert.equal(imported.status, 202, imported.text);
      const failed = await eventually(
        async () => {
          const tasks = (await as(strict, "GET", `/v2/images/${dst}/tasks`)).body.tasks as {
            status: string;
            message: string;
          }[];
          return tasks.find((t) => t.status === "failure");
        },
        30_000,
        "the refused import",
      );
      assert.match(failed.message, /127\\.0\\.0\\.1|not allowed|private|loopback/i);
      assert.equal((await as(strict, "GET", `/v2/images/${dst}`)).body.status, "queued");
    } finally {
      await strict.stop();
    }
  });
});
