import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { createReadyImage } from "../helpers/compute.js";
import { image } from "../helpers/fixtures.js";
import { createOsImage, putData } from "../helpers/openstack.js";
import { CLI, type RunningServer, startServer } from "../helpers/server.js";

const run = promisify(execFile);

interface Report {
  images: number;
  blobs: number;
  bytes: number;
  verified: boolean;
  findings: {
    kind: string;
    images: string[];
    uuids: string[];
    blob: string;
    detail: string;
    removed?: boolean;
  }[];
}

/**
 * `vitrine doctor` on a real installation, live and offline: a blob deleted, one corrupted and
 * one truncated by hand, and orphans left in the store are all found (corruption only with
 * --verify, which re-hashes every blob); --repair removes only orphans proven nobody's.
 */
describe("vitrine doctor", () => {
  let server: RunningServer;
  const ids: Record<"missing" | "corrupt" | "truncated" | "healthy", string> = {
    missing: "",
    corrupt: "",
    truncated: "",
    healthy: "",
  };
  const blobFile: Record<string, string> = {};
  let sharedCopy = "";

  const doctor = async (...args: string[]): Promise<{ code: number; report: Report; stderr: string }> => {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [CLI, "doctor", "--data-dir", server.dataDir, "--format", "json", ...args],
        {
          env: { ...process.env, ...server.env },
        },
      );
      return { code: 0, report: JSON.parse(stdout) as Report, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, report: JSON.parse(e.stdout) as Report, stderr: e.stderr };
    }
  };

  before(async () => {
    server = await startServer();
    const fixtures = {
      missing: image("qcow2", 8),
      corrupt: image("qcow2", 16),
      truncated: image("vmdk", 8),
      healthy: image("qcow2", 24),
    };
    for (const [role, fixture] of Object.entries(fixtures) as [keyof typeof ids, { path: string }][]) {
      const created = await createOsImage(server, {
        name: role,
        owner: "doctor",
        disk_format: role === "truncated" ? "vmdk" : "qcow2",
        container_format: "bare",
      });
      assert.equal((await putData(server, created.id, fixture.path)).status, 204);
      ids[role] = created.id;
      const locations = await server.request("GET", `/v2/images/${created.id}/locations`);
      blobFile[role] = fileURLToPath(locations.body[0].url as string);
    }
    // An image made from another shares its blob: one blob, two images.
    const compute = await server.request("GET", `/compute/v1/images/${ids.healthy}`);
    sharedCopy = (
      await createReadyImage(server, { folderId: "doctor", name: "copy", imageId: compute.body.id })
    ).id;
  });

  after(async () => {
    await server?.stop();
  });

  test("a healthy installation, checked live: no findings, exit 0", async () => {
    const { code, report } = await doctor("--verify");
    assert.equal(code, 0, JSON.stringify(report));
    assert.deepEqual(report.findings, []);
    assert.equal(report.images, 5);
    assert.equal(report.blobs, 4);
    assert.equal(report.verified, true);
  });

  test("a deleted, a corrupted and a truncated blob, and orphans, found; corruption only with --verify", async () => {
    fs.rmSync(blobFile.missing!);
    const corrupt = fs.openSync(blobFile.corrupt!, "r+");
    fs.writeSync(corrupt, Buffer.from("garbage!"), 0, 8, Math.floor(fs.statSync(blobFile.corrupt!).size / 2));
    fs.closeSync(corrupt);
    fs.truncateSync(blobFile.truncated!, fs.statSync(blobFile.truncated!).size - 512);
    // Orphans: bytes in the store that no image names; one old, one just written.
    const orphanOld = path.join(path.dirname(blobFile.healthy!), "a".repeat(64));
    const orphanNew = path.join(path.dirname(blobFile.healthy!), "b".repeat(64));
    fs.copyFileSync(blobFile.healthy!, orphanOld);
    fs.copyFileSync(blobFile.healthy!, orphanNew);
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(orphanOld, twoHoursAgo, twoHoursAgo);
    await server.stop();

    const quick = await doctor();
    assert.equal(quick.code, 1);
    const kinds = (r: Report) => r.findings.map((f) => `${f.kind} ${f.uuids.join(",")}`).sort();
    assert.deepEqual(
      kinds(quick.report),
      [`missing ${ids.missing}`, "orphan ", "orphan ", `size-mismatch ${ids.truncated}`].sort(),
    );

    const full = await doctor("--verify");
    assert.equal(full.code, 1);
    assert.deepEqual(kinds(full.report), [...kinds(quick.report), `corrupt ${ids.corrupt}`].sort());
    assert.match(full.report.findings.find((f) => f.kind === "corrupt")!.detail, /SHA-512/);

    const repaired = await doctor("--repair");
    const orphans = repaired.report.findings.filter((f) => f.kind === "orphan");
    assert.deepEqual(orphans.map((o) => [path.basename(o.blob), o.removed]).sort(), [
      ["a".repeat(64), true],
      ["b".repeat(64), false],
    ]);
    assert.ok(!fs.existsSync(orphanOld));
    assert.ok(fs.existsSync(orphanNew), "a young orphan may be an ingest a moment from being named: kept");
    assert.ok(fs.existsSync(blobFile.healthy!), "blobs images name are never touched");
    assert.equal(repaired.code, 1, "the missing, truncated and young orphan remain");
    assert.ok(
      !JSON.stringify(repaired.report).includes(sharedCopy),
      "the healthy shared blob is not reported",
    );
  });
});

