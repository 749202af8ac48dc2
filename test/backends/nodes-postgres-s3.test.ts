import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { after, before, describe, it } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image as fixture } from "../helpers/fixtures.js";
import { type PgS3Servers, startPgS3Servers } from "../helpers/pg-s3.js";
import { CLI, type RunningServer, startServer, tempDir, waitOperation } from "../helpers/server.js";

/**
 * Two Vitrine nodes (API and workers each, each with its own data directory) on one PostgreSQL
 * catalog and one S3 bucket: every rule that holds on one node holds across both — names unique
 * per folder under concurrent creates through either node, operations run once and visible from
 * both, a killed node's import resumed by the other, tokens issued by the CLI valid on both.
 */
describe("two nodes on PostgreSQL + S3", () => {
  let servers: PgS3Servers;
  let databaseUrl: string;
  let bucket: string;
  let a: RunningServer;
  let b: RunningServer;
  let files: FileServer;

  before(async () => {
    servers = await startPgS3Servers();
    const installation = await servers.newInstallation();
    ({ databaseUrl, bucket } = installation);
    const env = {
      ...installation.env,
      VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1",
      VITRINE_TOKEN_CACHE_SECONDS: "1",
      // A killed worker's lease runs out quickly, so the other node resumes its operation soon.
      VITRINE_OPERATION_LEASE_SECONDS: "2",
    };
    a = await startServer({ dataDir: tempDir("node-a"), env });
    b = await startServer({ dataDir: tempDir("node-b"), env });
    files = await startFileServer();
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await files?.close();
    await servers?.stop();
  });

  it("both nodes serve one catalog", async () => {
    const listening = a.logs.find((l) => String(l.msg).startsWith("vitrine listening"));
    assert.equal(listening?.catalog, "postgres");
    assert.equal(listening?.blobs, "s3");
    const created = await a.request("POST", "/v2/images", {
      name: "shared",
      disk_format: "qcow2",
      container_format: "bare",
    });
    assert.equal(created.status, 201);
    const seen = await b.request("GET", `/v2/images/${created.body.id}`);
    assert.equal(seen.status, 200);
    assert.equal(seen.body.name, "shared");
  });

  it("keeps Compute names unique per folder under concurrent creates through both nodes", async () => {
    const uri = files.serve("race.qcow2", fixture("qcow2", 8).path);
    const body = { folderId: "race-folder", name: "same-name", uri };
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).request("POST", "/compute/v1/images", body)),
    );
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    const list = await b.request("GET", "/compute/v1/images?folderId=race-folder");
    assert.equal(list.body.images.length, 1);
  });

  it("replays a create retried with its Idempotency-Key through either node", async () => {
    const uri = files.serve("retry.qcow2", fixture("qcow2", 8).path);
    for (const [key, name] of [
      ["retry-named", "retried"],
      ["retry-unnamed", ""],
    ] as const) {
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 === 0 ? a : b).request(
            "POST",
            "/compute/v1/images",
            { folderId: "retries", name, uri },
            { "idempotency-key": key },
          ),
        ),
      );
      assert.deepEqual(
        answers.map((r) => r.status),
        [200, 200, 200, 200, 200, 200],
        JSON.stringify(answers.map((r) => r.body)),
      );
      assert.equal(new Set(answers.map((r) => r.body.id)).size, 1);
    }
  });

  it("runs an operation once, visible from either node", async () => {
    const f = fixture("qcow2", 8);
    const uri = files.serve("op.qcow2", f.path);
    const op = await a.request("POST", "/compute/v1/images", { folderId: "ops", name: "imported", uri });
    assert.equal(op.status, 200);
    const done = await waitOperation(b, op.body.id);
    assert.equal(done.error, undefined, JSON.stringify(done.error));
    const image = await b.request("GET", `/compute/v1/images/${done.metadata.imageId}`);
    assert.equal(image.body.status, "READY");
    const os = await a.request("GET", `/v2/images?name=imported`);
    assert.equal(os.body.images[0].checksum, f.md5);
    assert.equal(os.body.images[0].os_hash_value, f.sha512);
  });

  it("a token issued by the CLI against the catalog works on both nodes, and revoking it too", async () => {
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [CLI, ...args, "--database", databaseUrl], { encoding: "utf8" }).trim();
    const subject = cli("subject", "create", "--name", "carol");
    cli("folder", "bind", "--folder", "carol-folder", "--subject", subject, "--role", "viewer");
    const token = cli("token", "create", "--subject", subject);
    const headers = { authorization: `Bearer ${token}` };
    for (const node of [a, b]) {
      const res = await node.request("GET", "/compute/v1/images?folderId=carol-folder", undefined, headers);
      assert.equal(res.status, 200);
    }
    cli("token", "revoke", token);
    // Each node trusts a checked token for VITRINE_TOKEN_CACHE_SECONDS (1 s here).
    await new Promise((r) => setTimeout(r, 1500));
    for (const node of [a, b]) {
      const res = await node.request("GET", "/compute/v1/images?folderId=carol-folder", undefined, headers);
      assert.equal(res.status, 401);
    }
  });

  // Last: it kills one node.
  it("resumes the operation of a SIGKILLed node on the other node", async () => {
    const slow = await startFileServer({ chunkBytes: 64 * 1024, intervalMs: 50 });
    try {
      const f = fixture("qcow2", 8);
      const uri = slow.serve("killed.qcow2", f.path).replace("/files/", "/slow/");
      const op = await a.request("POST", "/compute/v1/images", { folderId: "kill", name: "survivor", uri });
      assert.equal(op.status, 200);
      const runner = await waitForRunner([a, b], op.body.id);
      await runner.stop("SIGKILL");
      const other = runner === a ? b : a;
      const done = await waitOperation(other, op.body.id, 60_000);
      assert.equal(done.error, undefined, JSON.stringify(done.error));
      const shown = await other.request("GET", `/v2/images?name=survivor`);
      assert.equal(shown.body.images[0].status, "active");
      assert.equal(shown.body.images[0].os_hash_value, f.sha512);
      assert.ok(other.logs.some((l) => l.msg === "operation started" && l.operationId === op.body.id));
      // The survivor's attempt aborted the killed node's multipart upload: nothing is left pending.
      const pending = await servers.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: "vitrine/pending/" }),
      );
      assert.deepEqual(pending.Contents ?? [], []);
      const uploads = await servers.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      assert.deepEqual(uploads.Uploads ?? [], []);
      // The surviving node serves the bytes from the bucket (its data directory holds none).
      const file = await fetch(`${other.url}/v2/images/${shown.body.images[0].id}/file`, {
        headers: { authorization: `Bearer ${other.token}` },
      });
      assert.equal(file.status, 200);
      const sha512 = createHash("sha512")
        .update(Buffer.from(await file.arrayBuffer()))
        .digest("hex");
      assert.equal(sha512, f.sha512);
    } finally {
      await slow.close();
    }
  });
});

/** The node whose worker took the operation (it logs "operation started"). */
async function waitForRunner(nodes: RunningServer[], operationId: string): Promise<RunningServer> {
  for (let i = 0; i < 200; i++) {
    const runner = nodes.find((n) =>
      n.logs.some((l) => l.msg === "operation started" && l.operationId === operationId),
    );
    if (runner) return runner;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no node started operation ${operationId}`);
}
