import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { rawDisk } from "../helpers/fixtures.js";
import { createOsImage, osRequest, putData } from "../helpers/openstack.js";
import { eventually, startServer, tempDir } from "../helpers/server.js";

/** Bytes being written to a directory store's pending area. */
function pendingBytes(storeRoot: string): number {
  const dir = path.join(storeRoot, ".pending");
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

test("copy-image killed by SIGKILL mid-copy: after restart the copy goes on, ends listed, and the copy is the image's bytes", async () => {
  const dataDir = tempDir("copy-kill");
  const second = tempDir("store-second");
  const env = { VITRINE_STORES: `second=${second}`, VITRINE_OPERATION_LEASE_SECONDS: "1" };
  const file = rawDisk("copy-kill", 768);
  const sha512 = createHash("sha512");
  for await (const chunk of fs.createReadStream(file)) sha512.update(chunk as Buffer);
  const expected = sha512.digest("hex");

  const first = await startServer({ dataDir, env });
  const image = await createOsImage(first, { name: "copied", disk_format: "raw", container_format: "bare" });
  assert.equal((await putData(first, image.id, file)).status, 204);
  const copy = await osRequest(first, "POST", `/v2/images/${image.id}/import`, {
    method: { name: "copy-image" },
    stores: ["second"],
  });
  assert.equal(copy.status, 202, copy.text);
  await eventually(async () => pendingBytes(second) > 0, 20_000, "the copy to start writing");
  await first.stop("SIGKILL");
  const left = pendingBytes(second);
  assert.ok(left > 0 && left < fs.statSync(file).size, `the kill cut the copy (${left} bytes written)`);

  const again = await startServer({ dataDir, env });
  try {
    const shown = await eventually(
      async () => {
        const res = await osRequest(again, "GET", `/v2/images/${image.id}`);
        return res.body.stores === "fs,second" && res.body.os_glance_importing_to_stores === ""
          ? res.body
          : null;
      },
      60_000,
      "the copy to end",
    );
    assert.equal(shown.os_glance_failed_import, "");
    assert.equal(pendingBytes(second), 0, "the killed attempt's partial copy is gone");
    // Served from the copy alone: its bytes are the image's.
    assert.equal((await osRequest(again, "DELETE", `/v2/stores/fs/${image.id}`)).status, 204);
    const res = await fetch(`${again.url}/v2/images/${image.id}/file`, {
      headers: { "x-auth-token": again.token },
    });
    const hash = createHash("sha512");
    for await (const chunk of res.body!) hash.update(chunk as Buffer);
    assert.equal(hash.digest("hex"), expected);
  } finally {
    await again.stop();
    // Three quarters of a gigabyte each: not left behind in the temporary directory.
    for (const dir of [dataDir, second]) fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a copy cancelled while it runs stops, keeps nothing in the target store, and shows the store as failed", async () => {
  const second = tempDir("store-cancel");
  const server = await startServer({ env: { VITRINE_STORES: `second=${second}` } });
  try {
    const file = rawDisk("copy-kill", 768);
    const image = await createOsImage(server, {
      name: "cancelled",
      disk_format: "raw",
      container_format: "bare",
    });
    assert.equal((await putData(server, image.id, file)).status, 204);
    const copy = await osRequest(server, "POST", `/v2/images/${image.id}/import`, {
      method: { name: "copy-image" },
      stores: ["second"],
    });
    assert.equal(copy.status, 202, copy.text);
    await eventually(async () => pendingBytes(second) > 0, 20_000, "the copy to start writing");
    // The copy is an operation of the image's, as the Compute dialect lists them.
    const listed = await server.request("GET", `/compute/v1/images?folderId=admin&filter=name="cancelled"`);
    const computeId = listed.body.images[0].id as string;
    const ops = await server.request("GET", `/compute/v1/images/${computeId}/operations`);
    const op = (ops.body.operations as { id: string; done: boolean; description: string }[]).find(
      (o) => !o.done && /Copy/.test(o.description),
    );
    assert.ok(op, JSON.stringify(ops.body));
    const cancelled = await server.request("POST", `/operations/${op.id}:cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.body.done, true);
    assert.equal(cancelled.body.error.code, 1, "CANCELLED");
    const shown = (await osRequest(server, "GET", `/v2/images/${image.id}`)).body;
    assert.equal(shown.status, "active");
    assert.equal(shown.stores, "fs");
    assert.equal(shown.os_glance_importing_to_stores, "");
    assert.equal(shown.os_glance_failed_import, "second");
    assert.equal(pendingBytes(second), 0, "the partial copy is gone");
    const committed = fs
      .readdirSync(second, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !e.parentPath.includes(".pending") && e.name !== ".store-id");
    assert.deepEqual(committed, [], "nothing committed in the target store");
  } finally {
    await server.stop();
    for (const dir of [server.dataDir, second]) fs.rmSync(dir, { recursive: true, force: true });
  }
});
