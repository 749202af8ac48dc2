import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createReadyImage } from "../helpers/compute.js";
import { image } from "../helpers/fixtures.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { type RunningServer, apiRequest, eventually, startServer, waitOperation } from "../helpers/server.js";

describe("Compute API: get, list, family, update, delete, operations", () => {
  let server: RunningServer;
  let files: FileServer;
  let uri: string;

  before(async () => {
    files = await startFileServer();
    server = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    uri = files.serve("base.qcow2", image("qcow2", 8).path);
  });
  after(async () => {
    await server.stop();
    await files.close();
  });

  test("List pages through a folder with pageSize and nextPageToken, in id order by default", async () => {
    const folder = "list-folder";
    const made = [];
    for (let i = 0; i < 7; i++)
      made.push(await createReadyImage(server, { folderId: folder, name: `img-${i}`, uri }));
    await createReadyImage(server, { folderId: "another-folder", name: "img-0", uri });
    const seen: any[] = [];
    let token = "";
    let pages = 0;
    do {
      const res = await server.request(
        "GET",
        `/compute/v1/images?folderId=${folder}&pageSize=3${token ? `&pageToken=${token}` : ""}`,
      );
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.images.length <= 3);
      seen.push(...res.body.images);
      token = res.body.nextPageToken ?? "";
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(
      seen.map((i) => i.id),
      made.map((i) => i.id).sort(),
    );
    assert.ok(
      seen.every((i) => i.folderId === folder),
      "only the folder's images",
    );

    const byNameDesc = await server.request(
      "GET",
      `/compute/v1/images?folderId=${folder}&orderBy=name%20desc&pageSize=4`,
    );
    assert.deepEqual(
      byNameDesc.body.images.map((i: any) => i.name),
      ["img-6", "img-5", "img-4", "img-3"],
    );
    const rest = await server.request(
      "GET",
      `/compute/v1/images?folderId=${folder}&orderBy=name%20desc&pageToken=${byNameDesc.body.nextPageToken}`,
    );
    assert.deepEqual(
      rest.body.images.map((i: any) => i.name),
      ["img-2", "img-1", "img-0"],
    );
    assert.equal(rest.body.nextPageToken, undefined);

    const byCreated = await server.request(
      "GET",
      `/compute/v1/images?folderId=${folder}&orderBy=createdAt%20asc`,
    );
    assert.deepEqual(
      byCreated.body.images.map((i: any) => i.name),
      made.map((i) => i.name),
    );

    const filtered = await server.request(
      "GET",
      `/compute/v1/images?folderId=${folder}&filter=${encodeURIComponent('name="img-3"')}`,
    );
    assert.deepEqual(
      filtered.body.images.map((i: any) => i.name),
      ["img-3"],
    );
    const inList = await server.request(
      "GET",
      `/compute/v1/images?folderId=${folder}&filter=${encodeURIComponent("name IN ('img-1', 'img-5')")}`,
    );
    assert.deepEqual(inList.body.images.map((i: any) => i.name).sort(), ["img-1", "img-5"]);
    const ready = await server.request(
      "GET",
      `/compute/v1/images?folderId=${folder}&filter=${encodeURIComponent('status="READY" AND name!="img-0"')}`,
    );
    assert.equal(ready.body.images.length, 6);
  });

  test("List argument errors: missing folderId, bad filter, bad orderBy, bad pageSize, foreign pageToken", async () => {
    const cases: [string, RegExp][] = [
      ["/compute/v1/images", /folderId/],
      ["/compute/v1/images?folderId=f&filter=name%3D", /filter/],
      ["/compute/v1/images?folderId=f&filter=size%3D%221%22", /field size is not supported/],
      ["/compute/v1/images?folderId=f&filter=status%3D%22BROKEN%22", /unknown status/],
      ["/compute/v1/images?folderId=f&orderBy=size", /orderBy/],
      ["/compute/v1/images?folderId=f&pageSize=1001", /pageSize/],
      ["/compute/v1/images?folderId=f&pageSize=-1", /pageSize/],
      ["/compute/v1/images?folderId=f&pageToken=garbage", /page token/],
    ];
    for (const [url, message] of cases) {
      const res = await server.request("GET", url);
      assert.equal(res.status, 400, `${url}: ${res.text}`);
      assert.equal(res.body.code, 3);
      assert.match(res.body.message, message);
    }
    const page = await server.request("GET", "/compute/v1/images?folderId=list-folder&pageSize=1");
    const reused = await server.request(
      "GET",
      `/compute/v1/images?folderId=other&pageToken=${page.body.nextPageToken}`,
    );
    assert.equal(reused.status, 400, "a token from another query is refused");
  });

  test("GetLatestByFamily returns the newest READY image of the family", async () => {
    const folder = "family-folder";
    await createReadyImage(server, { folderId: folder, name: "deb-1", family: "debian-12", uri });
    const newest = await createReadyImage(server, {
      folderId: folder,
      name: "deb-2",
      family: "debian-12",
      uri,
    });
    await createReadyImage(server, { folderId: folder, name: "other", family: "ubuntu-22", uri });
    const res = await server.request(
      "GET",
      `/compute/v1/images:latestByFamily?folderId=${folder}&family=debian-12`,
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.id, newest.id);
    const none = await server.request(
      "GET",
      `/compute/v1/images:latestByFamily?folderId=${folder}&family=centos-8`,
    );
    assert.equal(none.status, 404);
    assert.equal(none.body.message, 'Image "centos-8" not found');
    const bad = await server.request("GET", `/compute/v1/images:latestByFamily?folderId=${folder}&family=X`);
    assert.equal(bad.status, 400);
    const noFolder = await server.request("GET", "/compute/v1/images:latestByFamily?family=debian-12");
    assert.equal(noFolder.status, 400);
  });

  test("Update with updateMask changes only the listed fields; a listed absent field is reset", async () => {
    const img = await createReadyImage(server, {
      folderId: "upd",
      name: "before",
      description: "old text",
      labels: { a: "1", b: "2" },
      minDiskSize: "2147483648",
      uri,
    });
    const res = await server.request("PATCH", `/compute/v1/images/${img.id}`, {
      updateMask: "name,labels",
      name: "after",
      description: "ignored, not in the mask",
      labels: { c: "3" },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.done, true);
    assert.equal(res.body.description, "Update image");
    assert.equal(
      res.body.metadata["@type"],
      "type.googleapis.com/yandex.cloud.compute.v1.UpdateImageMetadata",
    );
    assert.equal(res.body.metadata.imageId, img.id);
    assert.equal(res.body.response.name, "after");
    const got = (await server.request("GET", `/compute/v1/images/${img.id}`)).body;
    assert.equal(got.name, "after");
    assert.equal(got.description, "old text", "not in the mask: untouched");
    assert.deepEqual(got.labels, { c: "3" }, "labels replace the whole set");
    assert.equal(got.minDiskSize, "2147483648");

    const reset = await server.request("PATCH", `/compute/v1/images/${img.id}`, {
      updateMask: "description,minDiskSize",
    });
    assert.equal(reset.status, 200, reset.text);
    const afterReset = (await server.request("GET", `/compute/v1/images/${img.id}`)).body;
    assert.equal(afterReset.description, undefined, "listed but absent: reset to the default (empty)");
    assert.equal(afterReset.minDiskSize, String(1024 ** 3), "minDiskSize resets to the image's default");
    assert.equal(afterReset.name, "after");
  });

  test("Update without updateMask sets every updatable field: given ones to their values, the rest to defaults", async () => {
    const img = await createReadyImage(server, {
      folderId: "upd",
      name: "nomask",
      description: "text",
      labels: { a: "1" },
      uri,
    });
    const res = await server.request("PATCH", `/compute/v1/images/${img.id}`, { description: "new text" });
    assert.equal(res.status, 200, res.text);
    const got = (await server.request("GET", `/compute/v1/images/${img.id}`)).body;
    assert.equal(got.description, "new text");
    assert.equal(got.name, undefined, "name reset to its default (empty)");
    assert.equal(got.labels, undefined, "labels reset to the empty set");
  });

  test("Update errors: unknown mask path, invalid value, name taken, minDiskSize below the image's size, unknown image", async () => {
    const a = await createReadyImage(server, { folderId: "upd-err", name: "taken", uri });
    const b = await createReadyImage(server, { folderId: "upd-err", name: "mine", uri });
    const cases: [unknown, number, number, RegExp][] = [
      [{ updateMask: "name,family", name: "x" }, 400, 3, /updateMask.*family/],
      [{ updateMask: "status" }, 400, 3, /updateMask/],
      [{ updateMask: "name", name: "Not_Valid" }, 400, 3, /name/],
      [{ updateMask: "labels", labels: { "9": "x" } }, 400, 3, /labels/],
      [{ updateMask: "description", description: "d".repeat(257) }, 400, 3, /description/],
      [{ updateMask: "name", name: "taken" }, 409, 6, /already exists/],
      [{ updateMask: "minDiskSize", minDiskSize: "4194304" }, 400, 3, /minDiskSize.*at least/],
      [{ updateMask: "minDiskSize", minDiskSize: "1" }, 400, 3, /between/],
      [{ updateMask: "name", folderId: "x" }, 400, 3, /unknown field/],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await server.request("PATCH", `/compute/v1/images/${b.id}`, body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.code, code);
      assert.match(res.body.message, message);
    }
    const missing = await server.request("PATCH", "/compute/v1/images/fd8missing0000000000", {
      updateMask: "name",
      name: "x",
    });
    assert.equal(missing.status, 404);
    const same = await server.request("PATCH", `/compute/v1/images/${a.id}`, {
      updateMask: "name",
      name: "taken",
    });
    assert.equal(same.status, 200, "keeping its own name is not a conflict");
  });

  test("Delete: an Operation, DELETING, then NOT_FOUND; the bytes are freed when no image shares them", async () => {
    const blobCount = () =>
      fs
        .readdirSync(path.join(server.dataDir, "blobs"), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile()).length;
    const uniqueUri = files.serve("unique.qcow2", image("qcow2", 16).path);
    const before = blobCount();
    const parent = await createReadyImage(server, { folderId: "del", name: "parent", uri: uniqueUri });
    const child = await createReadyImage(server, { folderId: "del", name: "child", imageId: parent.id });
    assert.equal(blobCount(), before + 1);

    const del = await server.request("DELETE", `/compute/v1/images/${parent.id}`);
    assert.equal(del.status, 200, del.text);
    assert.equal(del.body.description, "Delete image");
    assert.equal(
      del.body.metadata["@type"],
      "type.googleapis.com/yandex.cloud.compute.v1.DeleteImageMetadata",
    );
    const status = (await server.request("GET", `/compute/v1/images/${parent.id}`)).body.status;
    assert.ok(status === "DELETING" || status === undefined, `DELETING right after the call, got ${status}`);
    const done = await waitOperation(server, del.body.id);
    assert.deepEqual(done.response, { "@type": "type.googleapis.com/google.protobuf.Empty", value: {} });
    assert.equal((await server.request("GET", `/compute/v1/images/${parent.id}`)).status, 404);
    assert.equal(blobCount(), before + 1, "the child still uses the bytes");

    const again = await server.request("DELETE", `/compute/v1/images/${parent.id}`);
    assert.equal(again.status, 404);

    const delChild = await server.request("DELETE", `/compute/v1/images/${child.id}`);
    await waitOperation(server, delChild.body.id);
    await eventually(async () => blobCount() === before, 5000, "blob removal");
  });

  test("ListOperations lists an image's operations, newest first, paginated", async () => {
    const img = await createReadyImage(server, { folderId: "ops", name: "with-ops", uri });
    for (const d of ["one", "two", "three"]) {
      const r = await server.request("PATCH", `/compute/v1/images/${img.id}`, {
        updateMask: "description",
        description: d,
      });
      assert.equal(r.status, 200);
    }
    const first = await server.request("GET", `/compute/v1/images/${img.id}/operations?pageSize=2`);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.operations.length, 2);
    assert.equal(first.body.operations[0].response.description, "three");
    assert.ok(first.body.nextPageToken);
    const second = await server.request(
      "GET",
      `/compute/v1/images/${img.id}/operations?pageSize=2&pageToken=${first.body.nextPageToken}`,
    );
    assert.equal(second.body.operations.length, 2);
    assert.equal(second.body.operations[1].description, "Create image");
    assert.equal(second.body.nextPageToken, undefined);
    const missing = await server.request("GET", "/compute/v1/images/fd8missing0000000000/operations");
    assert.equal(missing.status, 404);
  });

  test("Operations: get an unknown one is NOT_FOUND; cancelling a finished one is FAILED_PRECONDITION", async () => {
    const res = await server.request("GET", "/operations/nosuchoperation00000");
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 5);
    const img = await createReadyImage(server, { folderId: "ops", uri });
    const ops = await server.request("GET", `/compute/v1/images/${img.id}/operations`);
    const opId = ops.body.operations[0].id;
    for (const method of ["POST", "GET"]) {
      const cancel = await server.request(method, `/operations/${opId}:cancel`);
      assert.equal(cancel.status, 400, cancel.text);
      assert.equal(cancel.body.code, 9);
    }
  });

  test("Authentication: no token, a malformed header and an unknown token are 401 UNAUTHENTICATED", async () => {
    for (const headers of [
      {},
      { authorization: "Basic abc" },
      { authorization: "Bearer not-a-token" },
    ] as Record<string, string>[]) {
      const res = await apiRequest(
        server.url,
        null,
        "GET",
        "/compute/v1/images?folderId=f",
        undefined,
        headers,
      );
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 16);
      assert.equal(res.body.details.at(-1)["@type"], "type.googleapis.com/google.rpc.RequestInfo");
    }
    const op = await apiRequest(server.url, null, "GET", "/operations/x");
    assert.equal(op.status, 401);
  });

  test("healthz and readyz need no token", async () => {
    const h = await apiRequest(server.url, null, "GET", "/healthz");
    assert.equal(h.status, 200);
    const r = await apiRequest(server.url, null, "GET", "/readyz");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: "ready" });
  });
});
