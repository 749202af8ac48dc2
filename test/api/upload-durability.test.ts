import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, test } from "node:test";
import { image } from "../helpers/fixtures.js";
import { osRequest } from "../helpers/openstack.js";
import {
  type RunningServer,
  blobFiles,
  eventually,
  pendingBlobFiles,
  startServer,
} from "../helpers/server.js";
import { TEST_BACKEND } from "../helpers/test-backend.js";

/**
 * An OpenStack upload (PUT file or stage) whose server is SIGKILLed mid-stream: once the node is
 * known gone (at the restart of a node on the same machine, or when its record ages on another
 * node), the image is `queued` again as in Glance, its pending data is removed, and it takes a
 * new upload.
 */
describe("Uploads survive the death of their server", { skip: TEST_BACKEND !== "embedded" }, () => {
  /** Starts a PUT that sends `first` bytes, then waits (never ends). */
  function stalledPut(server: RunningServer, urlPath: string, first: Buffer): http.ClientRequest {
    const req = http.request(`${server.url}${urlPath}`, {
      method: "PUT",
      headers: { "x-auth-token": server.token, "content-type": "application/octet-stream" },
    });
    req.on("error", () => {}); // the server dies under it
    req.write(first);
    return req;
  }

  async function queuedImage(server: RunningServer, diskFormat = "qcow2"): Promise<string> {
    const res = await osRequest(server, "POST", "/v2/images", {
      name: `u-${Math.random()}`,
      disk_format: diskFormat,
      container_format: "bare",
    });
    assert.equal(res.status, 201);
    return res.body.id as string;
  }

  for (const mode of ["file", "stage"] as const) {
    test(`a SIGKILL during PUT ${mode}: queued again after restart, no data kept, uploads again`, async () => {
      const fixture = image("qcow2", 16);
      const data = fs.readFileSync(fixture.path);
      let server = await startServer();
      const { dataDir } = server;
      const id = await queuedImage(server);
      const req = stalledPut(server, `/v2/images/${id}/${mode}`, data.subarray(0, data.length >> 1));
      await eventually(
        async () => pendingBlobFiles(dataDir).length > 0,
        10_000,
        "the upload to start writing",
      );
      const during = await osRequest(server, "GET", `/v2/images/${id}`);
      assert.equal(during.body.status, mode === "file" ? "saving" : "uploading");
      await server.stop("SIGKILL");
      req.destroy();

      server = await startServer({ dataDir });
      try {
        const after = await osRequest(server, "GET", `/v2/images/${id}`);
        assert.equal(after.body.status, "queued");
        assert.equal(after.body.size, null);
        assert.deepEqual(pendingBlobFiles(dataDir), [], "the pending data is removed");
        assert.ok(server.logs.some((l) => String(l.msg).includes("queued again")));

        const again = await fetch(`${server.url}/v2/images/${id}/${mode}`, {
          method: "PUT",
          headers: { "x-auth-token": server.token, "content-type": "application/octet-stream" },
          body: data,
        });
        assert.equal(again.status, 204, await again.text());
        if (mode === "stage") {
          assert.equal((await osRequest(server, "GET", `/v2/images/${id}`)).body.status, "uploading");
          const imported = await osRequest(server, "POST", `/v2/images/${id}/import`, {
            method: { name: "glance-direct" },
          });
          assert.equal(imported.status, 202);
        }
        const done = await eventually(async () => {
          const res = await osRequest(server, "GET", `/v2/images/${id}`);
          return res.body.status === "active" ? res : null;
        });
        assert.equal(done.body.os_hash_value, createHash("sha512").update(data).digest("hex"));
      } finally {
        await server.stop();
      }
    });
  }

  test("a blob committed by an upload whose server died before recording it is removed", async () => {
    let server = await startServer();
    const { dataDir } = server;
    const id = await queuedImage(server, "raw");
    const req = stalledPut(server, `/v2/images/${id}/file`, Buffer.alloc(1024 * 1024, 1));
    await eventually(async () => pendingBlobFiles(dataDir).length > 0, 10_000, "the upload to start writing");
    await server.stop("SIGKILL");
    req.destroy();
    // What a kill between "blob committed" and "image updated" leaves: the upload's blob in place.
    const db = new Database(path.join(dataDir, "vitrine.sqlite"), { readonly: true });
    const key = String(
      db
        .prepare("select blob_key from uploads where image_id = (select id from images where uuid = ?)")
        .pluck()
        .get(id),
    );
    db.close();
    const digest = createHash("sha256").update(key).digest("hex");
    const blob = path.join(dataDir, "blobs", digest.slice(0, 2), digest.slice(2, 4), digest);
    fs.mkdirSync(path.dirname(blob), { recursive: true });
    fs.writeFileSync(blob, "committed just before the kill");
    const before = blobFiles(dataDir).committed;

    server = await startServer({ dataDir });
    try {
      assert.equal(fs.existsSync(blob), false, "the orphaned blob is removed");
      assert.equal(blobFiles(dataDir).committed, before - 1);
      assert.equal((await osRequest(server, "GET", `/v2/images/${id}`)).body.status, "queued");
    } finally {
      await server.stop();
    }
  });
});
