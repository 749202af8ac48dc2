import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image as fixture } from "../helpers/fixtures.js";
import { type InProcessHttp, startInProcessHttp } from "../helpers/in-process.js";
import { tempDir } from "../helpers/server.js";

/**
 * Conversion and export through each dialect's HTTP edge, in process (README "Conversion and
 * export"): a folder's policy in Vitrine's API, Compute's `:export`, OpenStack's upload and
 * web-download ending in the target `disk_format` with the original recorded, and the refusals
 * in each dialect's own error shape.
 */
describe("conversion over HTTP", () => {
  let env: InProcessHttp;
  let files: FileServer;
  let uri: string;
  let admin: string;
  let dev: string;
  const work = tempDir("conversion-api");
  const source = fixture("qcow2", 16);
  before(async () => {
    env = await startInProcessHttp();
    files = await startFileServer();
    uri = files.serve("disk.qcow2", source.path);
    admin = await env.adminToken();
    dev = await env.token("dev", "lab");
  });
  after(async () => {
    await env.close();
    await files.close();
  });

  const done = (op: { id: string }) => env.done(dev, op);
  const glance = async (id: string) => (await env.call(dev, "GET", `/v2/images/${id}`)).json();
  const sameDisk = async (uuid: string, format: string, driver: string) => {
    const res = await env.call(dev, "GET", `/v2/images/${uuid}/file`);
    assert.equal(res.statusCode, 200);
    const file = path.join(work, `${uuid}.${format}`);
    fs.writeFileSync(file, res.rawPayload);
    execFileSync("qemu-img", ["compare", "-q", "-f", "qcow2", "-F", driver, source.path, file]);
  };

  it("a folder's policy: read by its members, set by the admin only, removed with null", async () => {
    const url = "/vitrine/v1/folders/lab/conversion";
    const initial = (await env.call(dev, "GET", url)).json();
    assert.deepEqual(initial, {
      folderId: "lab",
      conversion: { target: "none", keep: [] },
      installationConversion: { target: "none", keep: [] },
    });
    const refused = await env.call(dev, "PATCH", url, { conversion: { target: "raw" } });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().code, 7);
    const bad = await env.call(admin, "PATCH", url, { conversion: { target: "iso" } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /target: must be one of raw, qcow2, vmdk, vhd, vhdx/);
    const set = await env.call(admin, "PATCH", url, { conversion: { target: "raw", keep: ["vhd"] } });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(set.json().folderConversion, { target: "raw", keep: ["vhd"] });
    assert.deepEqual((await env.call(dev, "GET", url)).json().conversion, { target: "raw", keep: ["vhd"] });
  });

  it("Compute: an image created from a URI is READY in the folder's target, its original in OpenStack's properties", async () => {
    const res = await env.call(dev, "POST", "/compute/v1/images", {
      folderId: "lab",
      uri,
      name: "converted",
    });
    assert.equal(res.statusCode, 200, res.body);
    const op = await done(res.json());
    assert.equal(op.error, undefined, JSON.stringify(op.error));
    assert.equal(op.response.status, "READY");
    const img = await glance(op.response.id);
    assert.equal(img.disk_format, "raw");
    assert.equal(img.vitrine_original_disk_format, "qcow2");
    assert.equal(img.vitrine_original_checksum, source.md5);
    assert.equal(img.vitrine_original_os_hash_value, source.sha512);
    assert.equal(img.vitrine_original_size, String(source.size));
    assert.equal(img.virtual_size, source.virtualSize);
    await sameDisk(img.id, "raw", "raw");
  });

  it("OpenStack: a gzip-compressed upload and a web-download end in the target disk_format", async () => {
    const gz = path.join(work, "upload.gz");
    fs.writeFileSync(gz, execFileSync("gzip", ["-c", source.path]));
    const made = await env.call(dev, "POST", "/v2/images", {
      name: "up",
      disk_format: "qcow2",
      container_format: "bare",
    });
    assert.equal(made.statusCode, 201, made.body);
    const uuid = made.json().id as string;
    const put = await env.call(dev, "PUT", `/v2/images/${uuid}/file`, fs.readFileSync(gz), {
      "content-type": "application/octet-stream",
    });
    assert.equal(put.statusCode, 204, put.body);
    const img = await glance(uuid);
    assert.equal(img.status, "active");
    assert.equal(img.disk_format, "raw");
    assert.equal(img.vitrine_source_compression, "gzip");
    assert.equal(img.vitrine_original_checksum, source.md5);
    await sameDisk(uuid, "raw", "raw");
    // What the service recorded stays true: reserved, as Glance's os_glance_* are.
    for (const op of [
      { op: "replace", path: "/vitrine_original_checksum", value: "0" },
      { op: "remove", path: "/vitrine_source_compression" },
      { op: "add", path: "/vitrine_exported_from", value: "x" },
    ]) {
      const patched = await env.call(dev, "PATCH", `/v2/images/${uuid}`, [op]);
      assert.equal(patched.statusCode, 403, patched.body);
      assert.match(patched.body, /is reserved/);
    }

    const other = await env.call(dev, "POST", "/v2/images", {
      name: "wd",
      disk_format: "qcow2",
      container_format: "bare",
    });
    const id = other.json().id as string;
    const imp = await env.call(dev, "POST", `/v2/images/${id}/import`, {
      method: { name: "web-download", uri },
    });
    assert.equal(imp.statusCode, 202, imp.body);
    for (let i = 0; i < 500 && (await glance(id)).status !== "active"; i++)
      await new Promise((r) => setTimeout(r, 20));
    const imported = await glance(id);
    assert.equal(imported.status, "active");
    assert.equal(imported.disk_format, "raw");
    assert.equal(imported.vitrine_original_disk_format, "qcow2");
  });

  it("Compute :export makes a converted copy; bad requests get Yandex errors", async () => {
    await env.call(admin, "PATCH", "/vitrine/v1/folders/lab/conversion", { conversion: null });
    const res = await env.call(dev, "POST", "/compute/v1/images", { folderId: "lab", uri, name: "original" });
    const original = (await done(res.json())).response as { id: string };
    const exp = await env.call(dev, "POST", `/compute/v1/images/${original.id}:export`, {
      format: "vmdk",
      name: "original-vmdk",
      description: "for VMware",
    });
    assert.equal(exp.statusCode, 200, exp.body);
    const op = exp.json();
    assert.equal(op.description, "Export image");
    assert.equal(op.metadata["@type"], "type.googleapis.com/yandex.cloud.compute.v1.CreateImageMetadata");
    const finished = await done(op);
    assert.equal(finished.error, undefined, JSON.stringify(finished.error));
    assert.equal(finished.response.name, "original-vmdk");
    assert.equal(finished.response.status, "READY");
    const copy = await glance(finished.response.id);
    assert.equal(copy.disk_format, "vmdk");
    assert.equal(copy.vitrine_exported_from, original.id);
    await sameDisk(copy.id, "vmdk", "vmdk");

    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{}, 400, /format: is required/],
      [{ format: "iso" }, 400, /format: must be one of/],
      [{ format: "qcow2" }, 400, /already qcow2/],
      [{ format: "raw", name: "Bad Name" }, 400, /name/],
      [{ format: "raw", state: "DEPRECATED" }, 400, /state: is not a field of this method/],
    ];
    for (const [body, status, message] of cases) {
      const r = await env.call(dev, "POST", `/compute/v1/images/${original.id}:export`, body);
      assert.equal(r.statusCode, status, `${JSON.stringify(body)}: ${r.body}`);
      assert.equal(r.json().code, 3);
      assert.match(r.json().message, message);
    }
    const missing = await env.call(dev, "POST", `/compute/v1/images/fd8aaaaaaaaaaaaaaaaa:export`, {
      format: "raw",
    });
    assert.equal(missing.statusCode, 404);
    const elsewhere = await env.call(
      await env.token("eve", "other"),
      "POST",
      `/compute/v1/images/${original.id}:export`,
      {
        format: "raw",
      },
    );
    assert.equal(elsewhere.statusCode, 404);
  });
});
