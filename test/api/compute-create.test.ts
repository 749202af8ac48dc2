import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { image, rawDisk } from "../helpers/fixtures.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { type RunningServer, startServer, tempDir, waitOperation } from "../helpers/server.js";

const FOLDER = "b1gfolder0000000001";

describe("Compute API: create an image", () => {
  let server: RunningServer;
  let files: FileServer;
  let disksDir: string;
  let snapshotsDir: string;

  before(async () => {
    files = await startFileServer();
    disksDir = tempDir("disks");
    snapshotsDir = tempDir("snapshots");
    server = await startServer({
      env: {
        VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1",
        VITRINE_DISKS_DIR: disksDir,
        VITRINE_SNAPSHOTS_DIR: snapshotsDir,
      },
    });
  });
  after(async () => {
    await server.stop();
    await files.close();
  });

  for (const [format, options] of [
    ["qcow2", ""],
    ["vmdk", ""],
    ["vmdk", "subformat=streamOptimized"],
    ["vpc", ""],
    ["vpc", "subformat=fixed"],
  ] as const) {
    test(`from a ${format} ${options} URI: READY with size, checksums and operation response`, async () => {
      const fixture = image(format, 8, options);
      const uri = files.serve(`img-${format}-${options.length}`, fixture.path);
      const name = `img-${format}-${options ? "sub" : "plain"}`;
      const res = await server.request("POST", "/compute/v1/images", {
        folderId: FOLDER,
        name,
        description: "made by qemu-img",
        labels: { env: "test", "team.name": "a/b@c" },
        family: "test-family",
        uri,
      });
      assert.equal(res.status, 200, res.text);
      const op = res.body;
      assert.match(op.id, /^[a-z][a-z0-9]{19}$/);
      assert.equal(op.description, "Create image");
      assert.equal(op.done, false);
      assert.equal(op.metadata["@type"], "type.googleapis.com/yandex.cloud.compute.v1.CreateImageMetadata");
      assert.match(op.metadata.imageId, /^[a-z][a-z0-9]{19}$/);
      assert.match(op.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.ok(op.createdBy);

      const done = await waitOperation(server, op.id);
      assert.equal(done.error, undefined, JSON.stringify(done.error));
      assert.equal(done.response["@type"], "type.googleapis.com/yandex.cloud.compute.v1.Image");
      assert.equal(done.response.id, op.metadata.imageId);
      assert.equal(done.response.status, "READY");

      const got = await server.request("GET", `/compute/v1/images/${op.metadata.imageId}`);
      assert.equal(got.status, 200);
      const img = got.body;
      assert.equal(img.name, name);
      assert.equal(img.folderId, FOLDER);
      assert.equal(img.description, "made by qemu-img");
      assert.deepEqual(img.labels, { env: "test", "team.name": "a/b@c" });
      assert.equal(img.family, "test-family");
      assert.equal(img.status, "READY");
      assert.equal(
        img.storageSize,
        String(fixture.size),
        "storageSize is the stored byte count, as a string",
      );
      assert.equal(img.minDiskSize, String(1024 ** 3), "default minDiskSize: virtual size rounded up to GiB");
      assert.deepEqual(img.os, { type: "LINUX" });
      assert.equal(img.pooled, undefined, "false booleans are omitted");
      assert.deepEqual(img.hardwareGeneration, { legacyFeatures: { pciTopology: "PCI_TOPOLOGY_V1" } });
      assert.equal(got.headers.get("content-type"), "application/json; charset=utf-8");
      assert.ok(got.headers.get("x-request-id"));
    });
  }

  test("the stored bytes equal the source: MD5 and SHA-512 computed in the pipeline", async () => {
    const fixture = image("qcow2", 8);
    const uri = files.serve("digest.qcow2", fixture.path);
    const res = await server.request("POST", "/compute/v1/images", { folderId: FOLDER, uri });
    const done = await waitOperation(server, res.body.id);
    assert.equal(done.response.status, "READY");
    // The Compute Image has no checksum field; the catalog keeps them for the other dialects.
    // Verify directly against the catalog so the pipeline's digests are proven here.
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(path.join(server.dataDir, "vitrine.sqlite"), { readonly: true });
    const row = db
      .prepare(
        "select checksum_md5, checksum_sha512, size, virtual_size, disk_format from images where id = ?",
      )
      .get(done.response.id) as Record<string, unknown>;
    db.close();
    assert.equal(row.checksum_md5, fixture.md5);
    assert.equal(row.checksum_sha512, fixture.sha512);
    assert.equal(row.size, fixture.size);
    assert.equal(row.virtual_size, fixture.virtualSize);
    assert.equal(row.disk_format, "qcow2");
  });

  test("a source in another format (raw) ends the operation with INVALID_ARGUMENT and the image in ERROR", async () => {
    const uri = files.serve("plain.raw", rawDisk("plain", 4));
    const res = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      name: "raw-refused",
      uri,
    });
    assert.equal(res.status, 200);
    const done = await waitOperation(server, res.body.id);
    assert.equal(done.error.code, 3);
    assert.match(done.error.message, /raw format; accepted formats are qcow2, vmdk, vhd/);
    assert.equal(done.response, undefined);
    const img = await server.request("GET", `/compute/v1/images/${res.body.metadata.imageId}`);
    assert.equal(img.body.status, "ERROR");
  });

  test("a URI that answers 404 ends with NOT_FOUND; an unreachable one with UNAVAILABLE", async () => {
    const missing = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      uri: `${files.url}/files/nothing.qcow2`,
    });
    const d1 = await waitOperation(server, missing.body.id);
    assert.equal(d1.error.code, 5);
    assert.match(d1.error.message, /HTTP 404/);
    const refused = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      uri: "http://127.0.0.1:1/x.qcow2",
    });
    const d2 = await waitOperation(server, refused.body.id);
    assert.equal(d2.error.code, 14);
  });

  test("redirects are followed", async () => {
    const fixture = image("qcow2", 8);
    files.serve("redir.qcow2", fixture.path);
    const res = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      uri: `${files.url}/redirect/redir.qcow2`,
    });
    const done = await waitOperation(server, res.body.id);
    assert.equal(done.response?.status, "READY", JSON.stringify(done.error));
    assert.equal(done.response.storageSize, String(fixture.size));
  });

  test("from another image: shares the bytes, inherits os, productIds and minDiskSize", async () => {
    const fixture = image("qcow2", 8);
    const uri = files.serve("parent.qcow2", fixture.path);
    const parentOp = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      name: "parent",
      uri,
      os: { type: "WINDOWS" },
      productIds: ["license-1"],
      minDiskSize: "2147483648",
    });
    const parent = (await waitOperation(server, parentOp.body.id)).response;
    assert.equal(parent.minDiskSize, "2147483648");
    const childOp = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      name: "child",
      imageId: parent.id,
    });
    assert.equal(childOp.status, 200, childOp.text);
    const child = (await waitOperation(server, childOp.body.id)).response;
    assert.equal(child.status, "READY");
    assert.deepEqual(child.os, { type: "WINDOWS" });
    assert.deepEqual(child.productIds, ["license-1"]);
    assert.equal(child.minDiskSize, "2147483648");
    assert.equal(child.storageSize, parent.storageSize);
    const blobFiles = countFiles(path.join(server.dataDir, "blobs"));
    const grandchild = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      imageId: child.id,
      os: { type: "LINUX" },
    });
    const gc = (await waitOperation(server, grandchild.body.id)).response;
    assert.deepEqual(gc.os, { type: "LINUX" }, "a given os overrides the inherited one");
    assert.equal(countFiles(path.join(server.dataDir, "blobs")), blobFiles, "no second copy of the data");
  });

  test("from an unknown image: NOT_FOUND at once", async () => {
    const res = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      imageId: "fd8nonexistent000000",
    });
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 5);
  });

  test("from a disk and from a snapshot in the configured directories", async () => {
    const qcow = image("qcow2", 8);
    fs.copyFileSync(qcow.path, path.join(disksDir, "disk-1.qcow2"));
    fs.copyFileSync(rawDisk("snap", 4), path.join(snapshotsDir, "snap-1.raw"));
    const fromDisk = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      name: "from-disk",
      diskId: "disk-1",
    });
    const d = await waitOperation(server, fromDisk.body.id);
    assert.equal(d.response?.status, "READY", JSON.stringify(d.error));
    assert.equal(d.response.storageSize, String(qcow.size));
    const fromSnap = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      name: "from-snap",
      snapshotId: "snap-1",
    });
    const s = await waitOperation(server, fromSnap.body.id);
    assert.equal(s.response?.status, "READY", JSON.stringify(s.error));
    assert.equal(s.response.storageSize, String(4 * 1024 * 1024));
  });

  test("from an unknown disk or snapshot: NOT_FOUND in the operation error", async () => {
    for (const body of [{ diskId: "no-such-disk" }, { snapshotId: "no-such-snap" }]) {
      const res = await server.request("POST", "/compute/v1/images", { folderId: FOLDER, ...body });
      assert.equal(res.status, 200);
      const done = await waitOperation(server, res.body.id);
      assert.equal(done.error.code, 5);
      assert.match(done.error.message, /not found/);
    }
  });

  test("a requested minDiskSize below the image's virtual size fails the operation", async () => {
    const fixture = image("qcow2", 8);
    const uri = files.serve("small-min.qcow2", fixture.path);
    const res = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      uri,
      minDiskSize: 4194304,
    });
    const done = await waitOperation(server, res.body.id);
    assert.equal(done.error.code, 3);
    assert.match(done.error.message, /minDiskSize/);
  });

  test("names are unique in the folder: ALREADY_EXISTS", async () => {
    const uri = files.serve("dup.qcow2", image("qcow2", 8).path);
    const first = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      name: "dup-name",
      uri,
    });
    assert.equal(first.status, 200);
    const second = await server.request("POST", "/compute/v1/images", {
      folderId: FOLDER,
      name: "dup-name",
      uri,
    });
    assert.equal(second.status, 409);
    assert.equal(second.body.code, 6);
    const elsewhere = await server.request("POST", "/compute/v1/images", {
      folderId: "other-folder",
      name: "dup-name",
      uri,
    });
    assert.equal(elsewhere.status, 200, "the same name in another folder is fine");
  });

  test("Idempotency-Key replays return the same operation", async () => {
    const uri = files.serve("idem.qcow2", image("qcow2", 8).path);
    const headers = { "idempotency-key": "6f1c2b9e-0000-4000-8000-000000000001" };
    const a = await server.request(
      "POST",
      "/compute/v1/images",
      { folderId: FOLDER, name: "idem", uri },
      headers,
    );
    const b = await server.request(
      "POST",
      "/compute/v1/images",
      { folderId: FOLDER, name: "idem", uri },
      headers,
    );
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(a.body.id, b.body.id);
  });
});

function countFiles(dir: string): number {
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) n++;
  return n;
}
