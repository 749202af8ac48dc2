import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { after, before, describe, it } from "node:test";
import { type PostgresServer, startPostgres } from "../helpers/postgres.js";
import { startServer, tempDir } from "../helpers/server.js";

/**
 * `vitrine serve` refuses to join nodes it cannot serve safely with, and says why: a SQLite
 * catalog served from several machines, nodes of one catalog writing image bytes to different
 * blob stores. Nodes that are safe together (one machine, one shared blob store) start as usual.
 */
describe("unsafe deployments are refused", () => {
  let pg: PostgresServer;
  before(async () => {
    pg = await startPostgres();
  });
  after(() => pg?.stop());

  it("a node whose image bytes would go elsewhere than the running nodes' is refused", async () => {
    const env = { VITRINE_DATABASE_URL: await pg.createDatabase() };
    const first = await startServer({ dataDir: tempDir("node-1"), env });
    try {
      // Its own data directory, so its own blob directory: the first node would not see its bytes.
      await assert.rejects(
        startServer({ dataDir: tempDir("node-2"), env }),
        /cannot join safely: node .* \(pid \d+, role all\) stores image bytes in directory:[0-9a-f]{32}, this node in directory:[0-9a-f]{32}/,
      );
      // The same directory (as a shared mount would be) is the same store: it joins.
      const second = await startServer({ dataDir: first.dataDir, env });
      const created = await second.request("POST", "/v2/images", {
        name: "n",
        disk_format: "raw",
        container_format: "bare",
      });
      assert.equal(created.status, 201);
      assert.equal((await first.request("GET", `/v2/images/${created.body.id}`)).status, 200);
      assert.equal(await second.stop(), 0);
    } finally {
      await first.stop();
    }
    // Stopped cleanly, the nodes left: a node with another blob store may take over now.
    const next = await startServer({ dataDir: tempDir("node-3"), env });
    assert.equal(await next.stop(), 0);
  });

  it("a SQLite catalog that a node on another machine serves is refused; a long-gone one is not", async () => {
    const dataDir = tempDir("sqlite");
    const server = await startServer({ dataDir });
    await server.stop();
    const db = new Database(path.join(dataDir, "vitrine.sqlite"));
    const blobStore = String(db.prepare("select blob_store from nodes").pluck().get() ?? "");
    assert.equal(blobStore, "", "a node that stopped cleanly removed its record");
    const elsewhere = db.prepare(
      `insert or replace into nodes (id, hostname, machine_id, pid, role, blob_store, started_at, seen_at)
       values ('other', 'far-away', 'another-boot-id', 7, 'worker', ?, ?, ?)`,
    );
    const ownStore = `directory:${fs.readFileSync(path.join(dataDir, "blobs", ".store-id"), "utf8").trim()}`;
    elsewhere.run(ownStore, Date.now(), Date.now());
    await assert.rejects(
      startServer({ dataDir }),
      /node far-away \(pid 7, role worker\) on another machine serves the same SQLite catalog; .*use --database postgres:\/\//,
    );
    elsewhere.run(ownStore, Date.now() - 3_600_000, Date.now() - 3_600_000);
    db.close();
    const again = await startServer({ dataDir });
    assert.equal(await again.stop(), 0);
  });
});
