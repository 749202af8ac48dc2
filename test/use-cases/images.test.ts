import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { VitrineError } from "../../src/core/errors.js";
import { dataSizeOf, defaultMinDiskSize } from "../../src/core/image-sizes.js";
import type { Image } from "../../src/core/image.js";
import type { CreateImageInput } from "../../src/core/images/create-image.js";
import type { UpdatePolicy } from "../../src/core/images/update-image.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image as fixture } from "../helpers/fixtures.js";
import { ADMIN, type InProcess, creation, member, settled, startInProcess } from "../helpers/in-process.js";

/**
 * The image use cases in process, on the real stores and workers: what each decides, without a
 * dialect in front (the API suites check the same through HTTP in each dialect's words).
 */
const alice = member("alice", "f1", "editor");
const viewer = member("vera", "f1", "viewer");
const NOW: UpdatePolicy = {
  apply: "now",
  uniqueName: true,
  minDiskCoversData: true,
  description: "Update image",
};

function rejectsWith(reason: string | null, code?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof VitrineError, String(err));
    if (code) assert.equal(err.code, code);
    assert.equal(err.reason, reason, err.message);
    return true;
  };
}

describe("image use cases", () => {
  let env: InProcess;
  let files: FileServer;
  let uri: string;

  before(async () => {
    env = await startInProcess();
    files = await startFileServer();
    uri = files.serve("disk.qcow2", fixture("qcow2", 8).path);
  });
  after(async () => {
    await env.close();
    await files.close();
  });

  const input = (fields: Partial<CreateImageInput> = {}): CreateImageInput => creation(uri, fields);

  async function ready(fields: Partial<CreateImageInput> = {}): Promise<Image> {
    const op = await settled(env.core, alice, await env.core.images.create(alice, input(fields)));
    assert.equal(op.error, null, op.error?.message);
    assert.equal(op.response?.type, "image");
    return env.core.images.get(alice, { kind: "compute", id: op.resourceId });
  }

  it("creates an image from a URI: measured, inspected, sized, active", async () => {
    const img = await ready({ name: "from-uri", family: "ubuntu" });
    const f = fixture("qcow2", 8);
    assert.equal(img.status, "active");
    assert.equal(img.diskFormat, "qcow2");
    assert.equal(img.size, f.size);
    assert.equal(img.checksumMd5, f.md5);
    assert.equal(img.checksumSha512, f.sha512);
    assert.equal(img.virtualSize, f.virtualSize);
    assert.equal(img.minDiskSize, defaultMinDiskSize(Math.max(f.size, f.virtualSize)));
    assert.equal((await env.core.images.latestOfFamily(alice, "compute", "f1", "ubuntu")).id, img.id);
  });

  it("replays an idempotent create, refuses taken names and unauthorised callers", async () => {
    const first = await env.core.images.create(alice, input({ name: "once", idempotencyKey: "key-1" }));
    const again = await env.core.images.create(alice, input({ name: "once", idempotencyKey: "key-1" }));
    assert.equal(again.id, first.id);
    await settled(env.core, alice, first);
    await assert.rejects(
      env.core.images.create(alice, input({ name: "once" })),
      rejectsWith(null, "ALREADY_EXISTS"),
    );
    await assert.rejects(
      env.core.images.create(viewer, input()),
      rejectsWith("FOLDER_ACTION_DENIED", "PERMISSION_DENIED"),
    );
    await assert.rejects(
      env.core.images.create(alice, input({ source: { type: "uri", uri: "file:///etc/passwd" } })),
      rejectsWith("URI_REFUSED", "INVALID_ARGUMENT"),
    );
  });

  it("answers concurrent retries of one create with its one operation", async () => {
    for (const name of ["concurrent-retry", ""]) {
      const ops = await Promise.all(
        Array.from({ length: 5 }, () =>
          env.core.images.create(alice, input({ name, idempotencyKey: `key-${name}` })),
        ),
      );
      assert.equal(new Set(ops.map((o) => o.id)).size, 1);
      await settled(env.core, alice, ops[0]!);
    }
  });

  it("creates from another image without copying its bytes", async () => {
    const source = await ready({ name: "source" });
    const copy = await ready({ name: "copy", source: { type: "image", imageId: source.id } });
    assert.equal(copy.blobKey, source.blobKey);
    assert.equal(copy.checksumSha512, source.checksumSha512);
    assert.equal(await env.catalog.images.countBlobReferences(source.blobKey!), 2);
  });

  it("applies a declared change: set fields, reset others to their creation defaults", async () => {
    const img = await ready({ name: "to-change", description: "d", minDiskSize: 2 * 1024 ** 3 });
    const { image, operation } = await env.core.images.update(
      alice,
      { kind: "compute", id: img.id },
      { set: { name: "changed", labels: { a: "b" } }, reset: ["description", "minDiskSize"] },
      NOW,
    );
    assert.equal(operation.done, true);
    assert.equal(image.name, "changed");
    assert.equal(image.description, "");
    assert.deepEqual(image.labels, { a: "b" });
    assert.equal(img.minDiskSize, 2 * 1024 ** 3);
    assert.equal(image.minDiskSize, defaultMinDiskSize(dataSizeOf(img)));
    assert.equal(image.version, img.version + 1);
  });

  it("changes single properties and tags on the image as stored; refuses a too-small disk and late format changes", async () => {
    const img = await ready({ name: "guarded" });
    const uuid = { uuid: img.uuid };
    const osPolicy = { ...NOW, uniqueName: false, minDiskCoversData: false };
    await env.core.images.update(
      alice,
      uuid,
      { set: {}, properties: { set: { a: "1", b: "2" } }, tags: { add: ["x"] } },
      osPolicy,
    );
    const { image } = await env.core.images.update(
      alice,
      uuid,
      {
        set: {},
        properties: { set: { c: "3" }, remove: ["a"], mustExist: ["a"] },
        tags: { add: ["y", "x"] },
      },
      osPolicy,
    );
    assert.deepEqual(image.properties, { b: "2", c: "3" });
    assert.deepEqual(image.tags, ["x", "y"]);
    await assert.rejects(
      env.core.images.update(
        alice,
        uuid,
        { set: {}, properties: { remove: ["a"], mustExist: ["a"] } },
        osPolicy,
      ),
      rejectsWith("PROPERTY_MISSING", "FAILED_PRECONDITION"),
    );
    await assert.rejects(
      env.core.images.update(alice, uuid, { set: {}, tags: { remove: ["zz"] } }, osPolicy),
      rejectsWith("TAG_MISSING", "NOT_FOUND"),
    );
    await assert.rejects(
      env.core.images.update(
        alice,
        { kind: "compute", id: img.id },
        { set: { minDiskSize: 4 * 1024 * 1024 } },
        NOW,
      ),
      rejectsWith(null, "INVALID_ARGUMENT"),
    );
    await assert.rejects(
      env.core.images.update(
        alice,
        { uuid: img.uuid },
        { set: { diskFormat: "raw" } },
        { ...NOW, uniqueName: false },
      ),
      rejectsWith("FORMAT_FROZEN", "PERMISSION_DENIED"),
    );
    await assert.rejects(
      env.core.images.update(alice, { uuid: img.uuid }, { set: { visibility: "public" } }, NOW),
      rejectsWith("PUBLICIZE_DENIED", "PERMISSION_DENIED"),
    );
    const published = await env.core.images.update(
      ADMIN,
      { uuid: img.uuid },
      { set: { visibility: "public" } },
      NOW,
    );
    assert.equal(published.image.visibility, "public");
  });

  it("defers a change to a worker: the image is updating until it is applied", async () => {
    const img = await ready({ name: "deferred" });
    const { operation, image } = await env.core.images.update(
      alice,
      { kind: "compute", id: img.id },
      { set: { name: "deferred-renamed" } },
      { ...NOW, apply: "deferred" },
    );
    assert.equal(image.status, "updating");
    assert.equal(operation.done, false);
    const done = await settled(env.core, alice, operation);
    assert.equal(done.response?.type === "image" && done.response.image.name, "deferred-renamed");
    assert.equal((await env.core.images.get(alice, { kind: "compute", id: img.id })).status, "active");
  });

  it("deletes: refuses protected images, frees the blob when nobody shares it", async () => {
    const img = await ready({ name: "to-delete" });
    await env.core.images.update(ADMIN, { uuid: img.uuid }, { set: { protected: true } }, NOW);
    await assert.rejects(
      env.core.images.delete(alice, { uuid: img.uuid }, "Delete image"),
      rejectsWith("PROTECTED"),
    );
    await env.core.images.update(ADMIN, { uuid: img.uuid }, { set: { protected: false } }, NOW);
    const op = await settled(
      env.core,
      alice,
      await env.core.images.delete(alice, { uuid: img.uuid }, "Delete image"),
    );
    assert.equal(op.error, null);
    await assert.rejects(
      env.core.images.get(alice, { uuid: img.uuid }),
      rejectsWith("IMAGE_NOT_FOUND", "NOT_FOUND"),
    );
    assert.equal(await env.blobs.stat(img.blobKey!), null);
  });

  it("cancels a running create: the image never existed and no bytes are left", async () => {
    const slow = await startFileServer({ chunkBytes: 64 * 1024, intervalMs: 200 });
    try {
      const slowUri = `${slow.serve("slow.qcow2", fixture("qcow2", 8).path).replace("/files/", "/slow/")}`;
      const op = await env.core.images.create(
        alice,
        input({ name: "cancelled", source: { type: "uri", uri: slowUri } }),
      );
      await waitFor(async () => (await env.catalog.images.findById(op.resourceId))?.status === "importing");
      const cancelled = await env.core.operations.cancel(alice, op.id);
      assert.equal(cancelled.error?.code, "CANCELLED");
      assert.equal(await env.catalog.images.findById(op.resourceId), null);
      assert.deepEqual(await env.blobs.listPendingTags(), []);
    } finally {
      await slow.close();
    }
  });

  it("deactivates and reactivates for the owning folder's editors and the admin, not its viewers", async () => {
    const img = await ready({ name: "deactivation" });
    await assert.rejects(
      env.core.images.setDeactivated(viewer, { uuid: img.uuid }, true),
      rejectsWith("DEACTIVATE_DENIED", "PERMISSION_DENIED"),
    );
    await env.core.images.setDeactivated(alice, { uuid: img.uuid }, true);
    assert.equal((await env.core.images.get(alice, { uuid: img.uuid })).status, "deactivated");
    await env.core.images.setDeactivated(ADMIN, { uuid: img.uuid }, true);
    await env.core.images.setDeactivated(ADMIN, { uuid: img.uuid }, false);
    assert.equal((await env.core.images.get(alice, { uuid: img.uuid })).status, "active");
  });

  it("pages a folder's images with tokens bound to the query", async () => {
    const page = (field: "name" | "id", pageToken: string) =>
      env.core.images.list(alice, {
        kind: "compute",
        folderId: "f1",
        conditions: [],
        order: { field, dir: "asc" },
        pageSize: 2,
        pageToken,
      });
    const page1 = await page("name", "");
    assert.equal(page1.items.length, 2);
    assert.notEqual(page1.nextPageToken, "");
    const page2 = await page("name", page1.nextPageToken);
    assert.ok(page2.items.every((i) => i.name > page1.items[1]!.name));
    // A token belongs to its query: another order cannot use it.
    await assert.rejects(page("id", page1.nextPageToken), rejectsWith(null, "INVALID_ARGUMENT"));
  });

  after(() => fs.rmSync(env.dataDir, { recursive: true, force: true }));
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 20));
  }
}
