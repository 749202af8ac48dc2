import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { qemuImg } from "../helpers/fixtures.js";
import { osRequest } from "../helpers/openstack.js";
import {
  type RunningServer,
  eventually,
  pendingBlobFiles,
  startServer,
  tempDir,
  waitOperation,
} from "../helpers/server.js";
import { TEST_BACKEND } from "../helpers/test-backend.js";

const MIB = 1024 * 1024;

/** Whether a small tmpfs can be mounted here (root on Linux): the way to fill a disk for real. */
function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = tempDir("mount-probe");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe]);
    return true;
  } catch {
    return false;
  }
}

function randomFile(file: string, bytes: number): string {
  const data = Buffer.alloc(bytes);
  randomFillSync(data);
  fs.writeFileSync(file, data);
  return file;
}

/**
 * A full disk under the data directory (a 12 MiB tmpfs): uploads and imports that do not fit are
 * refused at once in each dialect's words (413 in OpenStack, RESOURCE_EXHAUSTED in Compute),
 * the real cause is logged, nothing is left half-stored, and the service keeps serving.
 */
describe("A full disk", { skip: TEST_BACKEND !== "embedded" || !canMount() }, () => {
  let dataDir: string;
  let server: RunningServer;
  let files: FileServer;
  let work: string;

  before(async () => {
    dataDir = tempDir("full");
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=12m", "tmpfs", dataDir]);
    server = await startServer({ dataDir, env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    files = await startFileServer();
    work = tempDir("full-fixtures");
  });
  after(async () => {
    await server?.stop();
    await files?.close();
    execFileSync("umount", [dataDir]);
  });

  it("an OpenStack upload larger than the free space is 413, the image queued again, the cause logged", async () => {
    const created = await osRequest(server, "POST", "/v2/images", {
      name: "too-big",
      disk_format: "raw",
      container_format: "bare",
    });
    const started = Date.now();
    const put = await fetch(`${server.url}/v2/images/${created.body.id}/file`, {
      method: "PUT",
      headers: {
        "x-auth-token": server.token,
        "content-type": "application/octet-stream",
        accept: "application/json",
      },
      body: fs.readFileSync(randomFile(path.join(work, "big.raw"), 16 * MIB)),
    });
    assert.equal(put.status, 413);
    assert.equal(((await put.json()) as { message: string }).message, "Image storage media is full.");
    assert.ok(Date.now() - started < 10_000, "answered at once");
    const image = await osRequest(server, "GET", `/v2/images/${created.body.id}`);
    assert.equal(image.body.status, "queued");
    assert.deepEqual(pendingBlobFiles(dataDir), []);
    // The log line is written as the answer goes out: under load the answer may arrive first.
    const logged = await eventually(
      async () => server.logs.find((l) => l.msg === "request failed" && l.level === 50),
      5_000,
      "the request's failure in the log",
    );
    assert.match(JSON.stringify(logged.err ?? {}), /ENOSPC/, "the real cause is in the log");
  });

  it("a Compute import that does not fit fails with RESOURCE_EXHAUSTED; small ones still work", async () => {
    const raw = randomFile(path.join(work, "import.raw"), 16 * MIB);
    const qcow2 = path.join(work, "import.qcow2");
    qemuImg("convert", "-f", "raw", "-O", "qcow2", raw, qcow2);
    const uri = files.serve("import.qcow2", qcow2);
    const op = await server.request("POST", "/compute/v1/images", { folderId: "full", name: "big", uri });
    assert.equal(op.status, 200);
    const done = await waitOperation(server, op.body.id);
    assert.equal(done.error?.code, 8, JSON.stringify(done));
    assert.match(done.error.message, /storage is full/);

    const small = path.join(work, "small.qcow2");
    qemuImg("create", "-f", "qcow2", small, "64M");
    const ok = await server.request("POST", "/compute/v1/images", {
      folderId: "full",
      name: "small",
      uri: files.serve("small.qcow2", small),
    });
    const fine = await waitOperation(server, ok.body.id);
    assert.equal(fine.error, undefined, JSON.stringify(fine));
  });

  it("metadata writes on a full disk are refused in each dialect's words, never a 500", async () => {
    const filler = path.join(dataDir, "filler");
    try {
      // Fill what is left, then create until the catalog cannot grow.
      try {
        randomFile(filler, 12 * MIB);
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, "ENOSPC");
      }
      const statuses = new Set<number>();
      const properties = Object.fromEntries(Array.from({ length: 40 }, (_, p) => [`p${p}`, "x".repeat(255)]));
      for (let i = 0; i < 300; i++) {
        const res = await osRequest(server, "POST", "/v2/images", {
          name: `m${i}`,
          disk_format: "raw",
          container_format: "bare",
          ...properties,
        });
        statuses.add(res.status);
        if (res.status === 413) {
          assert.equal(res.body.message, "Image storage media is full.");
          break;
        }
      }
      assert.ok(statuses.has(413), "refused once the disk is full");
      assert.ok(
        [...statuses].every((s) => s === 201 || s === 413),
        [...statuses].join(","),
      );
      const compute = await server.request("POST", "/compute/v1/images", {
        folderId: "full",
        name: "while-full",
        uri: "http://127.0.0.1:1/x.qcow2",
      });
      assert.ok([200, 507].includes(compute.status), `${compute.status} ${compute.text}`);
      if (compute.status === 507) assert.equal(compute.body.code, 8);
    } finally {
      fs.rmSync(filler, { force: true });
    }
    const after = await osRequest(server, "POST", "/v2/images", {
      name: "after",
      disk_format: "raw",
      container_format: "bare",
    });
    assert.equal(after.status, 201, "space freed, the service carries on");
  });
});
