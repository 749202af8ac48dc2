import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image, iso } from "../helpers/fixtures.js";
import { GPT_HEADER_CRC, partitioned, patched, qcow2IsoPolyglot, truncated } from "../helpers/hostile.js";
import { createOsImage, osRequest, putData } from "../helpers/openstack.js";
import { type RunningServer, eventually, startServer, tempDir, waitOperation } from "../helpers/server.js";

/** A GPT disk whose header CRCs were altered, the primary's and the backup's. */
function badGpt(): string {
  const disk = partitioned("gpt-api", "gpt");
  const data = fs.readFileSync(disk);
  const flipped = (offset: number): [number, Buffer] => {
    const evil = Buffer.alloc(4);
    evil.writeUInt32LE((data.readUInt32LE(offset) ^ 0xff) >>> 0);
    return [offset, evil];
  };
  return patched(disk, "gpt-api-bad.raw", [flipped(GPT_HEADER_CRC), flipped(data.length - 512 + 16)]);
}

const truncatedQcow2 = () => truncated(image("qcow2", 24).path, "api-cut.qcow2", 200_000);
const truncatedVhd = () => {
  const honest = image("vpc", 8, "subformat=fixed");
  return truncated(honest.path, "api-cut.vhd", 1024 * 1024, 512);
};

describe("hostile images through every ingest path (polyglots, truncation, partition tables)", () => {
  let server: RunningServer;
  let files: FileServer;
  let disksDir: string;
  before(async () => {
    files = await startFileServer();
    disksDir = tempDir("disks");
    server = await startServer({
      env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1", VITRINE_DISKS_DIR: disksDir },
    });
  });
  after(async () => {
    await server.stop();
    await files.close();
  });

  async function computeRefused(body: Record<string, unknown>, reason: RegExp, api = "compute/v1") {
    const res = await server.request("POST", `/${api}/images`, { folderId: "hostile-paths", ...body });
    assert.equal(res.status, 200, res.text);
    const done = await waitOperation(server, res.body.id);
    assert.equal(done.error?.code, 3, JSON.stringify(done));
    assert.match(done.error.message, reason);
  }

  test("Compute from URI: a qcow2/ISO polyglot and a truncated fixed VHD", async () => {
    await computeRefused({ uri: files.serve("poly.qcow2", qcow2IsoPolyglot()) }, /polyglot: .*qcow2 and iso/);
    await computeRefused({ uri: files.serve("cut.vhd", truncatedVhd()) }, /vhd: a fixed disk .*truncated/);
  });

  test("Compute from a disk: a raw disk whose GPT header fails its CRC", async () => {
    fs.copyFileSync(badGpt(), path.join(disksDir, "bad-gpt.raw"));
    await computeRefused({ diskId: "bad-gpt" }, /gpt: the header CRC does not match/);
  });

  test("BareMetal from URI: a truncated ISO", async () => {
    const cut = truncated(iso("api-cut").path, "api-cut.iso", 40 * 1024);
    await computeRefused(
      { name: "cut-iso", uri: files.serve("cut.iso", cut) },
      /iso: the volume is .*truncated/,
      "baremetal/v1alpha",
    );
  });

  test("OpenStack upload: polyglot, truncated qcow2, bad GPT are 400 and the image stays queued", async () => {
    for (const [file, diskFormat, reason] of [
      [qcow2IsoPolyglot(), "qcow2", /polyglot/],
      [truncatedQcow2(), "qcow2", /past the end of the file/],
      [badGpt(), "raw", /gpt: the header CRC/],
    ] as const) {
      const img = await createOsImage(server, {
        name: `hostile-${path.basename(file)}`,
        disk_format: diskFormat,
      });
      const res = await putData(server, img.id, file);
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.message, reason);
      assert.equal((await osRequest(server, "GET", `/v2/images/${img.id}`)).body.status, "queued");
    }
  });

  test("OpenStack stage and web-download import: refused at stage; an import fails back to queued", async () => {
    const staged = await createOsImage(server, { name: "hostile-stage", disk_format: "qcow2" });
    const stage = await putData(server, staged.id, qcow2IsoPolyglot(), { endpoint: "stage" });
    assert.equal(stage.status, 400);
    assert.match(stage.body.message, /polyglot/);

    const wd = await createOsImage(server, { name: "hostile-wd", disk_format: "vhd" });
    const uri = files.serve("wd-cut.vhd", truncatedVhd());
    const r = await osRequest(server, "POST", `/v2/images/${wd.id}/import`, {
      method: { name: "web-download", uri },
    });
    assert.equal(r.status, 202);
    await eventually(async () => {
      const b = (await osRequest(server, "GET", `/v2/images/${wd.id}`)).body;
      return b.status === "queued" && b.os_glance_failed_import === "fs";
    });
  });
});

describe("format policy configuration", () => {
  let server: RunningServer;
  let files: FileServer;
  before(async () => {
    files = await startFileServer();
    server = await startServer({
      env: {
        VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1",
        VITRINE_RELAX_FORMAT_MISMATCH: "true",
        VITRINE_MAX_VIRTUAL_SIZE: String(16 * 1024 * 1024),
      },
    });
  });
  after(async () => {
    await server.stop();
    await files.close();
  });

  test("relaxed mismatch accepts a qcow2 declared raw but still refuses polyglots and oversized disks", async () => {
    const relaxed = await createOsImage(server, { name: "relaxed", disk_format: "raw" });
    assert.equal((await putData(server, relaxed.id, image("qcow2", 8).path)).status, 204);

    const poly = await createOsImage(server, { name: "poly", disk_format: "qcow2" });
    assert.equal((await putData(server, poly.id, qcow2IsoPolyglot())).status, 400);

    const big = await createOsImage(server, { name: "big", disk_format: "qcow2" });
    const res = await putData(server, big.id, image("qcow2", 24).path);
    assert.equal(res.status, 400);
    assert.match(res.body.message, /virtual size 25165824 exceeds the limit of 16777216/);

    const computeRes = await server.request("POST", "/compute/v1/images", {
      folderId: "relaxed",
      uri: files.serve("vdi.img", image("vdi", 8).path),
    });
    const done = await waitOperation(server, computeRes.body.id);
    assert.equal(done.response?.status, "READY", "with the switch on, Compute takes a VDI from a URI");
  });

  test("per-dialect formats: a server that takes only qcow2 from URIs refuses a VMDK", async () => {
    const strict = await startServer({
      env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1", VITRINE_COMPUTE_URI_FORMATS: "qcow2" },
    });
    try {
      const res = await strict.request("POST", "/compute/v1/images", {
        folderId: "strict",
        uri: files.serve("only.vmdk", image("vmdk", 8).path),
      });
      const done = await waitOperation(strict, res.body.id);
      assert.match(done.error?.message ?? "", /vmdk format; accepted formats are qcow2/);
    } finally {
      await strict.stop();
    }
  });
});
