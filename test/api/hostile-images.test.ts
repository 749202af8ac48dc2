import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ACCEPTED_SUBFORMATS, image, qemuImg } from "../helpers/fixtures.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { patched, u32, u64 } from "../helpers/hostile.js";
import { type RunningServer, blobFiles, startServer, tempDir, waitOperation } from "../helpers/server.js";

describe("Hostile images are refused on create from URI (qcow2 and VMDK safety rules)", () => {
  let server: RunningServer;
  let files: FileServer;
  before(async () => {
    files = await startFileServer();
    server = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
  });
  after(async () => {
    await server.stop();
    await files.close();
  });

  async function refused(file: string, reason: RegExp): Promise<void> {
    const uri = files.serve(path.basename(file), file);
    const before = blobFiles(server.dataDir);
    const res = await server.request("POST", "/compute/v1/images", { folderId: "hostile", uri });
    assert.equal(res.status, 200, res.text);
    const done = await waitOperation(server, res.body.id);
    assert.equal(done.error?.code, 3, `refused: ${JSON.stringify(done)}`);
    assert.match(done.error.message, reason);
    const img = await server.request("GET", `/compute/v1/images/${res.body.metadata.imageId}`);
    assert.equal(img.body.status, "ERROR");
    assert.deepEqual(
      blobFiles(server.dataDir),
      { committed: before.committed, pending: 0 },
      "the refused bytes are deleted",
    );
  }

  test("qcow2 with a backing file", async () => {
    const dir = tempDir("backing");
    const base = path.join(dir, "base.qcow2");
    const overlay = path.join(dir, "overlay.qcow2");
    qemuImg("create", "-f", "qcow2", base, "8M");
    qemuImg("create", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", overlay, "8M");
    await refused(overlay, /backing file/);
  });

  test("qcow2 with an external data file (data_file, data_file_raw)", async () => {
    const dir = tempDir("datafile");
    const img = path.join(dir, "ext.qcow2");
    qemuImg(
      "create",
      "-f",
      "qcow2",
      "-o",
      `data_file=${path.join(dir, "data.raw")},data_file_raw=on`,
      img,
      "8M",
    );
    await refused(img, /external data file/);
  });

  test("qcow2 with unknown incompatible feature bits", async () => {
    await refused(
      patched(image("qcow2", 8).path, "unknown-bits.qcow2", [[72, u64(1n << 40n)]]),
      /unknown incompatible feature bits/,
    );
  });

  test("qcow2 with absurd cluster bits", async () => {
    await refused(patched(image("qcow2", 8).path, "cluster.qcow2", [[20, u32(31)]]), /cluster_bits 31/);
  });

  test("qcow2 whose virtual size is beyond the limit", async () => {
    await refused(
      patched(image("qcow2", 8).path, "huge.qcow2", [[24, u64(1n << 50n)]]),
      /virtual size .* exceeds the limit/,
    );
  });

  test("qcow2 with an L1 table far larger than its size needs", async () => {
    await refused(patched(image("qcow2", 8).path, "l1.qcow2", [[36, u32(1 << 24)]]), /L1 table/);
  });

  test("a bare VMDK text descriptor (data in other files)", async () => {
    const file = path.join(tempDir("desc"), "desc.vmdk");
    fs.writeFileSync(
      file,
      '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 16384 FLAT "/etc/shadow" 0\n',
    );
    await refused(file, /bare text descriptor/);
  });

  test("a sparse VMDK whose embedded descriptor names a flat extent elsewhere", async () => {
    const honest = image("vmdk", 8);
    const data = fs.readFileSync(honest.path);
    const start = Number(data.readBigUInt64LE(28)) * 512;
    const descriptor = data.subarray(start, start + 1024).toString("latin1");
    const evil = descriptor
      .replace(/createType="monolithicSparse"/, 'createType="twoGbMaxExtentFlat"')
      .replace(/RW (\d+) SPARSE "[^"]*"/, 'RW $1 FLAT "/etc/shadow" 0');
    assert.notEqual(evil, descriptor);
    await refused(
      patched(honest.path, "evil-extent.vmdk", [[start, Buffer.from(evil, "latin1")]]),
      /createType "twoGbMaxExtentFlat"|extent type FLAT/,
    );
  });

  test("vhd whose footer checksum does not match", async () => {
    const honest = image("vpc", 8, "subformat=fixed");
    const size = fs.statSync(honest.path).size;
    const stored = fs.readFileSync(honest.path).readUInt32BE(size - 512 + 64);
    await refused(
      patched(honest.path, "bad-footer.vhd", [[size - 512 + 64, u32((stored ^ 1) >>> 0)]]),
      /footer checksum/,
    );
  });

  test("honest images of every accepted subformat are still accepted", async () => {
    for (const [format, options] of ACCEPTED_SUBFORMATS) {
      const fixture = image(format, 8, options);
      const uri = files.serve(`honest-${format}-${options.length}.img`, fixture.path);
      const res = await server.request("POST", "/compute/v1/images", { folderId: "honest", uri });
      const done = await waitOperation(server, res.body.id);
      assert.equal(done.response?.status, "READY", `${format} ${options}: ${JSON.stringify(done.error)}`);
    }
  });
});
