import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { putData } from "../helpers/openstack.js";
import { eventually, pendingBlobFiles, startServer, tempDir, waitOperation } from "../helpers/server.js";

/**
 * Conversion under kills and cancels (README "Conversion and export"), on a spawned server: a
 * node SIGKILLed while qemu-img runs leaves a scratch directory and a qemu-img behind; the next
 * start stops that qemu-img and removes the directory, the operation resumes and the image ends
 * READY in the target format with the guest's disk intact. A cancel stops qemu-img at once.
 */
const ALLOW = { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" };

/** qemu-img processes working in `dir` (their working directory is the conversion's scratch). */
function qemuImgsIn(dir: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return (
          fs.readlinkSync(`/proc/${p}/cwd`).startsWith(dir) &&
          fs.readFileSync(`/proc/${p}/comm`, "utf8").trim() === "qemu-img"
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The blob directory's pending data can be looked at (on S3, VITRINE_TEST_BACKEND=pg-s3, the store's own tests do). */
const onDirectoryStore = (dataDir: string): boolean => fs.existsSync(path.join(dataDir, "blobs", ".pending"));

/** Whether `pid` still runs (a zombie nobody reaped has stopped: init here may not reap). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("conversion durability", () => {
  let files: FileServer;
  let source: string;
  const work = tempDir("conversion-kill");
  before(async () => {
    // Random data: streamOptimized VMDK deflates every cluster, so the conversion takes seconds.
    const raw = path.join(work, "random.raw");
    execFileSync("bash", ["-c", `head -c 96M /dev/urandom > ${raw}`]);
    source = path.join(work, "random.qcow2");
    execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, source]);
    fs.rmSync(raw);
    files = await startFileServer();
    files.serve("random.qcow2", source);
  });
  after(async () => files.close());

  const converting = async (server: Awaited<ReturnType<typeof startServer>>, id: string) =>
    eventually(
      async () => (await server.request("GET", `/operations/${id}`)).body.progress?.stage === "converting",
      30_000,
      "the conversion to start",
    );

  test("SIGKILL during qemu-img: the restart stops the orphan, removes its scratch, and the image ends READY", async () => {
    const dataDir = tempDir("conv-crash");
    const scratch = path.join(dataDir, "scratch");
    const env = { ...ALLOW, VITRINE_OPERATION_LEASE_SECONDS: "1", VITRINE_CONVERT_TO: "vmdk" };
    const first = await startServer({ dataDir, env });
    const res = await first.request("POST", "/compute/v1/images", {
      folderId: "f",
      name: "converted",
      uri: `${files.url}/files/random.qcow2`,
    });
    assert.equal(res.status, 200, res.text);
    await converting(first, res.body.id);
    const progress = (await first.request("GET", `/operations/${res.body.id}`)).body.progress;
    assert.equal(progress.bytesTotal, String(96 * 1024 * 1024), "converting counts the guest's disk");
    assert.equal(fs.readdirSync(scratch).length, 1, "the conversion works in a scratch directory");
    await first.stop("SIGKILL");
    const orphans = qemuImgsIn(scratch);
    assert.equal(orphans.length, 1, "the killed node's qemu-img runs on (nothing tells it its parent died)");

    const second = await startServer({ dataDir, env });
    try {
      for (const pid of orphans) assert.ok(!isRunning(pid), `the orphaned qemu-img ${pid} was stopped`);
      assert.ok(
        second.logs.some((l) => String(l.msg).includes("removed the scratch space")),
        "the sweep is in the log",
      );
      const done = await waitOperation(second, res.body.id, 120_000);
      assert.equal(done.error, undefined, JSON.stringify(done.error));
      assert.equal(done.response.status, "READY");
      const img = (await second.request("GET", `/v2/images/${done.response.id}`)).body;
      assert.equal(img.disk_format, "vmdk");
      assert.deepEqual(fs.readdirSync(scratch), [], "no scratch space left");
      if (onDirectoryStore(dataDir)) assert.deepEqual(pendingBlobFiles(dataDir), [], "no partial data left");
      const out = path.join(work, "out.vmdk");
      const file = await fetch(`${second.url}/v2/images/${img.id}/file`, {
        headers: { authorization: `Bearer ${second.token}` },
      });
      fs.writeFileSync(out, Buffer.from(await file.arrayBuffer()));
      execFileSync("qemu-img", ["compare", "-q", "-f", "qcow2", "-F", "vmdk", source, out]);
    } finally {
      await second.stop();
    }
  });

  test("an upload whose conversion outlasts the idle timeout and the rate guard's window still answers 204", async () => {
    // Conversion to VMDK takes seconds here; the connection may be silent 1 s, an upload must
    // average 1 MB/s over 1 s: both judge the client while it sends, not the service after.
    const server = await startServer({
      env: {
        VITRINE_CONVERT_TO: "vmdk",
        VITRINE_IDLE_TIMEOUT_SECONDS: "1",
        VITRINE_UPLOAD_MIN_RATE: "1000000",
        VITRINE_UPLOAD_RATE_GRACE_SECONDS: "1",
      },
    });
    try {
      const made = await server.request("POST", "/v2/images", {
        name: "slow-conversion",
        disk_format: "qcow2",
        container_format: "bare",
      });
      assert.equal(made.status, 201, made.text);
      const started = Date.now();
      const put = await putData(server, made.body.id, source);
      assert.equal(put.status, 204, put.text);
      assert.ok(Date.now() - started > 1500, "the conversion took longer than the idle timeout");
      const img = (await server.request("GET", `/v2/images/${made.body.id}`)).body;
      assert.equal(img.status, "active");
      assert.equal(img.disk_format, "vmdk");
      assert.equal(img.vitrine_original_disk_format, "qcow2");
    } finally {
      await server.stop();
    }
  });

  test("cancelling during qemu-img stops it, leaves no scratch and no image", async () => {
    const dataDir = tempDir("conv-cancel");
    const scratch = path.join(dataDir, "scratch");
    const server = await startServer({ dataDir, env: { ...ALLOW, VITRINE_CONVERT_TO: "vmdk" } });
    try {
      const res = await server.request("POST", "/compute/v1/images", {
        folderId: "f",
        uri: `${files.url}/files/random.qcow2`,
      });
      await converting(server, res.body.id);
      const cancel = await server.request("POST", `/operations/${res.body.id}:cancel`);
      assert.equal(cancel.status, 200, cancel.text);
      assert.equal(cancel.body.error.code, 1);
      await eventually(async () => qemuImgsIn(scratch).length === 0, 5_000, "qemu-img to stop");
      await eventually(
        async () => fs.readdirSync(scratch).length === 0,
        5_000,
        "the scratch space to be freed",
      );
      if (onDirectoryStore(dataDir)) assert.deepEqual(pendingBlobFiles(dataDir), []);
      const img = await server.request("GET", `/compute/v1/images/${res.body.metadata.imageId}`);
      assert.equal(img.status, 404);
    } finally {
      await server.stop();
    }
  });
});
