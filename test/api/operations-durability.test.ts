import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { image } from "../helpers/fixtures.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { eventually, pendingBlobFiles, startServer, tempDir, waitOperation } from "../helpers/server.js";

const ALLOW = { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" };

// An import "writing" is one with its pending blob open: a slow source's first bytes are staged in
// memory (storage/blob/staged-file.ts) and reach the file a stage at a time.
function committedBlobs(dataDir: string): number {
  const root = path.join(dataDir, "blobs");
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.parentPath.includes(".pending") && e.name !== ".store-id").length;
}

describe("Operations: cancellation, crash recovery and graceful shutdown", () => {
  let slow: FileServer;
  let fixture: ReturnType<typeof image>;

  before(async () => {
    // ~640 KB/s: an 8 MiB qcow2 (about 1.2 MB) takes a couple of seconds to arrive.
    slow = await startFileServer({ chunkBytes: 64 * 1024, intervalMs: 100 });
    fixture = image("qcow2", 8);
    slow.serve("slow.qcow2", fixture.path);
  });
  after(async () => slow.close());

  test("cancelling a running import stops it promptly, frees what it wrote and ends with CANCELLED", async () => {
    const verySlow = await startFileServer({ chunkBytes: 8 * 1024, intervalMs: 100 });
    verySlow.serve("trickle.qcow2", fixture.path);
    const server = await startServer({ env: ALLOW });
    try {
      const res = await server.request("POST", "/compute/v1/images", {
        folderId: "f",
        name: "to-cancel",
        uri: `${verySlow.url}/slow/trickle.qcow2`,
      });
      assert.equal(res.status, 200);
      await eventually(
        async () => pendingBlobFiles(server.dataDir).length > 0,
        10_000,
        "the import to open its pending blob",
      );
      const started = Date.now();
      const cancel = await server.request("POST", `/operations/${res.body.id}:cancel`);
      assert.equal(cancel.status, 200, cancel.text);
      assert.ok(Date.now() - started < 3000, "cancel answers promptly");
      assert.equal(cancel.body.done, true);
      assert.equal(cancel.body.error.code, 1);
      assert.equal(cancel.body.response, undefined);
      assert.deepEqual(pendingBlobFiles(server.dataDir), [], "no partial data left");
      assert.equal(committedBlobs(server.dataDir), 0);
      const img = await server.request("GET", `/compute/v1/images/${res.body.metadata.imageId}`);
      assert.equal(img.status, 404, "a cancelled create leaves no image");
      const again = await server.request("POST", `/operations/${res.body.id}:cancel`);
      assert.equal(again.status, 400);
      assert.equal(again.body.code, 9, "cancelling a finished operation is FAILED_PRECONDITION");
    } finally {
      await server.stop();
      await verySlow.close();
    }
  });

  test("a create still waiting for a worker can be cancelled at once", async () => {
    const server = await startServer({ env: { ...ALLOW, VITRINE_OPERATION_CONCURRENCY: "1" } });
    try {
      const verySlow = await startFileServer({ chunkBytes: 8 * 1024, intervalMs: 100 });
      verySlow.serve("t.qcow2", fixture.path);
      const first = await server.request("POST", "/compute/v1/images", {
        folderId: "f",
        uri: `${verySlow.url}/slow/t.qcow2`,
      });
      const queued = await server.request("POST", "/compute/v1/images", {
        folderId: "f",
        uri: `${verySlow.url}/slow/t.qcow2`,
      });
      await eventually(
        async () => pendingBlobFiles(server.dataDir).length > 0,
        10_000,
        "the first import to occupy the only worker",
      );
      const cancelQueued = await server.request("POST", `/operations/${queued.body.id}:cancel`);
      assert.equal(cancelQueued.body.done, true);
      assert.equal(cancelQueued.body.error.code, 1);
      const img = await server.request("GET", `/compute/v1/images/${queued.body.metadata.imageId}`);
      assert.equal(img.status, 404);
      await server.request("POST", `/operations/${first.body.id}:cancel`);
      await verySlow.close();
    } finally {
      await server.stop();
    }
  });

  test("SIGKILL in the middle of an import: after restart the operation resumes, the image ends READY, no partial blob is left", async () => {
    const dataDir = tempDir("crash");
    const env = { ...ALLOW, VITRINE_OPERATION_LEASE_SECONDS: "1" };
    const first = await startServer({ dataDir, env });
    const res = await first.request("POST", "/compute/v1/images", {
      folderId: "f",
      name: "survivor",
      uri: `${slow.url}/slow/slow.qcow2`,
    });
    assert.equal(res.status, 200);
    await eventually(
      async () => pendingBlobFiles(dataDir).length > 0,
      10_000,
      "the import to open its pending blob",
    );
    await first.stop("SIGKILL");
    assert.ok(pendingBlobFiles(dataDir).length > 0, "the crash left partial data behind (to be cleaned)");

    const second = await startServer({ dataDir, env });
    try {
      const img = await second.request("GET", `/compute/v1/images/${res.body.metadata.imageId}`);
      assert.equal(img.body.status, "CREATING");
      const done = await waitOperation(second, res.body.id, 30_000);
      assert.equal(done.error, undefined, JSON.stringify(done.error));
      assert.equal(done.response.status, "READY");
      assert.equal(done.response.storageSize, String(fixture.size));
      assert.deepEqual(pendingBlobFiles(dataDir), [], "partial data of the killed attempt is gone");
      assert.equal(committedBlobs(dataDir), 1, "exactly one blob: the resumed import's");
    } finally {
      await second.stop();
    }
  });

  test("an import interrupted more often than allowed ends with a clear error and the image in ERROR", async () => {
    const dataDir = tempDir("crash-limit");
    const env = { ...ALLOW, VITRINE_OPERATION_LEASE_SECONDS: "1", VITRINE_OPERATION_MAX_ATTEMPTS: "1" };
    const first = await startServer({ dataDir, env });
    const res = await first.request("POST", "/compute/v1/images", {
      folderId: "f",
      uri: `${slow.url}/slow/slow.qcow2`,
    });
    await eventually(
      async () => pendingBlobFiles(dataDir).length > 0,
      10_000,
      "the import to open its pending blob",
    );
    await first.stop("SIGKILL");
    const second = await startServer({ dataDir, env });
    try {
      const done = await waitOperation(second, res.body.id, 30_000);
      assert.equal(done.error.code, 13);
      assert.match(done.error.message, /interrupted/);
      const img = await second.request("GET", `/compute/v1/images/${res.body.metadata.imageId}`);
      assert.equal(img.body.status, "ERROR");
      assert.deepEqual(pendingBlobFiles(dataDir), []);
      assert.equal(committedBlobs(dataDir), 0);
      // The operator learns of it: an error log line and a metric.
      // The line follows the operation's end by a moment (the log is written asynchronously).
      await eventually(
        async () => second.logs.some((l) => l.msg?.toString().startsWith("operation given up")),
        5000,
        "an error line in the log",
      );
      const line = second.logs.find((l) => l.msg?.toString().startsWith("operation given up"))!;
      assert.equal(line.level, 50);
      assert.equal(line.operationId, res.body.id);
      const metrics = await (await fetch(second.metricsUrl())).text();
      assert.match(metrics, /vitrine_operations_total\{kind="image\.create",outcome="given_up"\} 1/);
      assert.doesNotMatch(metrics, /vitrine_operations_running_in_process -/, "the running gauge stays >= 0");
    } finally {
      await second.stop();
    }
  });

  test("SIGTERM lets the process exit cleanly and leaves a running import resumable", async () => {
    const dataDir = tempDir("term");
    const first = await startServer({ dataDir, env: ALLOW });
    const res = await first.request("POST", "/compute/v1/images", {
      folderId: "f",
      uri: `${slow.url}/slow/slow.qcow2`,
    });
    await eventually(
      async () => pendingBlobFiles(dataDir).length > 0,
      10_000,
      "the import to open its pending blob",
    );
    const started = Date.now();
    const code = await first.stop("SIGTERM");
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 5000, "shutdown is prompt");
    assert.ok(first.logs.some((l) => l.msg === "operation released for resumption at shutdown"));
    // No lease wait: the released operation is picked up at once by the next start.
    const second = await startServer({ dataDir, env: ALLOW });
    try {
      const done = await waitOperation(second, res.body.id, 30_000);
      assert.equal(done.response?.status, "READY", JSON.stringify(done.error));
    } finally {
      await second.stop();
    }
  });

  test("URL policy: loopback and private hosts are refused unless listed, also after a redirect", async () => {
    const files = await startFileServer();
    files.serve("ok.qcow2", fixture.path);
    const port = new URL(files.url).port;
    const strict = await startServer();
    try {
      const literal = await strict.request("POST", "/compute/v1/images", {
        folderId: "f",
        uri: `${files.url}/files/ok.qcow2`,
      });
      assert.equal(literal.status, 400);
      assert.match(literal.body.message, /loopback, private or link-local/);
      for (const host of ["10.1.2.3", "192.168.0.1", "169.254.169.254", "[::1]"]) {
        const r = await strict.request("POST", "/compute/v1/images", {
          folderId: "f",
          uri: `http://${host}/x.qcow2`,
        });
        assert.equal(r.status, 400, host);
      }
      const named = await strict.request("POST", "/compute/v1/images", {
        folderId: "f",
        uri: `http://localhost:${port}/files/ok.qcow2`,
      });
      assert.equal(named.status, 200, "a host name is checked when it is resolved");
      const done = await waitOperation(strict, named.body.id);
      assert.equal(done.error.code, 3);
      assert.match(done.error.message, /loopback/);
      assert.equal(files.requests.length, 0, "no request reached the local server");
    } finally {
      await strict.stop();
    }
    const listed = await startServer({ env: ALLOW });
    try {
      const viaRedirect = await listed.request("POST", "/compute/v1/images", {
        folderId: "f",
        uri: `${files.url}/redirect/x/${encodeURIComponent(`http://localhost:${port}/files/ok.qcow2`)}`,
      });
      const done = await waitOperation(listed, viaRedirect.body.id);
      assert.equal(
        done.error?.code,
        3,
        `redirect to an unlisted loopback host is refused: ${JSON.stringify(done)}`,
      );
    } finally {
      await listed.stop();
      await files.close();
    }
  });
});
