import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fs from "node:fs";
import path from "node:path";
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { createReadyImage } from "../helpers/compute.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image as fixture, iso } from "../helpers/fixtures.js";
import { PATCH_TYPE, createOsImage, osRequest, projectToken, putData } from "../helpers/openstack.js";
import { type PgS3Servers, startPgS3Servers } from "../helpers/pg-s3.js";
import { CLI, type RunningServer, startServer, tempDir, waitOperation } from "../helpers/server.js";

/**
 * `vitrine copy`: an embedded installation (SQLite + directory) with images of every kind moves to
 * PostgreSQL + S3 and is served from there as it was; a second run copies nothing twice, and a run
 * after a partial loss restores exactly what is missing.
 */
describe("vitrine copy: embedded → PostgreSQL + S3", () => {
  let servers: PgS3Servers;
  let files: FileServer;
  let source: RunningServer;
  let databaseUrl: string;
  let bucket: string;
  /** The target installation's settings: what a node serving it needs. */
  let targetEnv: Record<string, string>;
  /** What the copy command needs beside its flags: the S3 server and credentials. */
  let s3Env: Record<string, string>;
  const md5ByName = new Map<string, string>();
  let projectB = "";
  /** A viewer's token of folder f1, issued on the source. */
  let sourceToken = "";

  before(async () => {
    [servers, files] = await Promise.all([startPgS3Servers(), startFileServer()]);
    const target = await servers.newInstallation();
    ({ databaseUrl, bucket, env: targetEnv } = target);
    const { VITRINE_DATABASE_URL: _database, VITRINE_BLOB_STORE: _blobs, ...rest } = targetEnv;
    s3Env = rest;

    source = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    const qcow2 = fixture("qcow2", 8);
    const web = await createReadyImage(source, {
      folderId: "f1",
      name: "web",
      labels: { env: "prod" },
      uri: files.serve("web.qcow2", qcow2.path),
    });
    await createReadyImage(source, { folderId: "f1", name: "web-copy", imageId: web.id });
    const bootIso = iso("copy");
    await createReadyImage(source, {
      folderId: "f1",
      name: "boot",
      uri: files.serve("boot.qcow2", qcow2.path),
    });
    const bm = await source.request("POST", "/baremetal/v1alpha/images", {
      folderId: "bm-folder",
      name: "installer",
      uri: files.serve("installer.iso", bootIso.path),
    });
    assert.equal((await waitOperation(source, bm.body.id)).error, undefined);
    projectB = "project-b";
    const os = await createOsImage(source, {
      name: "uploaded",
      disk_format: "vmdk",
      container_format: "bare",
    });
    const vmdk = fixture("vmdk", 8);
    assert.equal((await putData(source, os.id, vmdk.path)).status, 204);
    await osRequest(
      source,
      "PATCH",
      `/v2/images/${os.id}`,
      [
        { op: "add", path: "/tags", value: ["golden"] },
        { op: "add", path: "/purpose", value: "ci" },
        { op: "replace", path: "/visibility", value: "shared" },
      ],
      PATCH_TYPE,
    );
    assert.equal(
      (await osRequest(source, "POST", `/v2/images/${os.id}/members`, { member: projectB })).status,
      200,
    );
    md5ByName.set("web", qcow2.md5).set("web-copy", qcow2.md5).set("boot", qcow2.md5);
    md5ByName.set("installer", bootIso.md5).set("uploaded", vmdk.md5);
    sourceToken = projectToken(source, "f1", "viewer");
    const quota = await source.request("PATCH", "/vitrine/v1/quotas/f1", {
      limits: { image_count_total: 40 },
    });
    assert.equal(quota.status, 200);
    await source.stop();
  });

  after(async () => {
    await source?.stop();
    await files?.close();
    await servers?.stop();
  });

  const copy = () =>
    execFileSync(
      process.execPath,
      [
        CLI,
        "copy",
        "--data-dir",
        source.dataDir,
        "--to-database",
        databaseUrl,
        "--to-blob-store",
        `s3://${bucket}/vitrine`,
      ],
      { encoding: "utf8", env: { ...process.env, ...s3Env }, stdio: ["ignore", "pipe", "pipe"] },
    ).trim();

  /** What a directory holds, a level down, leaving SQLite's own -wal/-shm files aside. */
  const listing = (dir: string): string[] =>
    fs
      .readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((f) => !/-(wal|shm)$/.test(f) && f.split("/").length <= 2)
      .sort();

  it("refuses a data directory that holds no installation, and creates nothing there", () => {
    const typo = path.join(tempDir("copy-typo"), "vitrine-dta");
    const r = spawnSync(
      process.execPath,
      [
        CLI,
        "copy",
        "--data-dir",
        typo,
        "--to-database",
        databaseUrl,
        "--to-blob-store",
        `s3://${bucket}/typo`,
      ],
      {
        encoding: "utf8",
        env: { ...process.env, ...s3Env },
      },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /no Vitrine installation found in .*vitrine-dta/);
    assert.ok(!fs.existsSync(typo), "nothing created");
  });

  it("copies every blob verified and every row, then serves the images as they were", async () => {
    const before = listing(source.dataDir);
    const first = copy();
    assert.deepEqual(listing(source.dataDir), before, "the source is only read: no spool, no new files");
    // web and web-copy share one blob: four blobs for five images.
    assert.match(
      first,
      /^copied 4 blobs \(\d+ bytes\), 0 already there; rows written: subjects \d+, tokens \d+, images 5,/,
    );
    const target = await startServer({
      dataDir: tempDir("copy-target"),
      env: targetEnv,
    });
    try {
      const listed = await target.request("GET", "/v2/images?limit=100");
      assert.equal(listed.status, 200);
      assert.equal(listed.body.images.length, 5);
      for (const img of listed.body.images) {
        assert.equal(img.status, "active");
        const data = await fetch(`${target.url}/v2/images/${img.id}/file`, {
          headers: { "x-auth-token": target.token },
        });
        const md5 = createHash("md5")
          .update(Buffer.from(await data.arrayBuffer()))
          .digest("hex");
        assert.equal(md5, md5ByName.get(img.name), img.name);
      }
      const uploaded = listed.body.images.find((i: any) => i.name === "uploaded");
      assert.deepEqual(uploaded.tags, ["golden"]);
      assert.equal(uploaded.purpose, "ci");
      const members = await osRequest(target, "GET", `/v2/images/${uploaded.id}/members`);
      assert.deepEqual(
        members.body.members.map((m: any) => m.member_id),
        [projectB],
      );
      const compute = await target.request("GET", "/compute/v1/images?folderId=f1&orderBy=name");
      assert.deepEqual(
        compute.body.images.map((i: any) => [i.name, i.status]),
        [
          ["boot", "READY"],
          ["web", "READY"],
          ["web-copy", "READY"],
        ],
      );
      assert.deepEqual(compute.body.images[1].labels, { env: "prod" });
      // The limits an admin set came along, and the usage is the copied images'.
      const quota = await target.request("GET", "/vitrine/v1/quotas/f1");
      assert.deepEqual(quota.body.quotas.image_count_total, { limit: "40", usage: "3" });
      // Tokens and bindings came along: a project token made on the source works on the target.
      const auth = { authorization: `Bearer ${sourceToken}` };
      assert.equal(
        (await target.request("GET", "/compute/v1/images?folderId=f1", undefined, auth)).status,
        200,
      );
      // The binding is a viewer's: reading yes, changing no.
      const refused = await target.request(
        "DELETE",
        `/compute/v1/images/${compute.body.images[0].id}`,
        undefined,
        auth,
      );
      assert.equal(refused.status, 403);
    } finally {
      await target.stop();
    }
  });

  it("a second run copies nothing twice; a run after a partial loss restores only what is missing", async () => {
    assert.match(
      copy(),
      /^copied 0 blobs \(0 bytes\), 4 already there; rows written: subjects 0, tokens 0, images 0,/,
    );
    // Lose one blob and every image row in the target, as an interrupted first run would have.
    const blobs = execFileSync(
      "psql",
      [databaseUrl, "-Atc", "select distinct blob_key from images order by 1"],
      { encoding: "utf8" },
    )
      .trim()
      .split("\n");
    await servers.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `vitrine/blobs/${blobs[0]}` }));
    execFileSync("psql", [
      databaseUrl,
      "-qc",
      "delete from image_tags; delete from image_properties; delete from image_members; delete from images",
    ]);
    assert.match(
      copy(),
      /^copied 1 blobs \(\d+ bytes\), 3 already there; rows written: subjects 0, tokens 0, images 5, image_tags 1,/,
    );
  });

  it("refuses a blob whose bytes no longer match the catalog, and commits nothing of it", async () => {
    const blobs = execFileSync(
      "psql",
      [databaseUrl, "-Atc", "select distinct blob_key from images order by 1"],
      {
        encoding: "utf8",
      },
    )
      .trim()
      .split("\n");
    // Corrupt one source blob on disk (the directory store keys files by the SHA-256 of the key).
    const digest = createHash("sha256").update(blobs[1]!).digest("hex");
    const file = path.join(source.dataDir, "blobs", digest.slice(0, 2), digest.slice(2, 4), digest);
    const bytes = fs.readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    fs.writeFileSync(file, bytes);
    await servers.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `vitrine/blobs/${blobs[1]}` }));
    assert.throws(() => copy(), /SHA-512/);
    const pending = await servers.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "vitrine/pending/" }),
    );
    assert.deepEqual(pending.Contents ?? [], []);
    const head = await servers.s3
      .send(new HeadObjectCommand({ Bucket: bucket, Key: `vitrine/blobs/${blobs[1]}` }))
      .then(
        () => "present",
        () => "absent",
      );
    assert.equal(head, "absent");
  });
});
