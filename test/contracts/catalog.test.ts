import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { VitrineError } from "../../src/core/errors.js";
import { newResourceId } from "../../src/core/ids.js";
import { transition } from "../../src/core/image-states.js";
import { type Image, newQueuedImage } from "../../src/core/image.js";
import type { EntryKind, MetadefEntry, MetadefNamespace } from "../../src/core/metadefs/metadef.js";
import type { Catalog, NamespaceListQuery, NewOperation } from "../../src/core/ports/catalog.js";
import type { ServiceCatalog } from "../../src/storage/meta/sql-catalog.js";
import type { ImageSearch } from "../../src/core/image-query.js";
import { CATALOGS } from "./backends.js";

/**
 * The catalog contract (core/ports/catalog.ts), run against every implementation: what the use
 * cases rely on — conditional saves, cascades, keyset pages, search scopes, leases — stated once.
 */
for (const backend of CATALOGS) {
  describe(`Catalog contract: ${backend.name}`, () => {
    let catalog: ServiceCatalog;
    let close: () => Promise<void>;
    let clock = 1_700_000_000_000;

    beforeEach(async () => {
      ({ store: catalog, close } = await backend.open());
    });
    afterEach(() => close());
    after(() => backend.shutdown?.());

    function image(fields: Partial<Image> = {}): Image {
      return { ...newQueuedImage({ kind: "compute", folderId: "f1" }, clock++), ...fields };
    }
    async function inserted(fields: Partial<Image> = {}): Promise<Image> {
      const img = image(fields);
      await catalog.images.insert(img);
      return img;
    }
    function operation(fields: Partial<NewOperation> = {}): NewOperation {
      return {
        id: newResourceId(),
        kind: "image.create",
        resourceKind: "compute",
        resourceId: "img",
        folderId: "f1",
        description: "Create image",
        createdBy: "alice",
        task: {
          type: "create",
          source: { type: "uri", uri: "https://example.com/a.qcow2" },
          allowedFormats: ["qcow2"],
          inherit: { osType: true, productIds: true, minDiskSize: true },
          formats: "detected",
          onFailure: "kill",
        },
        idempotencyKey: null,
        ...fields,
      };
    }

    describe("images", () => {
      it("keeps every field of an image, found by either id", async () => {
        const img = await inserted({
          name: "ubuntu",
          labels: { env: "prod" },
          productIds: ["p1"],
          hardwareGeneration: { legacyFeatures: { pciTopology: "PCI_TOPOLOGY_V2" } },
          tags: ["a", "b"],
          properties: { __os_version: "Ubuntu 22.04 64bit", empty: "" },
          diskFormat: "qcow2",
          containerFormat: "bare",
          minRam: 512,
          visibility: "shared",
          protected: true,
          osHidden: true,
          pooled: true,
          osType: "WINDOWS",
        });
        assert.deepEqual(await catalog.images.findById(img.id), img);
        assert.deepEqual(await catalog.images.findByUuid(img.uuid), img);
        assert.equal(await catalog.images.findById("missing"), null);
      });

      it("saves only over the status and version that were read", async () => {
        const img = await inserted();
        const importing = await catalog.images.save(img, transition(img, "importing"), 42);
        assert.equal(importing?.status, "importing");
        assert.equal(importing?.version, img.version + 1);
        assert.equal(importing?.updatedAt, 42);
        // A stale read (old version, old status) cannot land, and changes nothing.
        assert.equal(await catalog.images.save(img, { ...img, name: "late" }, 43), null);
        assert.equal((await catalog.images.findById(img.id))?.name, "");
        // The status is part of the condition too: same version, other status.
        assert.equal(
          await catalog.images.save({ ...importing!, status: "queued" }, { ...importing!, name: "x" }, 44),
          null,
        );
        const renamed = await catalog.images.save(importing!, { ...importing!, name: "x" }, 45);
        assert.equal(renamed?.name, "x");
      });

      it("deletes an image with its tags, properties, members and bindings", async () => {
        const img = await inserted({ tags: ["t"], properties: { p: "v" }, visibility: "shared" });
        await catalog.members.insert({
          imageId: img.id,
          memberId: "p2",
          status: "accepted",
          createdAt: 1,
          updatedAt: 1,
        });
        await catalog.bindings.add("image", img.id, {
          roleId: "viewer",
          subject: { id: "bob", type: "userAccount" },
        });
        await catalog.images.delete(img.id);
        assert.equal(await catalog.images.findById(img.id), null);
        assert.deepEqual(await catalog.members.list(img.id), []);
        assert.deepEqual(await catalog.bindings.list("image", img.id), []);
        const found = await catalog.imageViews.search(search({ tags: ["t"] }));
        assert.deepEqual(found, []);
      });

      it("searches names by substring in any case, with % and _ taken literally", async () => {
        const web = await inserted({ name: "Web-Server-2024" });
        const percent = await inserted({ name: "disk_50%" });
        await inserted({ name: "database" });
        const named = async (sub: string) =>
          (
            await catalog.imageViews.search(
              search({ conditions: [{ column: "name", op: "contains", values: [sub] }] }),
            )
          ).map((i) => i.id);
        assert.deepEqual(await named("server"), [web.id]);
        assert.deepEqual(await named("WEB-s"), [web.id]);
        assert.deepEqual(await named("_50%"), [percent.id]);
        assert.deepEqual(await named("k_5"), [percent.id]);
        assert.deepEqual(await named("%"), [percent.id], "% is a character, not a wildcard");
        assert.deepEqual(await named("nothing"), []);
        // The count of a search, capped (a count costs a scan).
        const contains = (sub: string) =>
          search({ conditions: [{ column: "name", op: "contains", values: [sub] }], limit: 1 });
        assert.equal(await catalog.imageViews.countMatches(contains("e"), 100), 2);
        assert.equal(await catalog.imageViews.countMatches(contains("e"), 1), 1, "no further than the cap");
        assert.equal(await catalog.imageViews.countMatches(contains("server"), 100), 1);
      });

      it("tells taken names per kind and folder, and counts who holds a blob", async () => {
        const a = await inserted({ name: "web", blobKey: "blob1" });
        await inserted({ name: "web", kind: "baremetal", blobKey: "blob1" });
        assert.equal(await catalog.images.isNameTaken("compute", "f1", "web"), true);
        assert.equal(await catalog.images.isNameTaken("compute", "f1", "web", a.id), false);
        assert.equal(await catalog.images.isNameTaken("compute", "f2", "web"), false);
        assert.equal(await catalog.images.countBlobReferences("blob1"), 2);
        assert.equal(await catalog.images.countBlobReferences("blob2"), 0);
      });

      it("holds a name for the transaction that asked: two concurrent creates cannot both take it", async () => {
        const attempt = () =>
          catalog.transaction(async (tx) => {
            if (await tx.images.isNameTaken("compute", "f1", "contended")) return "taken";
            await new Promise((r) => setTimeout(r, 50));
            await tx.images.insert(image({ name: "contended" }));
            return "created";
          });
        const results = await Promise.all([attempt(), attempt(), attempt()]);
        assert.deepEqual(results.sort(), ["created", "taken", "taken"]);
      });

      it("commits a transaction's writes together or not at all", async () => {
        const img = image({ name: "rolled-back" });
        await assert.rejects(
          catalog.transaction(async (tx) => {
            await tx.images.insert(img);
            assert.ok(await tx.images.findById(img.id), "visible inside its transaction");
            throw new Error("boom");
          }),
          /boom/,
        );
        assert.equal(await catalog.images.findById(img.id), null);
        await catalog.transaction((tx) => tx.images.insert(img));
        assert.ok(await catalog.images.findById(img.id));
      });
    });

    describe("image read model", () => {
      it("pages a folder in keyset order without skipping or repeating", async () => {
        for (const name of ["delta", "alpha", "echo", "charlie", "bravo"]) await inserted({ name });
        await inserted({ name: "other-folder", folderId: "f2" });
        const names: string[] = [];
        let after: { value: string; id: string } | undefined;
        for (;;) {
          const rows = await catalog.imageViews.list({
            kind: "compute",
            folderId: "f1",
            conditions: [],
            order: { field: "name", dir: "asc" },
            after,
            limit: 2,
          });
          const page = rows.slice(0, 2);
          names.push(...page.map((r) => r.name));
          if (rows.length <= 2) break;
          after = { value: page[1]!.name, id: page[1]!.id };
        }
        assert.deepEqual(names, ["alpha", "bravo", "charlie", "delta", "echo"]);
      });

      it("filters with in, not in and contains (wildcards are literal)", async () => {
        await inserted({ name: "web_1", family: "ubuntu" });
        await inserted({ name: "web11", family: "debian" });
        await inserted({ name: "db", family: "ubuntu", status: "killed" });
        const names = async (conditions: Parameters<Catalog["imageViews"]["list"]>[0]["conditions"]) =>
          (
            await catalog.imageViews.list({
              kind: "compute",
              folderId: "f1",
              conditions,
              order: { field: "name", dir: "asc" },
              limit: 10,
            })
          ).map((r) => r.name);
        assert.deepEqual(await names([{ field: "name", op: "contains", values: ["_"] }]), ["web_1"]);
        assert.deepEqual(await names([{ field: "family", op: "in", values: ["ubuntu"] }]), ["db", "web_1"]);
        assert.deepEqual(await names([{ field: "status", op: "not in", values: ["killed"] }]), [
          "web11",
          "web_1",
        ]);
      });

      it("finds the newest image of a family among the given statuses", async () => {
        const old = await inserted({ family: "ubuntu", status: "active" });
        const newest = await inserted({ family: "ubuntu", status: "active" });
        await inserted({ family: "ubuntu", status: "queued" });
        assert.equal(
          (await catalog.imageViews.latestByFamily("compute", "f1", "ubuntu", ["active"]))?.id,
          newest.id,
        );
        assert.notEqual(old.id, newest.id);
        assert.equal(await catalog.imageViews.latestByFamily("compute", "f1", "debian", ["active"]), null);
      });

      it("searches within the caller's scope, leaving hidden statuses out", async () => {
        const own = await inserted({ folderId: "p1", name: "own" });
        await inserted({ folderId: "p2", name: "private-other" });
        const pub = await inserted({ folderId: "p2", name: "public", visibility: "public" });
        const community = await inserted({ folderId: "p2", name: "community", visibility: "community" });
        const shared = await inserted({ folderId: "p2", name: "shared", visibility: "shared" });
        const pending = await inserted({ folderId: "p2", name: "pending", visibility: "shared" });
        await inserted({ folderId: "p1", name: "gone", status: "deleting" });
        await catalog.members.insert({
          imageId: shared.id,
          memberId: "p1",
          status: "accepted",
          createdAt: 1,
          updatedAt: 1,
        });
        await catalog.members.insert({
          imageId: pending.id,
          memberId: "p1",
          status: "pending",
          createdAt: 1,
          updatedAt: 1,
        });
        const ids = async (scope: ImageSearch["scope"]) =>
          new Set((await catalog.imageViews.search(search({ scope }))).map((i) => i.id));
        assert.deepEqual(
          await ids({
            all: false,
            owners: ["p1"],
            public: true,
            community: false,
            sharedWith: { projects: ["p1"], statuses: ["accepted"] },
          }),
          new Set([own.id, pub.id, shared.id]),
        );
        assert.deepEqual(
          await ids({
            all: false,
            owners: [],
            public: false,
            community: true,
            sharedWith: { projects: ["p1"], statuses: ["pending"] },
          }),
          new Set([community.id, pending.id]),
        );
        assert.equal(
          (await ids({ all: true, owners: [], public: true, community: true, sharedWith: null })).size,
          6,
        );
      });

      it("filters a search on columns, every tag and every property", async () => {
        const a = await inserted({ tags: ["x", "y"], properties: { os: "linux" }, size: 10 });
        await inserted({ tags: ["x"], properties: { os: "linux" }, size: 20 });
        await inserted({ tags: ["x", "y"], properties: { os: "windows" }, size: 30 });
        const found = await catalog.imageViews.search(
          search({
            tags: ["x", "y"],
            properties: [{ name: "os", value: "linux" }],
            conditions: [{ column: "size", op: "<", values: [15] }],
          }),
        );
        assert.deepEqual(
          found.map((i) => i.id),
          [a.id],
        );
      });

      it("pages a search in a multi-key order with mixed directions", async () => {
        for (const [name, size] of [
          ["a", 3],
          ["a", 1],
          ["b", 2],
          ["b", 5],
          ["c", 4],
        ] as const)
          await inserted({ name, size });
        const sort: ImageSearch["sort"] = [
          { key: "name", dir: "asc" },
          { key: "size", dir: "desc" },
        ];
        const seen: string[] = [];
        let after: Image | undefined;
        for (;;) {
          const rows = await catalog.imageViews.search(search({ sort, after, limit: 2 }));
          const page = rows.slice(0, 2);
          seen.push(...page.map((r) => `${r.name}${r.size}`));
          if (rows.length <= 2) break;
          after = page[1];
        }
        assert.deepEqual(seen, ["a3", "a1", "b5", "b2", "c4"]);
      });
    });

    describe("operations", () => {
      it("keeps an operation with its typed task; finds it by idempotency key", async () => {
        const op = await catalog.operations.insert(operation({ idempotencyKey: "k1" }), 1000);
        assert.equal(op.done, false);
        assert.deepEqual(await catalog.operations.findById(op.id), op);
        assert.equal(op.task.type, "create");
        assert.deepEqual((await catalog.operations.findByIdempotencyKey("alice", "k1"))?.id, op.id);
        assert.equal(await catalog.operations.findByIdempotencyKey("bob", "k1"), null);
        const done = await catalog.operations.insert(
          operation({ task: { type: "none" }, result: { response: { type: "empty" } } }),
          1000,
        );
        assert.equal(done.done, true);
        assert.deepEqual(done.response, { type: "empty" });
      });

      it("lets exactly one worker hold a lease until it expires or is released", async () => {
        const op = await catalog.operations.insert(operation(), 1000);
        assert.deepEqual(await catalog.operations.findClaimable(2000, 10), [op.id]);
        const claimed = await catalog.operations.claim(op.id, "w1", 2000, 500);
        assert.equal(claimed?.attempts, 1);
        assert.equal(await catalog.operations.claim(op.id, "w2", 2100, 500), null);
        assert.deepEqual(await catalog.operations.findClaimable(2100, 10), []);
        // w1 died: the lease runs out and w2 takes over.
        assert.equal((await catalog.operations.claim(op.id, "w2", 2600, 500))?.attempts, 2);
        await catalog.operations.release(op.id, "w2", 2700);
        assert.equal((await catalog.operations.claim(op.id, "w3", 2800, 500))?.attempts, 2);
      });

      it("refuses a second operation with its creator's idempotency key as a replay", async () => {
        await catalog.operations.insert(operation({ idempotencyKey: "k2" }), 1000);
        await assert.rejects(
          catalog.operations.insert(operation({ idempotencyKey: "k2" }), 1001),
          (err: unknown) => err instanceof VitrineError && err.reason === "IDEMPOTENCY_REPLAY",
        );
        await catalog.operations.insert(operation({ idempotencyKey: "k2", createdBy: "bob" }), 1002);
      });

      it("gives a free operation to exactly one of many concurrent claims", async () => {
        const op = await catalog.operations.insert(operation(), 1000);
        const claims = await Promise.all(
          ["w1", "w2", "w3", "w4", "w5"].map((w) => catalog.operations.claim(op.id, w, 2000, 5000)),
        );
        assert.equal(claims.filter((c) => c !== null).length, 1);
      });

      it("renews leases, reports requested cancellations, and lets only the holder finish", async () => {
        const op = await catalog.operations.insert(operation(), 1000);
        await catalog.operations.claim(op.id, "w1", 1000, 500);
        assert.deepEqual(await catalog.operations.renewLeases("w1", [op.id], 1400, 500), []);
        assert.equal(
          await catalog.operations.claim(op.id, "w2", 1600, 500),
          null,
          "renewed lease still held",
        );
        await catalog.operations.requestCancel(op.id, 1700);
        assert.deepEqual(await catalog.operations.renewLeases("w1", [op.id], 1750, 500), [op.id]);
        assert.equal(
          await catalog.operations.finish(op.id, "w2", { response: { type: "empty" } }, 1800),
          false,
        );
        assert.equal(await catalog.operations.hasUnfinished("img"), true);
        assert.equal(
          await catalog.operations.finish(
            op.id,
            "w1",
            { error: { code: "CANCELLED", message: "cancelled" } },
            1800,
          ),
          true,
        );
        const ended = await catalog.operations.findById(op.id);
        assert.deepEqual(ended?.error, { code: "CANCELLED", message: "cancelled" });
        assert.equal(await catalog.operations.hasUnfinished("img"), false);
        assert.deepEqual([...(await catalog.operations.unfinishedIds())], []);
      });

      it("lists a resource's operations newest first, in pages", async () => {
        const ids: string[] = [];
        for (let t = 1; t <= 5; t++) ids.push((await catalog.operations.insert(operation(), t * 1000)).id);
        const first = await catalog.operations.listForResource("img", 2);
        assert.deepEqual(
          first.slice(0, 2).map((o) => o.id),
          [ids[4], ids[3]],
        );
        const last = first[1]!;
        const second = await catalog.operations.listForResource("img", 2, {
          createdAt: last.createdAt,
          id: last.id,
        });
        assert.deepEqual(
          second.slice(0, 2).map((o) => o.id),
          [ids[2], ids[1]],
        );
      });
    });

    describe("members, bindings, subjects and tokens", () => {
      it("keeps image members and their statuses", async () => {
        await inserted({ id: "i1", visibility: "shared" });
        await catalog.members.insert({
          imageId: "i1",
          memberId: "p2",
          status: "pending",
          createdAt: 1,
          updatedAt: 1,
        });
        await catalog.members.insert({
          imageId: "i1",
          memberId: "p3",
          status: "pending",
          createdAt: 2,
          updatedAt: 2,
        });
        await catalog.members.setStatus("i1", "p2", "accepted", 5);
        assert.deepEqual(await catalog.members.find("i1", "p2"), {
          imageId: "i1",
          memberId: "p2",
          status: "accepted",
          createdAt: 1,
          updatedAt: 5,
        });
        assert.deepEqual(
          (await catalog.members.list("i1")).map((m) => m.memberId),
          ["p2", "p3"],
        );
        assert.deepEqual(
          (await catalog.members.list("i1", ["p3"])).map((m) => m.memberId),
          ["p3"],
        );
        assert.deepEqual(await catalog.members.list("i1", []), []);
        await catalog.members.delete("i1", "p2");
        assert.equal(await catalog.members.find("i1", "p2"), null);
      });

      it("adds and removes bindings once each, and answers who holds what", async () => {
        const viewer = { roleId: "viewer", subject: { id: "bob", type: "userAccount" } } as const;
        const editor = { roleId: "editor", subject: { id: "bob", type: "userAccount" } } as const;
        assert.equal(await catalog.bindings.add("image", "i1", viewer), true);
        assert.equal(await catalog.bindings.add("image", "i1", viewer), false);
        await catalog.bindings.add("image", "i1", editor);
        await catalog.bindings.add("folder", "f1", editor);
        assert.deepEqual(await catalog.bindings.list("image", "i1"), [editor, viewer]);
        assert.deepEqual((await catalog.bindings.rolesOn("image", "i1", ["bob", "allUsers"])).sort(), [
          "editor",
          "viewer",
        ]);
        assert.deepEqual(await catalog.bindings.folderRolesOf("bob"), [{ folderId: "f1", role: "editor" }]);
        assert.equal(await catalog.bindings.remove("image", "i1", viewer), true);
        assert.equal(await catalog.bindings.remove("image", "i1", viewer), false);
      });

      it("keeps subjects and tokens by hash; a token is revoked once", async () => {
        await catalog.subjects.insert({
          id: "s1",
          type: "serviceAccount",
          name: "ci",
          isAdmin: false,
          createdAt: 1,
        });
        await catalog.subjects.insert({
          id: "s0",
          type: "userAccount",
          name: "admin",
          isAdmin: true,
          createdAt: 0,
        });
        assert.deepEqual(
          await catalog.subjects.typesOf(["s1", "nobody"]),
          new Map([["s1", "serviceAccount"]]),
        );
        assert.equal(await catalog.subjects.firstAdmin(), "s0");
        await catalog.tokens.insert({
          subjectId: "s1",
          tokenHash: "h1",
          createdAt: 1,
          expiresAt: 99,
          revokedAt: null,
          projectId: "f1",
        });
        const holder = await catalog.tokens.findByHash("h1");
        assert.equal(holder?.subjectType, "serviceAccount");
        assert.equal(holder?.isAdmin, false);
        assert.equal(holder?.expiresAt, 99);
        assert.equal(holder?.projectId, "f1");
        assert.equal(await catalog.tokens.revoke("h1", 50), true);
        assert.equal(await catalog.tokens.revoke("h1", 51), false);
        assert.equal((await catalog.tokens.findByHash("h1"))?.revokedAt, 50);
        assert.equal(await catalog.tokens.findByHash("unknown"), null);
      });

      it("answers its readiness probe", async () => {
        await catalog.ping();
      });
    });

    describe("uploads", () => {
      it("an upload is found until it ends, leaves with its image, and is abandoned when its node is not seen", async () => {
        const a = await inserted();
        const b = await inserted();
        await catalog.nodes.register({
          id: "live",
          hostname: "h",
          machineId: "m",
          pid: 1,
          role: "all",
          blobStore: "s",
          startedAt: 1000,
          seenAt: 5000,
        });
        await catalog.uploads.begin({ imageId: a.id, nodeId: "live", blobKey: "ka", startedAt: 1 });
        await catalog.uploads.begin({ imageId: b.id, nodeId: "gone", blobKey: "kb", startedAt: 2 });
        assert.deepEqual(await catalog.uploads.find(a.id), {
          imageId: a.id,
          nodeId: "live",
          blobKey: "ka",
          startedAt: 1,
        });
        assert.deepEqual(
          (await catalog.uploads.abandoned(4000)).map((u) => u.imageId),
          [b.id],
          "the upload of a node never seen",
        );
        assert.deepEqual(
          (await catalog.uploads.abandoned(6000)).map((u) => u.imageId),
          [a.id, b.id],
          "and of a node not seen since",
        );
        await catalog.uploads.end(b.id);
        assert.equal(await catalog.uploads.find(b.id), null);
        await catalog.images.delete(a.id);
        assert.equal(await catalog.uploads.find(a.id), null, "deleted with its image");
      });
    });

    describe("nodes", () => {
      const node = (id: string, seenAt: number) => ({
        id,
        hostname: "h1",
        machineId: "m1",
        pid: 42,
        role: "all",
        blobStore: "directory:abc",
        startedAt: seenAt,
        seenAt,
      });

      it("lists the nodes seen since a time, forgets older ones, refreshes and removes", async () => {
        await catalog.nodes.register(node("n1", 1000));
        await catalog.nodes.register(node("n2", 5000));
        await catalog.nodes.register({ ...node("n3", 6000), role: "worker" });
        assert.deepEqual(
          (await catalog.nodes.seenSince(4000)).map((n) => [n.id, n.role]),
          [
            ["n2", "all"],
            ["n3", "worker"],
          ],
        );
        assert.equal(await catalog.nodes.heartbeat("n1", 9000), false, "a forgotten node's record is gone");
        assert.equal(await catalog.nodes.heartbeat("n2", 9000), true);
        await catalog.nodes.remove("n3");
        assert.deepEqual(await catalog.nodes.seenSince(8000), [{ ...node("n2", 5000), seenAt: 9000 }]);
        await catalog.nodes.register({ ...node("n2", 9500), blobStore: "s3://b/p/" });
        assert.equal((await catalog.nodes.seenSince(0))[0]!.blobStore, "s3://b/p/", "register replaces");
      });
    });

    describe("metadefs", () => {
      const ns = (name: string, fields: Partial<MetadefNamespace> = {}): MetadefNamespace => ({
        id: newResourceId(),
        namespace: name,
        displayName: null,
        description: null,
        visibility: "private",
        protected: false,
        owner: "p1",
        createdAt: clock++,
        updatedAt: clock,
        ...fields,
      });
      const entry = (kind: EntryKind, name: string, body: Record<string, unknown> = {}): MetadefEntry => ({
        kind,
        name,
        body,
        createdAt: clock++,
        updatedAt: clock,
      });
      const taken = (err: unknown) => err instanceof VitrineError && err.code === "ALREADY_EXISTS";

      it("keeps namespaces by unique name; a rename onto a taken name and a second insert are refused", async () => {
        const a = ns("Test::A", { displayName: "A", description: "first", protected: true });
        await catalog.metadefs.insertNamespace(a);
        assert.deepEqual(await catalog.metadefs.findNamespace("Test::A"), a);
        assert.equal(await catalog.metadefs.findNamespace("Test::Missing"), null);
        await assert.rejects(catalog.metadefs.insertNamespace(ns("Test::A")), taken);
        const b = ns("Test::B");
        await catalog.metadefs.insertNamespace(b);
        await assert.rejects(catalog.metadefs.updateNamespace({ ...b, namespace: "Test::A" }), taken);
        const renamed = { ...b, namespace: "Test::C", visibility: "public" as const, updatedAt: clock++ };
        await catalog.metadefs.updateNamespace(renamed);
        assert.deepEqual(await catalog.metadefs.findNamespace("Test::C"), renamed);
        assert.equal(await catalog.metadefs.findNamespace("Test::B"), null);
      });

      it("holds entries per kind, uniquely named, oldest first; counts, renames and deletes them", async () => {
        const n = ns("Test::Entries");
        await catalog.metadefs.insertNamespace(n);
        const p1 = entry("property", "hw_a", { type: "string", title: "A" });
        const p2 = entry("property", "hw_b", { type: "integer", minimum: 1 });
        const o = entry("object", "Obj", { description: "d", required: [], properties: {} });
        const t = entry("tag", "fast");
        for (const e of [p1, p2, o, t]) await catalog.metadefs.insertEntry(n.id, e);
        await assert.rejects(catalog.metadefs.insertEntry(n.id, entry("property", "hw_a")), taken);
        // Names are per kind: a tag may share a property's name.
        await catalog.metadefs.insertEntry(n.id, entry("tag", "hw_a"));
        assert.deepEqual(await catalog.metadefs.listEntries(n.id, "property"), [p1, p2]);
        assert.equal(await catalog.metadefs.countEntries(n.id, "tag"), 2);
        assert.deepEqual(await catalog.metadefs.findEntry(n.id, "object", "Obj"), o);
        assert.equal(await catalog.metadefs.findEntry(n.id, "object", "hw_a"), null);
        const p1b = { ...p1, name: "hw_c", body: { type: "boolean" }, updatedAt: clock++ };
        await catalog.metadefs.updateEntry(n.id, "hw_a", p1b);
        await assert.rejects(catalog.metadefs.updateEntry(n.id, "hw_c", { ...p1b, name: "hw_b" }), taken);
        assert.deepEqual(
          (await catalog.metadefs.listEntries(n.id, "property")).map((e) => [e.name, e.body]),
          [
            ["hw_c", { type: "boolean" }],
            ["hw_b", { type: "integer", minimum: 1 }],
          ],
        );
        assert.equal(await catalog.metadefs.deleteEntry(n.id, "property", "hw_b"), true);
        assert.equal(await catalog.metadefs.deleteEntry(n.id, "property", "hw_b"), false);
        await catalog.metadefs.deleteEntries(n.id, "tag");
        assert.equal(await catalog.metadefs.countEntries(n.id, "tag"), 0);
        await catalog.metadefs.touchNamespace(n.id, 42);
        assert.equal((await catalog.metadefs.findNamespace(n.namespace))!.updatedAt, 42);
        await catalog.metadefs.deleteNamespace(n.id);
        assert.equal(await catalog.metadefs.findNamespace(n.namespace), null);
        assert.deepEqual(await catalog.metadefs.listEntries(n.id, "object"), [], "its entries went with it");
      });

      it("associates namespaces with resource types, read one by one or several at once", async () => {
        const type = { name: "Test::Type", protected: false, createdAt: clock++, updatedAt: clock };
        await catalog.metadefs.insertResourceType(type);
        assert.deepEqual(await catalog.metadefs.findResourceType("Test::Type"), type);
        assert.ok((await catalog.metadefs.resourceTypes()).some((t) => t.name === "Test::Type"));
        const a = ns("Test::Assoc::A");
        const b = ns("Test::Assoc::B");
        await catalog.metadefs.insertNamespace(a);
        await catalog.metadefs.insertNamespace(b);
        const assoc = {
          name: "Test::Type",
          prefix: "hw_",
          propertiesTarget: null,
          createdAt: clock++,
          updatedAt: clock,
        };
        await catalog.metadefs.associate(a.id, assoc);
        await assert.rejects(catalog.metadefs.associate(a.id, assoc), taken);
        assert.deepEqual(await catalog.metadefs.associations(a.id), [assoc]);
        const both = await catalog.metadefs.associationsOf([a.id, b.id]);
        assert.deepEqual(both.get(a.id), [assoc]);
        assert.deepEqual(both.get(b.id), [], "every id asked for is present");
        assert.equal(await catalog.metadefs.dissociate(a.id, "Test::Type"), true);
        assert.equal(await catalog.metadefs.dissociate(a.id, "Test::Type"), false);
      });

      it("lists what a viewer may see, filtered by visibility and resource type, in keyset pages", async () => {
        const type = { name: "Test::Listed", protected: false, createdAt: clock++, updatedAt: clock };
        await catalog.metadefs.insertResourceType(type);
        const made: MetadefNamespace[] = [];
        for (const [name, owner, visibility] of [
          ["Test::L1", "p1", "private"],
          ["Test::L2", "p2", "private"],
          ["Test::L3", "p2", "public"],
          ["Test::L4", "p1", "public"],
        ] as const) {
          const n = ns(name, { owner, visibility });
          await catalog.metadefs.insertNamespace(n);
          await catalog.metadefs.associate(n.id, {
            name: "Test::Listed",
            prefix: null,
            propertiesTarget: null,
            createdAt: clock++,
            updatedAt: clock,
          });
          made.push(n);
        }
        const list = (fields: Partial<NamespaceListQuery>) =>
          catalog.metadefs.listNamespaces({
            viewer: { isAdmin: false, projectId: "p1" },
            resourceTypes: ["Test::Listed"],
            sortKey: "namespace",
            sortDir: "asc",
            limit: 10,
            ...fields,
          });
        const names = (rows: MetadefNamespace[]) => rows.map((n) => n.namespace);
        assert.deepEqual(
          names(await list({})),
          ["Test::L1", "Test::L3", "Test::L4"],
          "its own and public ones",
        );
        assert.deepEqual(names(await list({ viewer: { isAdmin: true, projectId: "x" } })), [
          "Test::L1",
          "Test::L2",
          "Test::L3",
          "Test::L4",
        ]);
        assert.deepEqual(names(await list({ visibility: "public" })), ["Test::L3", "Test::L4"]);
        const first = await list({ limit: 1 });
        assert.equal(first.length, 2, "limit + 1 rows tell there is more");
        assert.deepEqual(names(await list({ limit: 1, after: first[0] })), ["Test::L3", "Test::L4"]);
        assert.deepEqual(names(await list({ sortKey: "created_at", sortDir: "desc" })), [
          "Test::L4",
          "Test::L3",
          "Test::L1",
        ]);
      });
    });

    describe("lifecycle", () => {
      it("keeps an image's deprecation, bin stay and last use; a use moves neither version nor updatedAt", async () => {
        const replacement = await inserted();
        const img = await inserted({
          ...transition(image(), "active"),
          deprecation: {
            state: "DEPRECATED",
            replacement: { id: replacement.id, uuid: replacement.uuid },
            deprecateAt: 1000,
            obsoleteAt: 2000,
            deleteAt: 3000,
          },
          lastUsedAt: 500,
          useCount: 2,
        });
        assert.deepEqual(await catalog.images.findById(img.id), img);
        await catalog.lifecycle.recordUse(img.id, 9000);
        const used = (await catalog.images.findById(img.id))!;
        assert.equal(used.lastUsedAt, 9000);
        assert.equal(used.useCount, 3);
        assert.equal(used.version, img.version);
        assert.equal(used.updatedAt, img.updatedAt);
        // A save of the image as read before a use keeps the use: a use is not a save's to change.
        await catalog.lifecycle.recordUse(img.id, 9500);
        const edited = await catalog.images.save(used, { ...used, description: "edited" }, 9600);
        assert.equal(edited?.useCount, 4);
        assert.equal(edited?.lastUsedAt, 9500);
        assert.equal((await catalog.images.findById(img.id))!.useCount, 4);
        const binned = await catalog.images.save(
          edited!,
          {
            ...edited!,
            status: "binned",
            bin: { binnedAt: 10_000, purgeAt: 20_000, restoreStatus: "deactivated" },
          },
          11_000,
        );
        assert.deepEqual((await catalog.images.findById(img.id))!.bin, binned!.bin);
      });

      it("scheduled operations wait for their time; they end early only when claimed to end them", async () => {
        const op = await catalog.operations.insert(
          operation({
            kind: "image.transition",
            resourceId: "sched",
            task: { type: "transition", target: "DEPRECATED", at: 5000 },
            notBefore: 5000,
          }),
          1000,
        );
        assert.equal(op.notBefore, 5000);
        assert.deepEqual(await catalog.operations.findDue(4999, 10), []);
        assert.deepEqual(await catalog.operations.findClaimable(9999, 10), [], "only by findDue");
        assert.equal(await catalog.operations.claim(op.id, "w1", 4999, 500), null);
        assert.equal(
          await catalog.operations.hasUnfinished("sched"),
          false,
          "scheduled work is not running work",
        );
        assert.deepEqual(await catalog.operations.countUnfinished(4999), { running: 0, queued: 0 });
        assert.deepEqual(
          (await catalog.operations.scheduled("sched", "image.transition")).map((o) => o.id),
          [op.id],
        );
        assert.deepEqual(await catalog.operations.findDue(5000, 10), [op.id]);
        assert.deepEqual(await catalog.operations.countUnfinished(5000), { running: 0, queued: 1 });
        const early = await catalog.operations.claim(op.id, "w1", 4000, 500, true);
        assert.equal(early?.id, op.id);
      });

      it("keeps a folder's conversion policy beside its bin retention, each set without touching the other", async () => {
        assert.equal(await catalog.folders.conversion("cf"), null);
        await catalog.lifecycle.setBinRetention("cf", 60);
        await catalog.folders.setConversion("cf", { target: "raw", keep: ["iso", "qcow2"] });
        assert.deepEqual(await catalog.folders.conversion("cf"), { target: "raw", keep: ["iso", "qcow2"] });
        assert.equal(await catalog.lifecycle.binRetention("cf"), 60, "the retention stays");
        await catalog.folders.setConversion("cf", { target: null, keep: [] });
        assert.deepEqual(
          await catalog.folders.conversion("cf"),
          { target: null, keep: [] },
          "converts nothing",
        );
        await catalog.lifecycle.setBinRetention("cf", null);
        assert.deepEqual(
          await catalog.folders.conversion("cf"),
          { target: null, keep: [] },
          "the policy stays",
        );
        await catalog.folders.setConversion("cf", null);
        assert.equal(await catalog.folders.conversion("cf"), null, "follows the installation again");
        await catalog.folders.setConversion("new-folder", { target: "vmdk", keep: [] });
        assert.equal(await catalog.lifecycle.binRetention("new-folder"), null);
      });

      it("keeps a folder's bin retention and its retention rules; lists a family's images with data, newest first", async () => {
        assert.equal(await catalog.lifecycle.binRetention("lf"), null);
        await catalog.lifecycle.setBinRetention("lf", 3600);
        await catalog.lifecycle.setBinRetention("lf", 7200);
        assert.equal(await catalog.lifecycle.binRetention("lf"), 7200);
        await catalog.lifecycle.setBinRetention("lf", null);
        assert.equal(await catalog.lifecycle.binRetention("lf"), null);

        const rule = {
          folderId: "lf",
          family: "nightly",
          keep: 3,
          action: "DELETE" as const,
          afterSeconds: 60,
          createdAt: 5,
        };
        await catalog.lifecycle.putRule(rule);
        await catalog.lifecycle.putRule({ ...rule, keep: 5, createdAt: 99 });
        assert.deepEqual(
          await catalog.lifecycle.rules("lf"),
          [{ ...rule, keep: 5 }],
          "replaced; created once",
        );
        assert.deepEqual(await catalog.lifecycle.rule("lf", "nightly"), { ...rule, keep: 5 });
        assert.equal(await catalog.lifecycle.deleteRule("lf", "nightly"), true);
        assert.equal(await catalog.lifecycle.deleteRule("lf", "nightly"), false);

        const old = await inserted({ ...transition(image({ folderId: "lf", family: "fam" }), "active") });
        const fresh = await inserted({ ...transition(image({ folderId: "lf", family: "fam" }), "active") });
        await inserted({ folderId: "lf", family: "fam" }); // no data
        assert.deepEqual(
          (await catalog.lifecycle.familyWithData("compute", "lf", "fam")).map((i) => i.id),
          [fresh.id, old.id],
        );
        // A deprecated image is not a family's latest.
        await catalog.images.save(
          fresh,
          { ...fresh, deprecation: { ...fresh.deprecation, state: "DEPRECATED" } },
          clock++,
        );
        assert.equal(
          (await catalog.imageViews.latestByFamily("compute", "lf", "fam", ["active"]))?.id,
          old.id,
        );
      });

      it("pages the bin; a binned image frees its name and leaves the count, not the bytes", async () => {
        const bin = (i: number) => ({ binnedAt: 1000 + i, purgeAt: 9000, restoreStatus: "active" as const });
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const img = await inserted({
            ...image({ folderId: "bf", name: `n${i}` }),
            status: "binned",
            bin: bin(i),
            blobKey: `b${i}`,
            size: 10,
          });
          ids.push(img.id);
        }
        const first = await catalog.lifecycle.binned("bf", 2);
        assert.deepEqual(
          first.map((i) => i.id),
          [ids[2], ids[1], ids[0]],
          "limit + 1, the most recent first",
        );
        const next = await catalog.lifecycle.binned("bf", 2, {
          binnedAt: first[1]!.bin!.binnedAt,
          id: first[1]!.id,
        });
        assert.deepEqual(
          next.map((i) => i.id),
          [ids[0]],
        );
        assert.equal(await catalog.images.isNameTaken("compute", "bf", "n0"), false);
        const usage = await catalog.quotas.usage("bf");
        assert.equal(usage.image_count_total, 0);
        assert.equal(usage.image_size_total, 30);
      });

      it("finds images unused since a time, counting one never used from its creation", async () => {
        const never = await inserted({ folderId: "lu", createdAt: 1000 });
        const used = await inserted({ folderId: "lu", createdAt: 1000, lastUsedAt: 8000 });
        await inserted({ folderId: "lu", createdAt: 9000 });
        const unusedSince = async (when: number) =>
          (
            await catalog.imageViews.list({
              kind: "compute",
              folderId: "lu",
              conditions: [{ field: "last_used", op: "<", values: [when] }],
              order: { field: "id", dir: "asc" },
              limit: 10,
            })
          ).map((i) => i.id);
        assert.deepEqual(await unusedSince(5000), [never.id]);
        assert.deepEqual((await unusedSince(8500)).sort(), [never.id, used.id].sort());
      });
    });

    describe("folder summaries", () => {
      it("counts images and bytes per folder, shared blobs once in stored bytes", async () => {
        const withData = (folderId: string, blobKey: string, size: number) =>
          inserted({ ...transition(image({ folderId }), "active"), blobKey, size });
        await withData("sum-a", "blob-1", 1000);
        await withData("sum-a", "blob-1", 1000); // made from the first: same bytes
        await withData("sum-a", "blob-2", 500);
        await inserted({ folderId: "sum-a" }); // no data yet
        await withData("sum-b", "blob-3", 5000);
        assert.deepEqual(await catalog.imageViews.summarize("sum-a", 10), [
          { folderId: "sum-a", images: 4, withData: 3, referencedBytes: 2500, storedBytes: 1500 },
        ]);
        const top = await catalog.imageViews.summarize(null, 1);
        assert.equal(top.length, 1);
        assert.equal(top[0]!.folderId, "sum-b", "the folder holding the most bytes first");
        assert.deepEqual(
          await catalog.imageViews.summarize("sum-none", 10),
          [],
          "a folder with no images: no row",
        );
      });
    });
  });
}

function search(fields: Partial<ImageSearch>): ImageSearch {
  return {
    scope: { all: true, owners: [], public: true, community: true, sharedWith: null },
    hiddenStatuses: ["deleting"],
    conditions: [],
    tags: [],
    properties: [],
    sort: [{ key: "created_at", dir: "asc" }],
    limit: 100,
    ...fields,
  };
}
