import assert from "node:assert/strict";
import fs from "node:fs";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { VitrineError } from "../../src/core/errors.js";
import type { DeclaredFormats } from "../../src/core/format-policy.js";
import type { QuotaResource } from "../../src/core/quotas/quota.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image as fixture } from "../helpers/fixtures.js";
import {
  ADMIN,
  type InProcess,
  creation,
  member,
  registration,
  settled,
  startInProcess,
} from "../helpers/in-process.js";

/**
 * Quotas in process on the real stores: each resource refused at the moment it would be passed,
 * in every path that adds to it, and the bytes held for data on its way in given back whatever
 * way that data ends.
 */
const MIB = 1024 * 1024;
const DECLARED: DeclaredFormats = { field: "disk_format", accepted: { raw: ["raw"], qcow2: ["qcow2"] } };

function quotaRefusal(resource: QuotaResource) {
  return (err: unknown) => {
    assert.ok(err instanceof VitrineError, String(err));
    assert.equal(err.code, "RESOURCE_EXHAUSTED", err.message);
    assert.equal(err.reason, "QUOTA_EXCEEDED", err.message);
    assert.equal(err.args.resource, resource, err.message);
    return true;
  };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("quota use cases", () => {
  let env: InProcess;
  let files: FileServer;
  before(async () => {
    env = await startInProcess();
    files = await startFileServer();
  });
  after(async () => {
    await env.close();
    await files.close();
  });

  const limit = (project: string | null, resource: QuotaResource, value: number | null) =>
    env.core.quotas.setLimits(ADMIN, project, { [resource]: value });
  const usage = async (project: string) => (await env.core.quotas.get(ADMIN, project)).resources;

  const upload = async (
    project: string,
    file: string,
    opts: { mode?: "file" | "stage"; announced?: number | null } = {},
  ) => {
    const who = member(`user-${project}`, project);
    const image = await env.core.images.register(
      who,
      registration(project, { uniqueName: false, diskFormat: "raw", containerFormat: "bare" }),
    );
    const done = env.core.imageData.upload(who, image.uuid, {
      source: fs.createReadStream(file),
      signal: new AbortController().signal,
      mode: opts.mode ?? "file",
      formatsByDeclared: DECLARED,
      announcedBytes: opts.announced === undefined ? fs.statSync(file).size : opts.announced,
    });
    return { image, who, done };
  };

  it("image_count_total: the default holds for every project, a project's own limit over it", async () => {
    await limit(null, "image_count_total", 2);
    try {
      const who = member("counter", "count-a");
      await env.core.images.register(who, registration("count-a", { uniqueName: false }));
      await env.core.images.register(who, registration("count-a", { uniqueName: false }));
      await assert.rejects(
        env.core.images.register(who, registration("count-a", { uniqueName: false })),
        quotaRefusal("image_count_total"),
      );
      // A Compute create is refused at once too (nothing queued).
      await assert.rejects(
        env.core.images.create(
          member("c", "count-a"),
          creation(files.serve("n.raw", fixture("raw", 1).path), { folderId: "count-a" }),
        ),
        quotaRefusal("image_count_total"),
      );
      await limit("count-a", "image_count_total", 3);
      await env.core.images.register(who, registration("count-a", { uniqueName: false }));
      assert.deepEqual((await usage("count-a")).image_count_total, { limit: 3, usage: 3 });
      await limit("count-a", "image_count_total", null);
      assert.deepEqual((await usage("count-a")).image_count_total, { limit: 2, usage: 3 });
    } finally {
      await limit(null, "image_count_total", null);
    }
  });

  it("image_size_total: an upload announcing more than is left is refused before a byte is read, and leaves nothing held", async () => {
    const four = fixture("raw", 4);
    await limit("size-a", "image_size_total", 10 * MIB);
    const first = await upload("size-a", four.path);
    assert.equal((await first.done).status, "active");
    const second = await upload("size-a", four.path);
    assert.equal((await second.done).size, four.size);
    const third = await upload("size-a", four.path);
    await assert.rejects(third.done, quotaRefusal("image_size_total"));
    const refused = await env.core.images.get(third.who, { uuid: third.image.uuid });
    assert.equal(refused.status, "queued", "back to queued: the data can be sent again once there is room");
    assert.equal(await env.catalog.quotas.reservation(third.image.id), null);
    assert.deepEqual((await usage("size-a")).image_size_total, { limit: 10 * MIB, usage: 2 * four.size });
    assert.deepEqual((await usage("size-a")).image_count_uploading.usage, 0);
  });

  it("image_size_total: data of unknown length is counted as it streams and cut the moment it would pass", async () => {
    const eight = fixture("raw", 8);
    await limit("size-b", "image_size_total", 6 * MIB);
    const cut = await upload("size-b", eight.path, { announced: null });
    await assert.rejects(cut.done, quotaRefusal("image_size_total"));
    assert.equal((await env.core.images.get(cut.who, { uuid: cut.image.uuid })).status, "queued");
    assert.equal(await env.catalog.quotas.reservation(cut.image.id), null);
    assert.equal((await usage("size-b")).image_size_total.usage, 0);
    // What fits goes in, though it is more than a step of the meter would hold at once.
    const four = fixture("raw", 4);
    const fits = await upload("size-b", four.path, { announced: null });
    assert.equal((await fits.done).status, "active");
    assert.equal((await usage("size-b")).image_size_total.usage, four.size);
  });

  it("image_stage_total and image_count_uploading: staged data counts until imported; the import moves it to the size total", async () => {
    const four = fixture("raw", 4);
    await limit("stage-a", "image_stage_total", 5 * MIB);
    await limit("stage-a", "image_count_uploading", 2);
    await limit("stage-a", "image_size_total", 6 * MIB);
    const staged = await upload("stage-a", four.path, { mode: "stage" });
    assert.equal((await staged.done).status, "uploading");
    assert.deepEqual((await usage("stage-a")).image_stage_total, { limit: 5 * MIB, usage: four.size });
    const more = await upload("stage-a", four.path, { mode: "stage" });
    await assert.rejects(more.done, quotaRefusal("image_stage_total"));
    // One staged, one more may receive data; a third may not.
    const receiving = await upload("stage-a", fixture("raw", 1).path, { mode: "stage" });
    await receiving.done;
    await assert.rejects(
      upload("stage-a", fixture("raw", 1).path).then((u) => u.done),
      quotaRefusal("image_count_uploading"),
    );

    const op = await env.core.imageData.import(staged.who, staged.image.uuid, {
      source: { type: "staged" },
      formatsByDeclared: DECLARED,
      description: "import",
      properties: { importing: {}, done: {}, failed: {} },
    });
    assert.equal((await settled(env.core, staged.who, op)).error, null);
    const after = await usage("stage-a");
    assert.equal(after.image_stage_total.usage, fixture("raw", 1).size);
    assert.equal(after.image_size_total.usage, four.size);
    // The other staged image would pass the size total: its import is refused at once.
    await limit("stage-a", "image_size_total", 4 * MIB + 1);
    await assert.rejects(
      env.core.imageData.import(receiving.who, receiving.image.uuid, {
        source: { type: "staged" },
        formatsByDeclared: DECLARED,
        description: "import",
        properties: { importing: {}, done: {}, failed: {} },
      }),
      quotaRefusal("image_size_total"),
    );
  });

  it("a create from a URL: the announced length is held before reading; one of unknown length is cut mid-stream; the operation says which quota", async () => {
    const who = member("creator", "create-a");
    const four = fixture("qcow2", 8); // Compute creates take qcow2, VMDK and VHD
    await limit("create-a", "image_size_total", Math.floor(1.5 * four.size));
    const fine = await env.core.images.create(
      who,
      creation(files.serve("four.qcow2", four.path), { folderId: "create-a" }),
    );
    assert.equal((await settled(env.core, who, fine)).error, null);
    for (const mode of ["files", "chunked"]) {
      const uri = files.serve("again.qcow2", four.path).replace("/files/", `/${mode}/`);
      const op = await env.core.images.create(
        who,
        creation(uri, { folderId: "create-a", name: `again-${mode}` }),
      );
      const done = await settled(env.core, who, op);
      assert.equal(done.error?.code, "RESOURCE_EXHAUSTED", JSON.stringify(done.error));
      assert.equal(done.error?.reason, "QUOTA_EXCEEDED");
      assert.equal(done.error?.args?.resource, "image_size_total");
      assert.equal(await env.catalog.quotas.reservation(op.resourceId), null, "nothing held");
      assert.equal(await env.catalog.images.findById(op.resourceId), null, "no image left");
    }
    assert.equal((await usage("create-a")).image_size_total.usage, four.size, "only the first image's bytes");
    // From another image of the project: the data is shared, and counts once.
    const source = (await settled(env.core, who, fine)).resourceId;
    const copy = await env.core.images.create(
      who,
      creation("", { folderId: "create-a", name: "copy", source: { type: "image", imageId: source } }),
    );
    assert.equal((await settled(env.core, who, copy)).error, null);
    assert.equal((await usage("create-a")).image_size_total.usage, four.size, "counted once");
    // Into another project the data is new there: it counts, and a create over the limit leaves nothing.
    await limit("create-b", "image_size_total", four.size - 1);
    const across = await env.core.images.create(
      ADMIN,
      creation("", { folderId: "create-b", name: "across", source: { type: "image", imageId: source } }),
    );
    const refused = await settled(env.core, ADMIN, across);
    assert.equal(refused.error?.reason, "QUOTA_EXCEEDED", JSON.stringify(refused.error));
    assert.equal(
      await env.catalog.images.findById(across.resourceId),
      null,
      "no ERROR image left in the count",
    );
    await limit("create-b", "image_size_total", four.size);
    const again = await env.core.images.create(
      ADMIN,
      creation("", { folderId: "create-b", name: "across-2", source: { type: "image", imageId: source } }),
    );
    assert.equal((await settled(env.core, ADMIN, again)).error, null);
    assert.deepEqual((await usage("create-b")).image_size_total, { limit: four.size, usage: four.size });
    assert.equal((await usage("create-b")).image_count_total.usage, 1);
  });

  it("what a transfer held comes back when it is cancelled or its client goes away (as a timeout cuts it)", async () => {
    const slow = await startFileServer({ chunkBytes: 64 * 1024, intervalMs: 100 });
    try {
      const who = member("canceller", "cancel-a");
      const data = fixture("qcow2", 8);
      await limit("cancel-a", "image_size_total", 10 * MIB);
      const uri = slow.serve("slow.qcow2", data.path).replace("/files/", "/slow/");
      const op = await env.core.images.create(
        who,
        creation(uri, { folderId: "cancel-a", name: "cancelled" }),
      );
      await waitFor(async () => (await usage("cancel-a")).image_size_total.usage === data.size);
      await env.core.operations.cancel(who, op.id);
      await waitFor(async () => (await usage("cancel-a")).image_size_total.usage === 0);
      assert.equal(await env.catalog.quotas.reservation(op.resourceId), null);

      // An upload whose client stops sending: the abort (client gone, or the upload-rate guard) gives it back.
      const image = await env.core.images.register(
        who,
        registration("cancel-a", { uniqueName: false, diskFormat: "raw" }),
      );
      const stalled = new PassThrough();
      stalled.write(Buffer.alloc(64 * 1024));
      const abort = new AbortController();
      const upload = env.core.imageData.upload(who, image.uuid, {
        source: stalled,
        signal: abort.signal,
        mode: "file",
        formatsByDeclared: DECLARED,
        announcedBytes: 4 * MIB,
      });
      await waitFor(async () => (await usage("cancel-a")).image_size_total.usage === 4 * MIB);
      abort.abort(new Error("the client disconnected during the upload"));
      await assert.rejects(upload);
      assert.equal((await usage("cancel-a")).image_size_total.usage, 0);
      assert.equal((await env.core.images.get(who, { uuid: image.uuid })).status, "queued");
    } finally {
      await slow.close();
    }
  });

  it("bytes held by a node that is gone come back with the recovery of abandoned uploads", async () => {
    const who = member("gone", "gone-a");
    const image = await env.core.images.register(who, registration("gone-a", { uniqueName: false }));
    await env.catalog.quotas.reserve({
      imageId: image.id,
      projectId: "gone-a",
      bytes: 5 * MIB,
      staged: false,
      nodeId: "a-node-that-died",
      createdAt: Date.now(),
    });
    assert.equal((await usage("gone-a")).image_size_total.usage, 5 * MIB);
    await env.core.imageData.recoverAbandonedUploads(Date.now());
    assert.equal((await usage("gone-a")).image_size_total.usage, 0);
  });

  it("only admins set limits, members read their own project's, and a bad limit is refused clearly", async () => {
    await assert.rejects(
      env.core.quotas.setLimits(member("m", "p-m", "admin"), "p-m", { image_count_total: 1 }),
      (err: unknown) => err instanceof VitrineError && err.code === "PERMISSION_DENIED",
    );
    await assert.rejects(
      env.core.quotas.setLimits(ADMIN, "p-m", { image_count_total: 5, images: 1 }),
      (err: unknown) => err instanceof VitrineError && err.code === "INVALID_ARGUMENT",
    );
    await assert.rejects(
      env.core.quotas.setLimits(ADMIN, "p-m", { image_count_total: -1 }),
      (err: unknown) => err instanceof VitrineError && err.code === "INVALID_ARGUMENT",
    );
    const own = await env.core.quotas.get(member("m", "p-m", "viewer"), "p-m");
    assert.equal(
      own.resources.image_count_total.limit,
      null,
      "all or none: the good limit beside the bad one was not set",
    );
    await assert.rejects(
      env.core.quotas.get(member("m", "p-m", "viewer"), "someone-else"),
      (err: unknown) => err instanceof VitrineError && err.code === "PERMISSION_DENIED",
    );
  });
});
