import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import { after, before, describe, test } from "node:test";
import { image } from "../helpers/fixtures.js";
import { osRequest, putData, vitrineCli } from "../helpers/openstack.js";
import { type RunningServer, apiRequest, startServer, waitOperation } from "../helpers/server.js";

const A = "bindings-a";
const B = "bindings-b";

describe("Compute image access bindings", () => {
  let server: RunningServer;
  let adminA: string;
  let adminB: string;
  let subjectB: string;
  let reader: { id: string; token: string };
  let imageId: string;
  let imageUuid: string;

  const call = (token: string | null, method: string, path: string, body?: unknown) =>
    apiRequest(server.url, token, method, path, body);
  const bindings = (path = "") => `/compute/v1/images/${imageId}${path}`;

  function subjectWithToken(name: string, folder?: string, role?: string): { id: string; token: string } {
    const id = vitrineCli(server, "subject", "create", "--name", name);
    if (folder && role)
      vitrineCli(server, "folder", "bind", "--folder", folder, "--subject", id, "--role", role);
    const token = vitrineCli(
      server,
      "token",
      "create",
      "--subject",
      id,
      ...(folder ? ["--project", folder] : []),
    );
    return { id, token };
  }

  before(async () => {
    server = await startServer();
    adminA = subjectWithToken("admin-a", A, "admin").token;
    const b = subjectWithToken("admin-b", B, "admin");
    adminB = b.token;
    subjectB = b.id;
    reader = subjectWithToken("reader");
    const created = await osRequest(
      server,
      "POST",
      "/v2/images",
      { name: "golden", disk_format: "qcow2", container_format: "bare" },
      {},
      adminA,
    );
    assert.equal(created.status, 201, created.text);
    imageUuid = created.body.id;
    const up = await putData(server, imageUuid, image("qcow2", 4).path, { token: adminA });
    assert.equal(up.status, 204, up.text);
    const list = await call(adminA, "GET", `/compute/v1/images?folderId=${A}`);
    imageId = list.body.images[0].id;
  });
  after(async () => server?.stop());

  test("set replaces all bindings and reports the effective deltas; list shows them", async () => {
    const empty = await call(adminA, "GET", bindings(":listAccessBindings"));
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(empty.body, { accessBindings: [] });

    const set = await call(adminA, "POST", bindings(":setAccessBindings"), {
      accessBindings: [
        { roleId: "viewer", subject: { id: reader.id, type: "userAccount" } },
        { roleId: "viewer", subject: { id: "allAuthenticatedUsers", type: "system" } },
      ],
    });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.done, true);
    assert.equal(set.body.description, "Set access bindings");
    assert.deepEqual(set.body.metadata, {
      "@type": "type.googleapis.com/yandex.cloud.access.SetAccessBindingsMetadata",
      resourceId: imageId,
    });
    assert.equal(
      set.body.response["@type"],
      "type.googleapis.com/yandex.cloud.access.AccessBindingsOperationResult",
    );
    assert.equal(set.body.response.effectiveDeltas.length, 2);
    assert.ok(set.body.response.effectiveDeltas.every((d: { action: string }) => d.action === "ADD"));
    const op = await call(adminA, "GET", `/operations/${set.body.id}`);
    assert.deepEqual(op.body.response, set.body.response);

    // Setting again: one binding kept, one removed, one added.
    const again = await call(adminA, "POST", bindings(":setAccessBindings"), {
      accessBindings: [
        { roleId: "viewer", subject: { id: reader.id, type: "userAccount" } },
        { roleId: "compute.images.user", subject: { id: subjectB, type: "userAccount" } },
      ],
    });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(
      again.body.response.effectiveDeltas
        .map((d: any) => `${d.action} ${d.accessBinding.roleId} ${d.accessBinding.subject.id}`)
        .sort(),
      [`ADD compute.images.user ${subjectB}`, "REMOVE viewer allAuthenticatedUsers"],
    );
    const list = await call(adminA, "GET", bindings(":listAccessBindings"));
    assert.deepEqual(list.body.accessBindings, [
      { roleId: "compute.images.user", subject: { id: subjectB, type: "userAccount" } },
      { roleId: "viewer", subject: { id: reader.id, type: "userAccount" } },
    ]);

    // Pages of one.
    const first = await call(adminA, "GET", bindings(":listAccessBindings?pageSize=1"));
    assert.equal(first.body.accessBindings.length, 1);
    assert.ok(first.body.nextPageToken);
    const second = await call(
      adminA,
      "GET",
      bindings(`:listAccessBindings?pageSize=1&pageToken=${first.body.nextPageToken}`),
    );
    assert.deepEqual(second.body.accessBindings, [list.body.accessBindings[1]]);
    assert.equal(second.body.nextPageToken, undefined);
  });

  test("update adds and removes; an ADD of an existing binding is not effective", async () => {
    const res = await call(adminA, "POST", bindings(":updateAccessBindings"), {
      accessBindingDeltas: [
        {
          action: "ADD",
          accessBinding: { roleId: "viewer", subject: { id: reader.id, type: "userAccount" } },
        },
        {
          action: 2,
          accessBinding: { roleId: "compute.images.user", subject: { id: subjectB, type: "userAccount" } },
        },
        {
          action: "ADD",
          accessBinding: { roleId: "editor", subject: { id: reader.id, type: "userAccount" } },
        },
      ],
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(
      res.body.metadata["@type"],
      "type.googleapis.com/yandex.cloud.access.UpdateAccessBindingsMetadata",
    );
    assert.deepEqual(
      res.body.response.effectiveDeltas.map((d: any) => `${d.action} ${d.accessBinding.roleId}`),
      ["REMOVE compute.images.user", "ADD editor"],
    );
    // The reader, bound as editor on this image only, may now change it, not its folder.
    const patch = await call(reader.token, "PATCH", bindings(), {
      updateMask: "description",
      description: "by reader",
    });
    assert.equal(patch.status, 200, patch.text);
    assert.equal((await call(reader.token, "GET", `/compute/v1/images?folderId=${A}`)).status, 403);
    const reset = await call(adminA, "POST", bindings(":setAccessBindings"), { accessBindings: [] });
    assert.equal(reset.body.response.effectiveDeltas.length, 2);
    assert.equal((await call(reader.token, "GET", bindings())).status, 404);
  });

  test("bad bindings are refused with every violation, nothing is changed", async () => {
    const res = await call(adminA, "POST", bindings(":setAccessBindings"), {
      accessBindings: [
        { roleId: "owner", subject: { id: reader.id, type: "userAccount" } },
        { roleId: "editor", subject: { id: "allUsers", type: "system" } },
        { roleId: "viewer", subject: { id: "everyone", type: "system" } },
        { roleId: "viewer", subject: { id: "allUsers", type: "userAccount" } },
        { roleId: "viewer", subject: { id: reader.id, type: "robot" } },
      ],
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.code, 3);
    const fields = res.body.details[0].fieldViolations.map((v: { field: string }) => v.field);
    assert.deepEqual(fields, [
      "accessBindings[0].roleId",
      "accessBindings[1].roleId",
      "accessBindings[2].subject.id",
      "accessBindings[3].subject.type",
      "accessBindings[4].subject.type",
    ]);
    const unknown = await call(adminA, "POST", bindings(":updateAccessBindings"), {
      accessBindingDeltas: [
        {
          action: "ADD",
          accessBinding: { roleId: "viewer", subject: { id: "nobody1234567890abcd", type: "userAccount" } },
        },
      ],
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.text, /subject nobody1234567890abcd not found/);
    const wrongType = await call(adminA, "POST", bindings(":updateAccessBindings"), {
      accessBindingDeltas: [
        {
          action: "ADD",
          accessBinding: { roleId: "viewer", subject: { id: reader.id, type: "serviceAccount" } },
        },
      ],
    });
    assert.equal(wrongType.status, 400);
    const badAction = await call(adminA, "POST", bindings(":updateAccessBindings"), {
      accessBindingDeltas: [
        {
          action: "TOGGLE",
          accessBinding: { roleId: "viewer", subject: { id: reader.id, type: "userAccount" } },
        },
      ],
    });
    assert.equal(badAction.status, 400);
    const none = await call(adminA, "POST", bindings(":updateAccessBindings"), { accessBindingDeltas: [] });
    assert.equal(none.status, 400);
    const unknownVerb = await call(adminA, "POST", bindings(":grantEverything"), {});
    assert.equal(unknownVerb.status, 404);
    assert.deepEqual((await call(adminA, "GET", bindings(":listAccessBindings"))).body, {
      accessBindings: [],
    });
  });

  test("compute.images.user on an image lets another folder create images from it, and nothing more", async () => {
    const denied = await call(adminB, "POST", "/compute/v1/images", { folderId: B, imageId });
    assert.equal(denied.status, 404, denied.text);
    await call(adminA, "POST", bindings(":updateAccessBindings"), {
      accessBindingDeltas: [
        {
          action: "ADD",
          accessBinding: { roleId: "compute.images.user", subject: { id: subjectB, type: "userAccount" } },
        },
      ],
    });
    const res = await call(adminB, "POST", "/compute/v1/images", { folderId: B, imageId, name: "copy" });
    assert.equal(res.status, 200, res.text);
    const done = await waitOperation(server, res.body.id);
    assert.equal(done.response?.status, "READY", JSON.stringify(done.error));
    assert.equal(done.response.folderId, B);
    // Using is not changing, and not creating in the source's folder.
    const patch = await call(adminB, "PATCH", bindings(), { updateMask: "description", description: "x" });
    assert.equal(patch.status, 403);
    assert.equal((await call(adminB, "POST", "/compute/v1/images", { folderId: A, imageId })).status, 403);
    await call(adminA, "POST", bindings(":setAccessBindings"), { accessBindings: [] });
  });

  test("system subjects: allAuthenticatedUsers reads with any token, allUsers without one", async () => {
    const anonymous = await call(null, "GET", bindings());
    assert.equal(anonymous.status, 401);
    assert.equal((await call(adminB, "GET", bindings())).status, 404);

    await call(adminA, "POST", bindings(":setAccessBindings"), {
      accessBindings: [{ roleId: "viewer", subject: { id: "allAuthenticatedUsers", type: "system" } }],
    });
    assert.equal((await call(adminB, "GET", bindings())).status, 200);
    assert.equal((await call(null, "GET", bindings())).status, 401);

    await call(adminA, "POST", bindings(":setAccessBindings"), {
      accessBindings: [{ roleId: "viewer", subject: { id: "allUsers", type: "system" } }],
    });
    const open = await call(null, "GET", bindings());
    assert.equal(open.status, 200, open.text);
    assert.equal(open.body.id, imageId);
    // Reading is all that is open: no listing, no bindings, no writes, no other dialect.
    assert.equal((await call(null, "GET", bindings(":listAccessBindings"))).status, 401);
    assert.equal((await call(null, "GET", bindings("/operations"))).status, 401);
    assert.equal((await call(null, "GET", `/compute/v1/images?folderId=${A}`)).status, 401);
    assert.equal((await call(null, "DELETE", bindings())).status, 401);
    assert.equal(
      (await osRequest(server, "GET", `/v2/images/${imageUuid}`, undefined, {}, null)).status,
      401,
    );
    // A bad token is still a bad token, even for an open image.
    assert.equal((await call("vt1.nonsense", "GET", bindings())).status, 401);
    await call(adminA, "POST", bindings(":setAccessBindings"), { accessBindings: [] });
    assert.equal((await call(null, "GET", bindings())).status, 401);
  });

  test("bindings go with the image: deleting it removes them", async () => {
    const created = await call(adminA, "POST", "/compute/v1/images", {
      folderId: A,
      imageId,
      name: "short-lived",
    });
    const img = (await waitOperation(server, created.body.id)).response;
    await call(adminA, "POST", `/compute/v1/images/${img.id}:updateAccessBindings`, {
      accessBindingDeltas: [
        {
          action: "ADD",
          accessBinding: { roleId: "viewer", subject: { id: reader.id, type: "userAccount" } },
        },
      ],
    });
    assert.equal((await call(reader.token, "GET", `/compute/v1/images/${img.id}`)).status, 200);
    const del = await call(adminA, "DELETE", `/compute/v1/images/${img.id}`);
    await waitOperation(server, del.body.id);
    assert.equal((await call(reader.token, "GET", `/compute/v1/images/${img.id}`)).status, 404);
    const db = new Database(path.join(server.dataDir, "vitrine.sqlite"), { readonly: true });
    const left = db.prepare("select count(*) as n from access_bindings where resource_id = ?").get(img.id);
    db.close();
    assert.deepEqual(left, { n: 0 });
  });
});
