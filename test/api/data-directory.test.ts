import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { TEST_BACKEND } from "../helpers/test-backend.js";
import { osRequest } from "../helpers/openstack.js";
import { startServer, tempDir } from "../helpers/server.js";

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

/**
 * The data directory holds every private image and the catalog's token hashes: only the
 * service's user may read it. A token file left empty does not keep the service from starting.
 */
describe("The data directory", { skip: TEST_BACKEND !== "embedded" }, () => {
  it("is private: 0700 directories, 0600 files, and an older, looser directory is tightened", async () => {
    const dataDir = tempDir("private");
    fs.chmodSync(dataDir, 0o755);
    const server = await startServer({ dataDir });
    try {
      const created = await osRequest(server, "POST", "/v2/images", {
        name: "private",
        disk_format: "raw",
        container_format: "bare",
      });
      const put = await osRequest(server, "PUT", `/v2/images/${created.body.id}/file`, "secret bytes", {
        "content-type": "application/octet-stream",
      });
      assert.equal(put.status, 204);
      assert.ok(
        server.logs.some((l) => l.msg === "the data directory was readable by other users; made it private"),
      );
    } finally {
      await server.stop();
    }
    assert.equal(modeOf(dataDir), 0o700);
    const entries = fs.readdirSync(dataDir, { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => e.isFile());
    assert.ok(files.some((e) => e.name === "vitrine.sqlite") && files.some((e) => e.name === "admin-token"));
    assert.ok(files.length >= 4, "catalog, token, store id and the blob");
    for (const e of entries) {
      const file = path.join(e.parentPath, e.name);
      assert.equal(modeOf(file) & 0o077, 0, `${file} is ${modeOf(file).toString(8)}`);
    }
  });

  it("an empty admin-token file gets a new token instead of stopping the service for ever", async () => {
    const dataDir = tempDir("empty-token");
    fs.writeFileSync(path.join(dataDir, "admin-token"), "");
    const server = await startServer({ dataDir });
    try {
      assert.match(server.token, /\S{20,}/);
      assert.equal((await osRequest(server, "GET", "/v2/images")).status, 200, "the new token works");
      assert.ok(
        server.logs.some(
          (l) => l.msg === "the bootstrap admin token file was empty; wrote a new token to it",
        ),
      );
      assert.equal(modeOf(path.join(dataDir, "admin-token")), 0o600);
    } finally {
      await server.stop();
    }
  });
});
