import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image as fixture } from "../helpers/fixtures.js";
import { type InProcessHttp, startInProcessHttp } from "../helpers/in-process.js";

/**
 * Image lifecycle through each dialect's HTTP edge, in process (README "Lifecycle"): Compute's
 * `:deprecate` and `deprecated` field, OpenStack's deprecation properties and os_hidden, the
 * recycle bin and retention rules of Vitrine's API, last use in both dialects' list filters.
 */
describe("lifecycle over HTTP", () => {
  let env: InProcessHttp;
  let files: FileServer;
  let uri: string;
  let admin: string;
  let dev: string;
  before(async () => {
    env = await startInProcessHttp();
    files = await startFileServer();
    uri = files.serve("disk.qcow2", fixture("qcow2", 8).path);
    admin = await env.adminToken();
    dev = await env.token("dev", "lab");
  });
  after(async () => {
    await env.close();
    await files.close();
  });

  const done = (op: { id: string }) => env.done(dev, op);
  const create = async (fields: Record<string, unknown> = {}) => {
    const res = await env.call(dev, "POST", "/compute/v1/images", { folderId: "lab", uri, ...fields });
    assert.equal(res.statusCode, 200, res.body);
    const op = await done(res.json());
    assert.equal(op.error, undefined, JSON.stringify(op.error));
    return op.response as { id: string; family?: string };
  };
  const uuidOf = async (id: string) => (await env.call(dev, "GET", `/v2/images/${id}`)).json().id as string;

  it("an image without lifecycle settings shows nothing new in either dialect", async () => {
    const image = await create();
    const compute = (await env.call(dev, "GET", `/compute/v1/images/${image.id}`)).json();
    for (const field of ["deprecated", "lastUsedAt", "useCount"]) assert.ok(!(field in compute), field);
    const glance = (await env.call(dev, "GET", `/v2/images/${image.id}`)).json();
    for (const field of Object.keys(glance))
      assert.ok(!/^deprecation_|^last_used|^use_count/.test(field), field);
  });

  it("Compute: :deprecate sets the state, the replacement and the schedule; the family's latest skips it", async () => {
    const old = await create({ family: "web" });
    const fresh = await create({ family: "web" });
    const obsoleteAt = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const res = await env.call(dev, "POST", `/compute/v1/images/${fresh.id}:deprecate`, {
      state: "DEPRECATED",
      replacement: old.id,
      obsoleteAt,
    });
    assert.equal(res.statusCode, 200, res.body);
    const op = res.json();
    assert.equal(op.done, true);
    assert.equal(op.metadata["@type"], "type.googleapis.com/yandex.cloud.compute.v1.DeprecateImageMetadata");
    assert.deepEqual(op.response.deprecated, { state: "DEPRECATED", replacement: old.id, obsoleteAt });
    const latest = await env.call(dev, "GET", "/compute/v1/images:latestByFamily?folderId=lab&family=web");
    assert.equal(latest.json().id, old.id);
    // The scheduled transition is an operation of the image, waiting for its time.
    const ops = (await env.call(dev, "GET", `/compute/v1/images/${fresh.id}/operations`)).json().operations;
    assert.ok(
      ops.some(
        (o: { done: boolean; description: string }) =>
          !o.done && o.description.startsWith("Make image obsolete at"),
      ),
    );

    const bad = await env.call(dev, "POST", `/compute/v1/images/${fresh.id}:deprecate`, {
      state: "RETIRED",
      deprecateAt: "tomorrow",
    });
    assert.equal(bad.statusCode, 400, bad.body);
    const fields = bad.json().details[0].fieldViolations.map((v: { field: string }) => v.field);
    assert.deepEqual(fields.sort(), ["deprecateAt", "state"]);
    const mixed = await env.call(dev, "POST", `/compute/v1/images/${fresh.id}:deprecate`, {
      state: "ACTIVE",
      accessBindings: [],
    });
    assert.equal(mixed.statusCode, 400, mixed.body);
  });

  it("OpenStack: deprecation properties set it, os_hidden follows OBSOLETE, removes change nothing, downloads are refused", async () => {
    const image = await create();
    const uuid = await uuidOf(image.id);
    const patch = (ops: unknown[]) =>
      env.call(dev, "PATCH", `/v2/images/${uuid}`, ops, {
        "content-type": "application/openstack-images-v2.1-json-patch",
      });
    const set = await patch([{ op: "add", path: "/deprecation_state", value: "obsolete" }]);
    assert.equal(set.statusCode, 200, set.body);
    assert.equal(set.json().deprecation_state, "OBSOLETE");
    assert.equal(set.json().os_hidden, true);
    const listed = (await env.call(dev, "GET", "/v2/images")).json().images.map((i: { id: string }) => i.id);
    assert.ok(!listed.includes(uuid), "hidden from the default list");
    const obsolete = (
      await env.call(dev, "GET", "/v2/images?deprecation_state=OBSOLETE&os_hidden=true")
    ).json();
    assert.deepEqual(
      obsolete.images.map((i: { id: string }) => i.id),
      [uuid],
    );
    const file = await env.call(dev, "GET", `/v2/images/${uuid}/file`);
    assert.equal(file.statusCode, 403, file.body);
    assert.match(file.body, /obsolete/);
    // openstacksdk removes properties it does not know: that must not undo the deprecation.
    const removed = await patch([{ op: "remove", path: "/deprecation_state" }]);
    assert.equal(removed.statusCode, 200, removed.body);
    assert.equal(removed.json().deprecation_state, "OBSOLETE");
    const cleared = await patch([{ op: "replace", path: "/deprecation_state", value: "ACTIVE" }]);
    assert.equal(cleared.json().os_hidden, false);
    assert.ok(!("deprecation_state" in cleared.json()));
    const bad = await patch([{ op: "add", path: "/deprecation_obsolete_at", value: "soon" }]);
    assert.equal(bad.statusCode, 400, bad.body);
    const readOnly = await patch([{ op: "add", path: "/use_count", value: "7" }]);
    assert.equal(readOnly.statusCode, 403, readOnly.body);
    const atCreate = await env.call(dev, "POST", "/v2/images", {
      name: "x",
      deprecation_state: "DEPRECATED",
    });
    assert.equal(atCreate.statusCode, 400, atCreate.body);
  });

  it("last use: shown once used, and both dialects find images unused since a time", async () => {
    const image = await create();
    const uuid = await uuidOf(image.id);
    const t0 = new Date().toISOString();
    const file = await env.call(dev, "GET", `/v2/images/${uuid}/file`);
    assert.equal(file.statusCode, 200);
    const shown = (await env.call(dev, "GET", `/compute/v1/images/${image.id}`)).json();
    assert.equal(shown.useCount, "1");
    assert.ok(shown.lastUsedAt >= t0.slice(0, 19));
    assert.equal((await env.call(dev, "GET", `/v2/images/${uuid}`)).json().use_count, "1");

    const future = new Date(Date.now() + 60_000).toISOString();
    const compute = await env.call(
      dev,
      "GET",
      `/compute/v1/images?folderId=lab&filter=${encodeURIComponent(`lastUsedAt < "${future}"`)}`,
    );
    assert.equal(compute.statusCode, 200, compute.body);
    assert.ok(compute.json().images.some((i: { id: string }) => i.id === image.id));
    const past = "2000-01-01T00:00:00Z";
    const none = await env.call(
      dev,
      "GET",
      `/compute/v1/images?folderId=lab&filter=${encodeURIComponent(`lastUsedAt < "${past}"`)}`,
    );
    assert.deepEqual(none.json().images, []);
    const glance = await env.call(dev, "GET", `/v2/images?last_used_at=lt:${past}`);
    assert.deepEqual(glance.json().images, []);
    const glanceAll = await env.call(dev, "GET", `/v2/images?last_used_at=lt:${future}`);
    assert.ok(glanceAll.json().images.some((i: { id: string }) => i.id === uuid));
    const wrongOp = await env.call(
      dev,
      "GET",
      `/compute/v1/images?folderId=lab&filter=${encodeURIComponent('name < "a"')}`,
    );
    assert.equal(wrongOp.statusCode, 400);
  });

  it("the recycle bin: deleted in both dialects, listed, restored with its ids, purged on request", async () => {
    const settings = await env.call(admin, "PATCH", "/vitrine/v1/folders/lab/recycleBin", {
      retention: "86400s",
    });
    assert.equal(settings.statusCode, 200, settings.body);
    assert.deepEqual(settings.json(), {
      folderId: "lab",
      retention: "86400s",
      folderRetention: "86400s",
      installationRetention: "0s",
    });
    const refused = await env.call(dev, "PATCH", "/vitrine/v1/folders/lab/recycleBin", { retention: "1s" });
    assert.equal(refused.statusCode, 403, refused.body);

    const image = await create({ name: "restore-me" });
    const uuid = await uuidOf(image.id);
    const del = await env.call(dev, "DELETE", `/v2/images/${uuid}`);
    assert.equal(del.statusCode, 204);
    assert.equal((await env.call(dev, "GET", `/v2/images/${uuid}`)).statusCode, 404);
    for (let i = 0; i < 200; i++) {
      const gone = await env.call(dev, "GET", `/compute/v1/images/${image.id}`);
      if (gone.statusCode === 404) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await env.call(dev, "GET", `/compute/v1/images/${image.id}`)).statusCode, 404);
    const bin = (await env.call(dev, "GET", "/vitrine/v1/recycleBin?folderId=lab")).json();
    const entry = bin.images.find((i: { id: string }) => i.id === image.id);
    assert.equal(entry.uuid, uuid);
    assert.equal(entry.restoreStatus, "READY");
    assert.equal(Date.parse(entry.purgeAt) - Date.parse(entry.deletedAt), 86_400_000);

    const restored = await env.call(dev, "POST", `/vitrine/v1/recycleBin/${image.id}:restore`);
    assert.equal(restored.statusCode, 200, restored.body);
    assert.equal(restored.json().status, "READY");
    assert.equal((await env.call(dev, "GET", `/v2/images/${uuid}`)).json().status, "active");
    const again = await env.call(dev, "POST", `/vitrine/v1/recycleBin/${image.id}:restore`);
    assert.equal(again.statusCode, 404, again.body);

    const computeDelete = await env.call(dev, "DELETE", `/compute/v1/images/${image.id}`);
    await done(computeDelete.json());
    const purge = await env.call(dev, "DELETE", `/vitrine/v1/recycleBin/${uuid}`);
    assert.equal(purge.statusCode, 200, purge.body);
    const purged = await done(purge.json());
    assert.equal(purged.metadata["@type"], "type.googleapis.com/yandex.cloud.compute.v1.PurgeImageMetadata");
    const after = (await env.call(dev, "GET", "/vitrine/v1/recycleBin?folderId=lab")).json();
    assert.ok(!(after.images ?? []).some((i: { id: string }) => i.id === image.id));
    await env.call(admin, "PATCH", "/vitrine/v1/folders/lab/recycleBin", { retention: null });
  });

  it("retention rules: set, listed, applied to the family; bad rules are named", async () => {
    const builds = [];
    // Ten nightly builds (made from one: no bytes copied), the newest three kept.
    const first = await create({ family: "nightly" });
    builds.push(first);
    for (let i = 1; i < 10; i++)
      builds.push(await create({ family: "nightly", imageId: first.id, uri: undefined }));
    const put = await env.call(dev, "PUT", "/vitrine/v1/folders/lab/retentionRules/nightly", {
      keep: 3,
      action: "obsolete",
      after: "0s",
    });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().action, "OBSOLETE");
    const rules = (await env.call(dev, "GET", "/vitrine/v1/folders/lab/retentionRules")).json().rules;
    assert.equal(rules.length, 1);
    for (let i = 0; i < 200; i++) {
      const seventh = (await env.call(dev, "GET", `/compute/v1/images/${builds[6]!.id}`)).json();
      if (seventh.deprecated?.state === "OBSOLETE") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const states = await Promise.all(
      builds.map(
        async (b) => (await env.call(dev, "GET", `/compute/v1/images/${b.id}`)).json().deprecated?.state,
      ),
    );
    assert.deepEqual(states, [...Array(7).fill("OBSOLETE"), undefined, undefined, undefined]);
    const bad = await env.call(dev, "PUT", "/vitrine/v1/folders/lab/retentionRules/nightly", {
      keep: 0,
      action: "SHRED",
      after: "a week",
    });
    assert.equal(bad.statusCode, 400, bad.body);
    const del = await env.call(dev, "DELETE", "/vitrine/v1/folders/lab/retentionRules/nightly");
    assert.equal(del.statusCode, 200, del.body);
    const missing = await env.call(dev, "DELETE", "/vitrine/v1/folders/lab/retentionRules/nightly");
    assert.equal(missing.statusCode, 404, missing.body);
  });
});