describe("vitrine doctor: abandoned CLI uploads, and no installation", () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  const doctorIn = async (cwd: string, args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [CLI, "doctor", "--format", "json", ...args], {
      cwd,
      env: { ...process.env, ...server.env, ...env },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );

  test("a hidden upload image a killed client left is reported once idle, and --repair removes it with its bytes", async () => {
    const staged = { owner: "doctor-cli", os_hidden: true, vitrine_cli_upload: "true", disk_format: "qcow2" };
    const withData = await createOsImage(server, { ...staged, name: "vitrine-cli-upload-a" });
    assert.equal((await putData(server, withData.id, image("qcow2", 8).path)).status, 204);
    const blob = fileURLToPath(
      (await server.request("GET", `/v2/images/${withData.id}/locations`)).body[0].url,
    );
    const empty = await createOsImage(server, { ...staged, name: "vitrine-cli-upload-b" });
    const ordinary = await createOsImage(server, { owner: "doctor-cli", name: "kept" });
    const args = ["--data-dir", server.dataDir];

    const young = await doctorIn(server.dataDir, args);
    assert.equal(young.code, 0, "younger than the idle timeout: a client may still be using it");
    const idle = await doctorIn(server.dataDir, args, { VITRINE_IDLE_TIMEOUT_SECONDS: "0" });
    assert.equal(idle.code, 1);
    const found = (JSON.parse(idle.stdout) as Report).findings;
    assert.deepEqual(
      found.map((f) => `${f.kind} ${f.uuids.join()}`).sort(),
      [`abandoned-upload ${empty.id}`, `abandoned-upload ${withData.id}`].sort(),
    );

    const repaired = await doctorIn(server.dataDir, [...args, "--repair"], {
      VITRINE_IDLE_TIMEOUT_SECONDS: "0",
    });
    assert.equal(repaired.code, 0, repaired.stdout);
    for (const id of [withData.id, empty.id])
      assert.equal((await server.request("GET", `/v2/images/${id}`)).status, 404);
    assert.equal((await server.request("GET", `/v2/images/${ordinary.id}`)).status, 200);
    assert.ok(!fs.existsSync(blob), "its bytes are gone too");
  });

  test("without an installation it says so and creates nothing", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "vitrine-doctor-empty-"));
    const result = await doctorIn(empty, []);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /no Vitrine installation found in .*vitrine-data/);
    assert.doesNotMatch(result.stderr, /no such table/);
    assert.deepEqual(fs.readdirSync(empty), [], "nothing created");
  });
});
