import assert from "node:assert/strict";
import fs from "node:fs";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { VitrineError } from "../../src/core/errors.js";
import type { DeclaredFormats } from "../../src/core/format-policy.js";
import type { RegisterImageInput } from "../../src/core/images/register-image.js";
import { image as fixture } from "../helpers/fixtures.js";
import {
  ADMIN,
  type InProcess,
  member,
  settled,
  registration,
  startInProcess,
} from "../helpers/in-process.js";

/** Image data in and out of registered images, in process: upload, stage + import, download, GC. */
const alice = member("alice", "p1", "editor");
const DECLARED: DeclaredFormats = { field: "disk_format", accepted: { qcow2: ["qcow2"], raw: ["raw"] } };
const MARKERS = {
  importing: { importing: "yes" },
  done: { importing: "", outcome: "done" },
  failed: { importing: "", outcome: "failed" },
};

function reason(expected: string) {
  return (err: unknown) => {
    assert.ok(err instanceof VitrineError, String(err));
    assert.equal(err.reason, expected, err.message);
    return true;
  };
}

describe("image data use cases", () => {
  let env: InProcess;
  before(async () => {
    env = await startInProcess();
  });
  after(async () => {
    await env.close();
  });

  const register = (fields: Partial<RegisterImageInput> = {}) =>
    env.core.images.register(alice, registration("p1", { name: "data", uniqueName: false, ...fields }));
  const upload = (
    uuid: string,
    mode: "file" | "stage",
    file = fixture("qcow2", 8).path,
    signal = new AbortController().signal,
  ) =>
    env.core.imageData.upload(alice, uuid, {
      source: fs.createReadStream(file),
      signal,
      mode,
      formatsByDeclared: DECLARED,
      announcedBytes: null,
    });

  it("an upload activates a queued image with its measured data, and it downloads whole or in ranges", async () => {
    const img = await register();
    const f = fixture("qcow2", 8);
    const active = await upload(img.uuid, "file");
    assert.equal(active.status, "active");
    assert.equal(active.checksumMd5, f.md5);
    assert.equal(active.size, f.size);
    const whole = await env.core.imageData.download(alice, img.uuid, null);
    const chunks: Buffer[] = [];
    for await (const c of whole.stream!) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), fs.readFileSync(f.path));
    const tail = await env.core.imageData.download(alice, img.uuid, { suffix: 4 });
    assert.deepEqual(tail.range, { start: f.size - 4, end: f.size - 1 });
    await assert.rejects(
      env.core.imageData.download(alice, img.uuid, { start: f.size, end: null }),
      reason("RANGE_NOT_SATISFIABLE"),
    );
    await assert.rejects(upload(img.uuid, "file"), reason("TRANSITION_NOT_ALLOWED"));
  });

  it("a refused upload puts the image back to queued and keeps no bytes", async () => {
    const img = await register({ diskFormat: "raw" });
    await assert.rejects(upload(img.uuid, "file"), /the data is in qcow2 format/);
    const back = await env.core.images.get(alice, { uuid: img.uuid });
    assert.equal(back.status, "queued");
    assert.equal(back.blobKey, null);
    assert.deepEqual(await env.blobs.listPendingTags(), []);
    const unset = await register({ diskFormat: null });
    await assert.rejects(upload(unset.uuid, "file"), reason("FORMATS_UNSET"));
  });

  it("a client gone mid-upload leaves the image queued", async () => {
    const img = await register();
    const aborter = new AbortController();
    const source = new Readable({ read() {} });
    source.push(fs.readFileSync(fixture("qcow2", 8).path).subarray(0, 65536));
    const pending = env.core.imageData.upload(alice, img.uuid, {
      source,
      signal: aborter.signal,
      mode: "file",
      formatsByDeclared: DECLARED,
      announcedBytes: null,
    });
    setTimeout(() => aborter.abort(new Error("client gone")), 50);
    await assert.rejects(pending);
    assert.equal((await env.core.images.get(alice, { uuid: img.uuid })).status, "queued");
    assert.deepEqual(await env.blobs.listPendingTags(), []);
  });

  it("staged data is imported by a worker, with the dialect's markers", async () => {
    const img = await register();
    await assert.rejects(
      env.core.imageData.import(alice, img.uuid, {
        source: { type: "staged" },
        formatsByDeclared: DECLARED,
        description: "Import",
        properties: MARKERS,
      }),
      reason("NO_STAGED_DATA"),
    );
    const staged = await upload(img.uuid, "stage");
    assert.equal(staged.status, "uploading");
    const op = await env.core.imageData.import(alice, img.uuid, {
      source: { type: "staged" },
      formatsByDeclared: DECLARED,
      description: "Import",
      properties: MARKERS,
    });
    assert.equal((await env.core.images.get(alice, { uuid: img.uuid })).properties.importing, "yes");
    assert.equal((await settled(env.core, alice, op)).error, null);
    const done = await env.core.images.get(alice, { uuid: img.uuid });
    assert.equal(done.status, "active");
    assert.deepEqual(done.properties, { importing: "", outcome: "done" });
    assert.equal(done.blobKey, staged.blobKey);
  });

  it("a failed import puts the image back to queued with the failure markers", async () => {
    const img = await register();
    const op = await env.core.imageData.import(alice, img.uuid, {
      source: { type: "uri", uri: "http://127.0.0.1:9/missing.qcow2" },
      formatsByDeclared: DECLARED,
      description: "Import",
      properties: MARKERS,
    });
    const ended = await settled(env.core, alice, op);
    assert.notEqual(ended.error, null);
    const back = await env.core.images.get(alice, { uuid: img.uuid });
    assert.equal(back.status, "queued");
    assert.deepEqual(back.properties, { importing: "", outcome: "failed" });
  });

  it("a deactivated image's data is for admins only", async () => {
    const img = await register();
    await upload(img.uuid, "file");
    await env.core.images.setDeactivated(ADMIN, { uuid: img.uuid }, true);
    await assert.rejects(env.core.imageData.download(alice, img.uuid, null), reason("DEACTIVATED"));
    const asAdmin = await env.core.imageData.download(ADMIN, img.uuid, null);
    asAdmin.stream!.destroy();
  });

  it("collects pending data whose writer is gone, and only that", async () => {
    const live = await register();
    await env.catalog.transaction(async (tx) => {
      const current = (await tx.images.findById(live.id))!;
      await tx.images.save(current, { ...current, status: "saving" }, Date.now());
    });
    const liveWriter = await env.blobs.createWriter("k-live", `upload-${live.id}`);
    const deadWriter = await env.blobs.createWriter("k-dead", "upload-gone-image");
    const orphan = await env.blobs.createWriter("k-op", "finished-operation");
    for (const w of [liveWriter, deadWriter, orphan])
      await new Promise<void>((r) => w.stream.write(Buffer.from("x"), () => r()));
    const removed = await env.core.imageData.collectAbandoned();
    assert.deepEqual(removed.sort(), ["finished-operation", "upload-gone-image"]);
    assert.deepEqual(await env.blobs.listPendingTags(), [`upload-${live.id}`]);
    await liveWriter.abort();
    deadWriter.stream.destroy();
    orphan.stream.destroy();
  });
});
