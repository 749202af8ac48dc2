import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { qemuImg } from "../helpers/fixtures.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { type RunningServer, eventually, startServer, tempDir, waitOperation } from "../helpers/server.js";
import { TEST_BACKEND } from "../helpers/test-backend.js";

const MIB = 1024 * 1024;
/** A killed worker's operation is taken over after this lease (the default is 20 s). */
const ENV = { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1", VITRINE_OPERATION_LEASE_SECONDS: "2" };

/**
 * A URL import whose server is SIGKILLed mid-way (README "Resumable transfers"): the worker that
 * takes the operation over asks the source for the rest (Range, with If-Range naming the version
 * it read) and goes on from the checkpoint; a source that changed meanwhile is read again from
 * the start. Either way the image's SHA-512 is the file's.
 */
describe(`URL imports resume after their worker is killed (${TEST_BACKEND})`, () => {
  let files: FileServer;
  let qcow2: string;
  let sha512: string;

  before(async () => {
    // 512 KiB every 20 ms: about 25 MiB/s, so the kill comes mid-way.
    files = await startFileServer({ chunkBytes: 512 * 1024, intervalMs: 20 });
    const dir = tempDir("import-resume");
    const raw = path.join(dir, "random.raw");
    fs.writeFileSync(raw, randomBytes(128 * MIB));
    qcow2 = path.join(dir, "random.qcow2");
    qemuImg("convert", "-f", "raw", "-O", "qcow2", raw, qcow2);
    fs.rmSync(raw);
    sha512 = createHash("sha512").update(fs.readFileSync(qcow2)).digest("hex");
  });
  after(() => files.close());

  /** Starts a Compute create from `/ranged/<name>`, kills its server once `killAt` bytes were sent, restarts it. */
  async function killedImport(name: string, killAt: number, onKilled: () => void = () => {}) {
    files.serve(name, qcow2);
    let server: RunningServer = await startServer({ env: ENV });
    const start = files.ranges.length;
    const res = await server.request("POST", "/compute/v1/images", {
      folderId: "resume-folder",
      name: name.replace(/\W/g, "-"),
      uri: `${files.url}/ranged/${name}`,
    });
    assert.equal(res.status, 200, res.text);
    await eventually(async () => (files.ranges[start]?.sent ?? 0) > killAt, 60_000, "the import to get far");
    await server.stop("SIGKILL");
    onKilled();
    server = await startServer({ dataDir: server.dataDir, env: server.env });
    try {
      const done = await waitOperation(server, res.body.id, 120_000);
      assert.equal(done.error, undefined, JSON.stringify(done.error));
      const listed = await server.request(
        "GET",
        `/v2/images?name=${name.replace(/\W/g, "-")}&owner=resume-folder`,
      );
      return { image: listed.body.images[0], reads: files.ranges.slice(start) };
    } finally {
      await server.stop();
    }
  }

  test("the next worker asks for the rest (Range) and goes on from the checkpoint", async () => {
    const size = fs.statSync(qcow2).size;
    const { image, reads } = await killedImport("resumed.qcow2", 72 * MIB);
    assert.equal(image.status, "active");
    assert.equal(image.os_hash_value, sha512, "the image's SHA-512 is the file's");
    assert.equal(reads.length, 2, JSON.stringify(reads));
    const from = Number(/^bytes=(\d+)-$/.exec(reads[1]!.range)?.[1]);
    assert.ok(from >= 32 * MIB, `resumed from ${reads[1]!.range}`);
    const sent = reads.reduce((n, r) => n + r.sent, 0);
    assert.ok(sent < size + reads[0]!.sent - from + 1, "only what was not stored is read again");
    assert.ok(sent <= size + 48 * MIB, `read ${sent} bytes of a ${size}-byte source`);
  });

  test("a source that changed meanwhile is read again from the start", async () => {
    const size = fs.statSync(qcow2).size;
    const { image, reads } = await killedImport("changed.qcow2", 72 * MIB, () =>
      files.etags.set("changed.qcow2", '"v2"'),
    );
    assert.equal(image.status, "active");
    assert.equal(image.os_hash_value, sha512);
    assert.equal(reads.length, 2);
    assert.match(reads[1]!.range, /^bytes=\d+-$/, "it asked for the rest");
    assert.equal(reads[1]!.sent, size, "and got the whole (new) source");
  });
});
