import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { VitrineError } from "../../src/core/errors.js";
import type { Image } from "../../src/core/image.js";
import type { Principal } from "../../src/core/principal.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image as fixture } from "../helpers/fixtures.js";
import { ADMIN, type InProcess, creation, member, settled, startInProcess } from "../helpers/in-process.js";

/**
 * Image lifecycle in process on the real stores (README "Lifecycle"): deprecation and its
 * scheduled transitions, the recycle bin, retention rules per family, last use.
 */
function refusedWith(code: string, reason?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof VitrineError, String(err));
    assert.equal(err.code, code, err.message);
    if (reason) assert.equal(err.reason, reason, err.message);
    return true;
  };
}

async function waitFor<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("lifecycle use cases", () => {
  let env: InProcess;
  let files: FileServer;
  let uri: string;
  const editor = member("dev", "f1");
  const other = member("stranger", "f2");

  before(async () => {
    env = await startInProcess({ VITRINE_RECYCLE_BIN_RETENTION: "1h" });
    files = await startFileServer();
    uri = files.serve("disk.qcow2", fixture("qcow2", 8).path);
  });
  after(async () => {
    await env.close();
    await files.close();
  });

  const create = async (fields: Parameters<typeof creation>[1] = {}, who: Principal = editor) => {
    const op = await settled(env.core, who, await env.core.images.create(who, creation(uri, fields)));
    assert.equal(op.error, null, JSON.stringify(op.error));
    return env.core.images.get(who, { kind: "compute", id: op.resourceId });
  };
  const fromImage = (source: Image, fields: Parameters<typeof creation>[1] = {}) =>
    create({ source: { type: "image", imageId: source.id }, ...fields });
  const ref = (image: Image) => ({ kind: "compute" as const, id: image.id });

  it("an image without lifecycle settings is as before: active, deleted at once when the folder keeps no bin", async () => {
    const plain = await startInProcess();
    try {
      const op = await settled(plain.core, editor, await plain.core.images.create(editor, creation(uri)));
      const image = await plain.core.images.get(editor, { kind: "compute", id: op.resourceId });
      assert.equal(image.deprecation.state, "ACTIVE");
      assert.equal(image.lastUsedAt, null);
      await settled(plain.core, editor, await plain.core.images.delete(editor, ref(image), "Delete image"));
      assert.equal(await plain.catalog.images.findById(image.id), null, "gone, no bin");
      assert.equal((await plain.core.lifecycle.listBin(editor, "f1", 10, "")).items.length, 0);
    } finally {
      await plain.close();
    }
  });

  it("deprecated: usable, named replacement, skipped by the family's latest; obsolete: no new use", async () => {
    const old = await create({ name: "base-1", family: "base" });
    const replacement = await create({ name: "base-2", family: "base" });
    // The newest is the family's latest; deprecate it and the older one is.
    await env.core.lifecycle.deprecate(editor, ref(replacement), { state: "DEPRECATED" });
    assert.equal((await env.core.images.latestOfFamily(editor, "compute", "f1", "base")).id, old.id);
    await env.core.lifecycle.deprecate(editor, ref(replacement), { state: "ACTIVE" });

    const { image } = await env.core.lifecycle.deprecate(editor, ref(old), {
      state: "DEPRECATED",
      replacement: ref(replacement),
    });
    assert.equal(image.deprecation.state, "DEPRECATED");
    assert.deepEqual(image.deprecation.replacement, { id: replacement.id, uuid: replacement.uuid });
    await fromImage(old); // still usable

    await env.core.lifecycle.deprecate(editor, ref(old), { state: "OBSOLETE" });
    const obsolete = await env.core.images.get(editor, ref(old));
    assert.equal(obsolete.osHidden, true, "hidden from OpenStack's default lists");
    await assert.rejects(
      env.core.images.create(editor, creation(uri, { source: { type: "image", imageId: old.id } })),
      refusedWith("FAILED_PRECONDITION", "IMAGE_OBSOLETE"),
    );
    await assert.rejects(
      env.core.imageData.download(editor, old.uuid, null),
      refusedWith("PERMISSION_DENIED", "IMAGE_OBSOLETE"),
    );
    const asAdmin = await env.core.imageData.download(ADMIN, old.uuid, null);
    asAdmin.stream?.resume();
    // Back to active: shown again.
    const { image: back } = await env.core.lifecycle.deprecate(editor, ref(old), { state: "ACTIVE" });
    assert.equal(back.osHidden, false);
  });

  it("refuses a replacement the caller cannot see and the image itself; a time for a state already reached schedules nothing", async () => {
    const image = await create();
    const foreign = await create({ folderId: "f2" }, other);
    await assert.rejects(
      env.core.lifecycle.deprecate(editor, ref(image), { state: "DEPRECATED", replacement: ref(foreign) }),
      refusedWith("INVALID_ARGUMENT"),
    );
    await assert.rejects(
      env.core.lifecycle.deprecate(editor, ref(image), { state: "DEPRECATED", replacement: ref(image) }),
      refusedWith("INVALID_ARGUMENT"),
    );
    // A time for a state already reached stays on record and schedules nothing (as GCE's).
    await env.core.lifecycle.deprecate(editor, ref(image), {
      state: "OBSOLETE",
      deprecateAt: Date.now() + 1000,
    });
    const pending = (await env.core.images.listOperations(editor, ref(image), 100, "")).items.filter(
      (o) => o.kind === "image.transition" && !o.done,
    );
    assert.deepEqual(pending, []);
    await assert.rejects(
      env.core.lifecycle.deprecate(other, ref(image), { state: "DEPRECATED" }),
      refusedWith("NOT_FOUND"),
    );
  });

  it("scheduled transitions fire at their time, once; a new schedule supersedes the old", async () => {
    const image = await create();
    const soon = Date.now() + 400;
    await env.core.lifecycle.deprecate(editor, ref(image), { deprecateAt: Date.now() + 60_000 });
    await env.core.lifecycle.deprecate(editor, ref(image), { deprecateAt: soon, obsoleteAt: soon + 300 });
    const ops = async () => (await env.core.images.listOperations(editor, ref(image), 100, "")).items;
    const scheduled = (await ops()).filter((o) => o.kind === "image.transition");
    assert.equal(scheduled.length, 3, "one superseded, two pending");
    assert.equal(scheduled.filter((o) => o.done && o.error?.code === "CANCELLED").length, 1);
    assert.equal((await env.core.images.get(editor, ref(image))).deprecation.state, "ACTIVE");
    const obsolete = await waitFor(
      () => env.core.images.get(editor, ref(image)),
      (i) => i.deprecation.state === "OBSOLETE",
    );
    assert.ok(Date.now() >= soon + 300);
    // Each transition saved once: created, two deprecate calls, deprecated, obsolete.
    const transitions = (await ops()).filter((o) => o.kind === "image.transition" && o.done && !o.error);
    assert.equal(transitions.length, 2);
    assert.equal(obsolete.deprecation.deprecateAt, soon, "the schedule stays on record");
  });

  it("a transition due while every worker is busy with a long import still fires at its time", async () => {
    const busy = await startInProcess({ VITRINE_OPERATION_CONCURRENCY: "1" });
    const slow = await startFileServer({ chunkBytes: 16 * 1024, intervalMs: 100 });
    try {
      const ready = await settled(busy.core, editor, await busy.core.images.create(editor, creation(uri)));
      const image = { kind: "compute" as const, id: ready.resourceId };
      const slowUri = slow.serve("slow.qcow2", fixture("qcow2", 8).path).replace("/files/", "/slow/");
      const importing = await busy.core.images.create(editor, creation(slowUri));
      await busy.core.lifecycle.deprecate(editor, image, { deprecateAt: Date.now() + 300 });
      await waitFor(
        () => busy.core.images.get(editor, image),
        (i) => i.deprecation.state === "DEPRECATED",
        3000,
      );
      assert.equal(
        (await busy.core.operations.get(editor, importing.id)).done,
        false,
        "the import still runs",
      );
      await busy.core.operations.cancel(editor, importing.id);
    } finally {
      await busy.close();
      await slow.close();
    }
  });

  it("a scheduled deletion moves the image to the bin; a protected image cannot be scheduled for one", async () => {
    const image = await create();
    await env.core.lifecycle.deprecate(editor, ref(image), { deleteAt: Date.now() + 200 });
    await waitFor(
      () => env.catalog.images.findById(image.id),
      (i) => i?.status === "binned",
    );
    await assert.rejects(env.core.images.get(editor, ref(image)), refusedWith("NOT_FOUND"));
    const guarded = await create();
    await env.core.images.update(
      editor,
      ref(guarded),
      { set: { protected: true } },
      {
        apply: "now",
        description: "Update image",
        uniqueName: true,
        minDiskCoversData: true,
      },
    );
    await assert.rejects(
      env.core.lifecycle.deprecate(editor, ref(guarded), { deleteAt: Date.now() + 1000 }),
      refusedWith("FAILED_PRECONDITION", "PROTECTED"),
    );
  });

  it("the bin: a deleted image is gone for the dialects, listed in the bin, restored whole", async () => {
    const image = await create({ name: "keep-me", labels: { team: "infra" } });
    await env.core.accessBindings.update(member("dev", "f1", "admin"), ref(image), [
      {
        action: "ADD",
        accessBinding: { roleId: "viewer", subject: { id: "allAuthenticatedUsers", type: "system" } },
      },
    ]);
    await settled(env.core, editor, await env.core.images.delete(editor, ref(image), "Delete image"));
    await assert.rejects(env.core.images.get(editor, ref(image)), refusedWith("NOT_FOUND"));
    const listed = await env.core.images.list(editor, {
      kind: "compute",
      folderId: "f1",
      conditions: [],
      order: { field: "id", dir: "asc" },
      pageSize: 1000,
      pageToken: "",
    });
    assert.ok(!listed.items.some((i) => i.id === image.id));
    const bin = await env.core.lifecycle.listBin(editor, "f1", 100, "");
    const entry = bin.items.find((i) => i.id === image.id);
    assert.ok(entry?.bin);
    assert.ok(Math.abs(entry.bin.purgeAt - entry.bin.binnedAt - 3600_000) < 5);
    // Its name is free meanwhile; a restore then needs it back.
    const taker = await create({ name: "keep-me" });
    await assert.rejects(env.core.lifecycle.restore(editor, image.id), refusedWith("ALREADY_EXISTS"));
    await settled(env.core, editor, await env.core.images.delete(editor, ref(taker), "Delete image"));
    // Others cannot see it in the bin, nor restore it.
    await assert.rejects(env.core.lifecycle.restore(other, image.id), refusedWith("NOT_FOUND"));

    const { image: restored } = await env.core.lifecycle.restore(editor, image.uuid);
    assert.equal(restored.status, "active");
    assert.equal(restored.uuid, image.uuid);
    assert.equal(restored.checksumSha512, image.checksumSha512);
    assert.deepEqual(restored.labels, { team: "infra" });
    const bindings = await env.core.accessBindings.list(editor, ref(image), 10, "");
    assert.equal(bindings.items.length, 1, "access bindings survive the bin");
    const purge = (await env.core.images.listOperations(editor, ref(image), 100, "")).items.find(
      (o) => o.kind === "image.purge",
    );
    assert.equal(purge?.error?.code, "CANCELLED", "its purge is called off");
    await env.core.lifecycle.purge(editor, image.id).catch(refusedWith("NOT_FOUND"));
  });

  it("a purge frees the bytes only when no other image shares them", async () => {
    const source = await create();
    const copy = await fromImage(source);
    assert.equal(copy.blobKey, source.blobKey);
    await settled(env.core, editor, await env.core.images.delete(editor, ref(source), "Delete image"));
    await settled(env.core, editor, await env.core.lifecycle.purge(editor, source.id));
    assert.equal(await env.catalog.images.findById(source.id), null, "purged");
    const stream = await env.blobs.read(source.blobKey!);
    stream.resume();
    await settled(env.core, editor, await env.core.images.delete(editor, ref(copy), "Delete image"));
    await settled(env.core, editor, await env.core.lifecycle.purge(editor, copy.id));
    await assert.rejects(env.blobs.read(copy.blobKey!), "the last holder's purge frees the blob");
  });

  it("the bin's retention per folder: 0 deletes at once; only the service admin sets it", async () => {
    await assert.rejects(
      env.core.lifecycle.setBinRetention(editor, "f3", 0),
      refusedWith("PERMISSION_DENIED"),
    );
    const settings = await env.core.lifecycle.setBinRetention(ADMIN, "f3", 0);
    assert.equal(settings.retentionSeconds, 0);
    assert.equal(settings.installationRetentionSeconds, 3600);
    const who = member("dev3", "f3");
    const image = await create({ folderId: "f3" }, who);
    await settled(env.core, who, await env.core.images.delete(who, ref(image), "Delete image"));
    assert.equal(await env.catalog.images.findById(image.id), null);
  });

  it("a retention rule keeps the newest N of a family and deprecates the rest, and goes on with each new build", async () => {
    const base = await create({ folderId: "f4" }, member("ci", "f4"));
    const ci = member("ci", "f4");
    const build = () =>
      create({ folderId: "f4", family: "nightly", source: { type: "image", imageId: base.id } }, ci);
    const builds: Image[] = [];
    for (let i = 0; i < 10; i++) builds.push(await build());
    await env.core.lifecycle.putRule(ci, "f4", "nightly", { keep: 3, action: "DEPRECATE", afterSeconds: 0 });
    const states = () =>
      Promise.all(builds.map(async (b) => (await env.core.images.get(ci, ref(b))).deprecation.state));
    const after = await waitFor(states, (s) => s.filter((x) => x === "DEPRECATED").length === 7);
    assert.deepEqual(after.slice(7), ["ACTIVE", "ACTIVE", "ACTIVE"], "the newest three stay");
    assert.equal((await env.core.images.latestOfFamily(ci, "compute", "f4", "nightly")).id, builds[9]!.id);

    // The next nightly build pushes one more out.
    await build();
    await waitFor(
      () => env.core.images.get(ci, ref(builds[7]!)),
      (i) => i.deprecation.state === "DEPRECATED",
    );
    assert.equal((await env.core.lifecycle.rules(ci, "f4")).length, 1);
  });

  it("a rule that deletes after a delay sends each image to the bin when its time comes", async () => {
    const ci = member("ci5", "f5");
    const base = await create({ folderId: "f5" }, ci);
    const builds: Image[] = [];
    for (let i = 0; i < 3; i++) {
      builds.push(
        await create({ folderId: "f5", family: "daily", source: { type: "image", imageId: base.id } }, ci),
      );
    }
    await env.core.lifecycle.putRule(ci, "f5", "daily", { keep: 1, action: "DELETE", afterSeconds: 1 });
    const scheduled = await env.core.images.get(ci, ref(builds[0]!));
    assert.equal(scheduled.deprecation.deleteAt, builds[1]!.createdAt + 1000);
    await waitFor(
      () => env.core.lifecycle.listBin(ci, "f5", 10, ""),
      (p) => p.items.length === 2,
    );
    await env.core.images.get(ci, ref(builds[2]!));
    await assert.rejects(
      env.core.lifecycle.putRule(ci, "f5", "daily", { keep: 0, action: "DELETE", afterSeconds: 0 }),
      refusedWith("INVALID_ARGUMENT"),
    );
  });

  it("records each use and finds images unused since a time", async () => {
    const image = await create({ folderId: "f6" }, member("u6", "f6"));
    const who = member("u6", "f6");
    assert.equal(image.useCount, 0);
    const before = Date.now();
    const download = await env.core.imageData.download(who, image.uuid, null);
    download.stream?.resume();
    const op = await env.core.images.create(
      who,
      creation(uri, { folderId: "f6", source: { type: "image", imageId: image.id } }),
    );
    await settled(env.core, who, op);
    const used = await env.core.images.get(who, ref(image));
    assert.equal(used.useCount, 2);
    assert.ok(used.lastUsedAt! >= before);
    assert.equal(used.version, image.version, "a use is not a change");
    const unusedSince = async (when: number) =>
      (
        await env.core.images.list(who, {
          kind: "compute",
          folderId: "f6",
          conditions: [{ field: "last_used", op: "<", values: [when] }],
          order: { field: "id", dir: "asc" },
          pageSize: 100,
          pageToken: "",
        })
      ).items.map((i) => i.id);
    assert.deepEqual(await unusedSince(before), [], "used after that");
    const copyId = op.resourceId;
    assert.deepEqual(await unusedSince(Date.now() + 1000), [image.id, copyId].sort());
  });
});
