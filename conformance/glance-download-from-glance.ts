/**
 * glance-download with Debian's Glance as the other region: Glance (`glance-api`, standalone, its
 * file store, no Keystone of its own: the paste pipeline's unauthenticated context) registered in
 * one Keystone as RegionTwo's image service, Vitrine in Keystone mode as RegionOne's. An image
 * uploaded to Glance is imported into Vitrine with glance-download; its bytes, checksums, formats
 * and copied properties are checked. `npm run conformance:glance-download` (installs glance-api
 * when missing; not part of `npm test`: Glance's packages take a minute to install).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { startGlance } from "../bench/harness/glance.js";
import { image } from "../test/helpers/fixtures.js";
import { startKeystone } from "../test/helpers/keystone.js";
import { osRequest } from "../test/helpers/openstack.js";
import { eventually, startServer, tempDir } from "../test/helpers/server.js";

const PASSWORD = "correct horse battery staple";
const keystone = await startKeystone();
const glance = await startGlance(tempDir("glance"));
try {
  const serviceEnv = await keystone.serviceEnv(PASSWORD);
  await keystone.user("alice", PASSWORD, "alpha", "member");
  const vitrine = await startServer({ env: { ...serviceEnv, VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
  try {
    await keystone.registerImageEndpoint(vitrine.url, "image", "RegionOne");
    await keystone.registerImageEndpoint(glance.url, "image", "RegionTwo");
    const token = await keystone.token("alice", PASSWORD, "alpha");

    // The source, in Glance: a qcow2 made by qemu-img, with properties a copy takes and one it does not.
    const fixture = image("qcow2", 8);
    const json = { "content-type": "application/json" };
    const created = await fetch(`${glance.url}/v2/images`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({
        name: "from-glance",
        disk_format: "qcow2",
        container_format: "bare",
        hw_cpu_cores: "5",
        os_distro: "debian",
        speed: "88mph",
      }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const source = (await created.json()) as { id: string };
    const put = await fetch(`${glance.url}/v2/images/${source.id}/file`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: fs.readFileSync(fixture.path),
    });
    assert.equal(put.status, 204, await put.text());
    const shown = (await (await fetch(`${glance.url}/v2/images/${source.id}`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(shown.status, "active");

    const dst = await osRequest(
      vitrine,
      "POST",
      "/v2/images",
      { name: "copy", disk_format: "raw", container_format: "bare" },
      {},
      token,
    );
    assert.equal(dst.status, 201, dst.text);
    const started = await osRequest(
      vitrine,
      "POST",
      `/v2/images/${dst.body.id}/import`,
      { method: { name: "glance-download", glance_image_id: source.id, glance_region: "RegionTwo" } },
      {},
      token,
    );
    assert.equal(started.status, 202, started.text);
    const copy = await eventually(
      async () => {
        const res = await osRequest(vitrine, "GET", `/v2/images/${dst.body.id}`, undefined, {}, token);
        if (res.body.status === "queued" && res.body.os_glance_failed_import) throw new Error(res.text);
        return res.body.status === "active" ? res.body : null;
      },
      60_000,
      "the glance-download to end",
    );
    const tasks = await osRequest(vitrine, "GET", `/v2/images/${dst.body.id}/tasks`, undefined, {}, token);
    assert.equal(tasks.body.tasks[0].status, "success", tasks.text);
    assert.equal(copy.disk_format, "qcow2");
    assert.equal(copy.checksum, shown.checksum);
    assert.equal(copy.os_hash_value, shown.os_hash_value);
    assert.equal(copy.hw_cpu_cores, "5");
    assert.equal(copy.os_distro, "debian");
    assert.equal(copy.speed, undefined);
    const data = await fetch(`${vitrine.url}/v2/images/${dst.body.id}/file`, {
      headers: { "x-auth-token": token },
    });
    const digest = createHash("sha512")
      .update(Buffer.from(await data.arrayBuffer()))
      .digest("hex");
    assert.equal(digest, shown.os_hash_value);
    console.log(
      `glance-download from Glance (RegionTwo) into Vitrine (RegionOne): active, ${copy.size} bytes, ` +
        `MD5 and SHA-512 equal to Glance's, disk_format ${copy.disk_format}, hw_cpu_cores and os_distro copied, speed not`,
    );
  } finally {
    await vitrine.stop();
  }
} finally {
  await glance.stop();
  await keystone.stop();
}
