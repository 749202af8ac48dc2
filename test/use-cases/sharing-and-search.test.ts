import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SubjectAdmin } from "../../src/auth/subjects.js";
import { VitrineError } from "../../src/core/errors.js";
import { transition } from "../../src/core/image-states.js";
import type { RegisterImageInput } from "../../src/core/images/register-image.js";
import type { SearchImagesInput } from "../../src/core/images/search-images.js";
import { pendingTag } from "../../src/core/ports/blob-store.js";
import { ANONYMOUS, type Principal } from "../../src/core/principal.js";
import {
  ADMIN,
  type InProcess,
  member,
  registration,
  settled,
  startInProcess,
} from "../helpers/in-process.js";

/**
 * Sharing (members, access bindings), the cross-folder search, and the recovery of uploads whose
 * node died, in process on the real stores: what each use case decides, without a dialect.
 */
const owner = member("olga", "p1", "editor");
const partner = member("pete", "p2", "editor");
const stranger = member("sam", "p3", "editor");
const folderAdmin = member("ada", "p1", "admin");

function rejectsWith(code: string, reason?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof VitrineError, String(err));
    assert.equal(err.code, code, err.message);
    if (reason) assert.equal(err.reason, reason);
    return true;
  };
}

describe("sharing, search and upload recovery use cases", () => {
  let env: InProcess;
  before(async () => {
    env = await startInProcess();
  });
  after(async () => {
    await env.close();
  });

  const register = (p: Principal, fields: Partial<RegisterImageInput> = {}) =>
    env.core.images.register(p, registration(p.projectId, fields));
  const search = (p: Principal, fields: Partial<SearchImagesInput> = {}) =>
    env.core.images.search(p, {
      visibility: null,
      memberStatus: "accepted",
      conditions: [],
      tags: [],
      properties: [],
      sort: [{ key: "created_at", dir: "asc" }],
      marker: null,
      limit: 100,
      ...fields,
    });
  const uuids = async (p: Principal, fields: Partial<SearchImagesInput> = {}) =>
    (await search(p, fields)).items.map((i) => i.uuid);

  it("members: the owner shares a shared image; the member accepts for itself and then sees it", async () => {
    const privateOne = await register(owner, { name: "not-shared" });
    await assert.rejects(
      env.core.members.add(owner, privateOne.uuid, "p2"),
      rejectsWith("PERMISSION_DENIED", "NOT_SHARED"),
    );
    const img = await register(owner, { name: "shared-one", visibility: "shared" });
    await assert.rejects(
      env.core.members.add(partner, img.uuid, "p2"),
      rejectsWith("NOT_FOUND"),
      "not visible to p2 yet",
    );
    await env.core.members.add(owner, img.uuid, "p2");
    await assert.rejects(
      env.core.members.add(owner, img.uuid, "p2"),
      rejectsWith("ALREADY_EXISTS", "MEMBER_CONFLICT"),
    );
    assert.ok(!(await uuids(partner)).includes(img.uuid), "a pending share is not in the default view");
    assert.ok((await uuids(partner, { memberStatus: "pending" })).includes(img.uuid));
    await assert.rejects(
      env.core.members.setStatus(owner, img.uuid, "p2", "accepted"),
      rejectsWith("PERMISSION_DENIED"),
      "the owner cannot accept for the member",
    );
    await env.core.members.setStatus(partner, img.uuid, "p2", "accepted");
    assert.ok((await uuids(partner)).includes(img.uuid));
    assert.deepEqual(
      (await env.core.members.list(partner, img.uuid)).map((m) => [m.memberId, m.status]),
      [["p2", "accepted"]],
    );
    await assert.rejects(env.core.images.get(stranger, { uuid: img.uuid }), rejectsWith("NOT_FOUND"));
    await env.core.members.remove(owner, img.uuid, "p2");
    await assert.rejects(env.core.images.get(partner, { uuid: img.uuid }), rejectsWith("NOT_FOUND"));
  });

  it("access bindings: a role on one image for one subject, or for everyone; changes are operations", async () => {
    const img = await register(owner, { name: "bound" });
    const bobId = await new SubjectAdmin(env.catalog).createSubject("bob", "userAccount");
    const bob: Principal = { ...stranger, subjectId: bobId };
    await assert.rejects(env.core.images.get(bob, { kind: "compute", id: img.id }), rejectsWith("NOT_FOUND"));
    const set = await env.core.accessBindings.set(folderAdmin, { kind: "compute", id: img.id }, [
      { roleId: "compute.images.user", subject: { id: bobId, type: "userAccount" } },
    ]);
    assert.equal((await settled(env.core, folderAdmin, set)).done, true);
    assert.equal((await env.core.images.get(bob, { kind: "compute", id: img.id })).id, img.id);
    await assert.rejects(
      env.core.images.get(ANONYMOUS, { kind: "compute", id: img.id }),
      rejectsWith("UNAUTHENTICATED"),
    );
    const opened = await env.core.accessBindings.update(folderAdmin, { kind: "compute", id: img.id }, [
      { action: "ADD", accessBinding: { roleId: "viewer", subject: { id: "allUsers", type: "system" } } },
    ]);
    assert.equal((await settled(env.core, folderAdmin, opened)).done, true);
    assert.equal((await env.core.images.get(ANONYMOUS, { kind: "compute", id: img.id })).id, img.id);
    const listed = await env.core.accessBindings.list(folderAdmin, { kind: "compute", id: img.id }, 100, "");
    assert.deepEqual(listed.items.map((b) => `${b.roleId} ${b.subject.type}:${b.subject.id}`).sort(), [
      `compute.images.user userAccount:${bobId}`,
      "viewer system:allUsers",
    ]);
    await assert.rejects(
      env.core.accessBindings.update(folderAdmin, { kind: "compute", id: img.id }, [
        { action: "ADD", accessBinding: { roleId: "editor", subject: { id: "allUsers", type: "system" } } },
      ]),
      rejectsWith("INVALID_ARGUMENT"),
      "everyone may read and use, never write",
    );
    await assert.rejects(
      env.core.accessBindings.set(bob, { kind: "compute", id: img.id }, []),
      rejectsWith("PERMISSION_DENIED"),
      "a user of the image does not manage its bindings",
    );
  });

  it("search: the default view, visibility filters, tags and properties, keyset pages by marker", async () => {
    const mine = await register(owner, { name: "s-private", tags: ["gpu"], properties: { team: "ml" } });
    const community = await register(owner, { name: "s-community", visibility: "community" });
    const pub = await register(ADMIN, { name: "s-public", visibility: "public", folderId: "admin" });
    assert.ok((await uuids(owner)).includes(mine.uuid));
    const othersView = await uuids(partner);
    assert.ok(
      othersView.includes(pub.uuid) &&
        !othersView.includes(mine.uuid) &&
        !othersView.includes(community.uuid),
    );
    assert.ok((await uuids(partner, { visibility: "community" })).includes(community.uuid));
    assert.deepEqual(await uuids(owner, { tags: ["gpu"] }), [mine.uuid]);
    assert.deepEqual(await uuids(owner, { properties: [{ name: "team", value: "ml" }] }), [mine.uuid]);
    const all = await uuids(ADMIN);
    const first = await search(ADMIN, { limit: 2 });
    assert.equal(first.more, true);
    const rest = await uuids(ADMIN, { marker: first.items[1]!.uuid });
    assert.deepEqual([...first.items.map((i) => i.uuid), ...rest], all, "pages without gaps or repeats");
    await assert.rejects(
      search(ADMIN, { marker: "00000000-0000-4000-8000-000000000000" }),
      rejectsWith("INVALID_ARGUMENT"),
    );
  });

  it("an upload whose node died goes back to queued, and what it left is removed", async () => {
    const img = await register(owner, { name: "orphaned-upload" });
    const blobKey = "dead-node-blob";
    await env.catalog.transaction(async (tx) => {
      await tx.uploads.begin({ imageId: img.id, nodeId: "a-node-that-died", blobKey, startedAt: Date.now() });
      await tx.images.save(img, transition(img, "saving"), Date.now());
    });
    // What it was writing when it died.
    const writer = await env.blobs.createWriter(blobKey, pendingTag({ type: "upload", imageId: img.id }));
    await new Promise<void>((resolve) => writer.stream.write(Buffer.alloc(4096, 1), () => resolve()));
    assert.equal((await env.core.images.get(owner, { uuid: img.uuid })).status, "saving");
    const recovered = await env.core.imageData.recoverAbandonedUploads(Date.now());
    assert.deepEqual(recovered, [img.id]);
    assert.equal((await env.core.images.get(owner, { uuid: img.uuid })).status, "queued");
    assert.equal(await env.catalog.uploads.find(img.id), null);
    assert.ok(!(await env.blobs.listPendingTags()).includes(pendingTag({ type: "upload", imageId: img.id })));
    assert.deepEqual(await env.core.imageData.recoverAbandonedUploads(Date.now()), [], "nothing twice");
  });
});

describe("metadata definition use cases", () => {
  let env: InProcess;
  before(async () => {
    env = await startInProcess();
  });
  after(async () => {
    await env.close();
  });
  const user = member("uma", "p1", "editor");

  it("admins define namespaces with their content in one go; a private one is its owner's; protected ones stay", async () => {
    await assert.rejects(
      env.core.metadefs.createNamespace(user, { namespace: "UC::Denied" }),
      rejectsWith("PERMISSION_DENIED"),
      "Glance's default policy: definitions are the admin's",
    );
    await env.core.metadefs.createNamespace(ADMIN, {
      namespace: "UC::Private",
      visibility: "private",
      protected: true,
      owner: "p2",
      entries: [
        { kind: "property", name: "hw_x", body: { title: "X", type: "string" } },
        { kind: "tag", name: "fast", body: {} },
      ],
    });
    await assert.rejects(env.core.metadefs.getNamespace(user, "UC::Private"), rejectsWith("NOT_FOUND"));
    const seen = await env.core.metadefs.getNamespace(member("pia", "p2", "viewer"), "UC::Private");
    assert.deepEqual(
      seen.properties.map((p) => p.name),
      ["hw_x"],
    );
    assert.deepEqual(
      seen.tags.map((t) => t.name),
      ["fast"],
    );
    await assert.rejects(
      env.core.metadefs.createEntry(ADMIN, "UC::Private", { kind: "tag", name: "fast", body: {} }),
      rejectsWith("ALREADY_EXISTS"),
    );
    await assert.rejects(
      env.core.metadefs.deleteNamespace(ADMIN, "UC::Private"),
      rejectsWith("PERMISSION_DENIED"),
    );
    await env.core.metadefs.updateNamespace(ADMIN, "UC::Private", {
      namespace: "UC::Private",
      protected: false,
    });
    await env.core.metadefs.deleteNamespace(ADMIN, "UC::Private");
    await assert.rejects(env.core.metadefs.getNamespace(ADMIN, "UC::Private"), rejectsWith("NOT_FOUND"));
  });
});
