import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { image, iso } from "../helpers/fixtures.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { type RunningServer, eventually, startServer, waitOperation } from "../helpers/server.js";

const FOLDER = "b1g-baremetal";

describe("BareMetal Image API v1alpha", () => {
  let server: RunningServer;
  let files: FileServer;
  let isoUri: string;

  before(async () => {
    files = await startFileServer();
    server = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    isoUri = files.serve("boot.iso", iso("boot").path);
  });
  after(async () => {
    await server.stop();
    await files.close();
  });

  async function createIso(body: Record<string, unknown>): Promise<any> {
    const res = await server.request("POST", "/baremetal/v1alpha/images", {
      folderId: FOLDER,
      uri: isoUri,
      ...body,
    });
    assert.equal(res.status, 200, res.text);
    const done = await waitOperation(server, res.body.id);
    assert.ok(done.response, JSON.stringify(done.error));
    return done.response;
  }

  for (const udf of [false, true]) {
    test(`create from an ISO${udf ? " with UDF" : ""} URI: READY, checksum is the MD5 of the file`, async () => {
      const fixture = iso(`media${udf ? "udf" : ""}`, udf);
      const uri = files.serve(`media-${udf}.iso`, fixture.path);
      const res = await server.request("POST", "/baremetal/v1alpha/images", {
        folderId: FOLDER,
        name: `media-${udf ? "udf" : "plain"}`,
        description: "installer",
        uri,
        labels: { os: "debian", arch: "x86_64" },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.done, false);
      assert.equal(res.body.description, "Create image");
      assert.equal(
        res.body.metadata["@type"],
        "type.googleapis.com/yandex.cloud.baremetal.v1alpha.CreateImageMetadata",
      );
      const done = await waitOperation(server, res.body.id);
      assert.equal(
        done.response?.["@type"],
        "type.googleapis.com/yandex.cloud.baremetal.v1alpha.Image",
        JSON.stringify(done.error),
      );
      const md5sum = execFileSync("md5sum", [fixture.path], { encoding: "utf8" }).split(" ")[0];
      const got = await server.request("GET", `/baremetal/v1alpha/images/${res.body.metadata.imageId}`);
      assert.equal(got.status, 200);
      assert.deepEqual(Object.keys(got.body).sort(), [
        "checksum",
        "createdAt",
        "description",
        "folderId",
        "id",
        "labels",
        "name",
        "status",
      ]);
      assert.equal(got.body.checksum, md5sum);
      assert.equal(got.body.status, "READY");
      assert.equal(got.body.name, `media-${udf ? "udf" : "plain"}`);
      assert.deepEqual(got.body.labels, { os: "debian", arch: "x86_64" });
      assert.match(got.body.id, /^[a-z][a-z0-9]{19}$/);
    });
  }

  test("a qcow2 (or raw disk) is refused with a clear operation error", async () => {
    const uri = files.serve("disk.qcow2", image("qcow2", 8).path);
    const res = await server.request("POST", "/baremetal/v1alpha/images", {
      folderId: FOLDER,
      name: "not-iso",
      uri,
    });
    const done = await waitOperation(server, res.body.id);
    assert.equal(done.error.code, 3);
    assert.match(done.error.message, /qcow2 format; accepted formats are iso/);
    const img = await server.request("GET", `/baremetal/v1alpha/images/${res.body.metadata.imageId}`);
    assert.equal(img.body.status, "ERROR");
  });

  const CASES: [string, Record<string, unknown>, string][] = [
    ["folderId is required", { folderId: undefined }, "folderId"],
    ["folderId at most 50", { folderId: `f${"a".repeat(50)}` }, "folderId"],
    ["folderId pattern", { folderId: "Folder_1" }, "folderId"],
    ["name is required", { name: undefined }, "name"],
    ["name at least 2", { name: "a" }, "name"],
    ["name at most 63", { name: "a".repeat(64) }, "name"],
    ["name pattern (no underscore)", { name: "my_image" }, "name"],
    ["description at most 1024", { description: "d".repeat(1025) }, "description"],
    ["uri is required", { uri: undefined }, "uri"],
    ["uri at most 1024", { uri: `https://example.com/${"a".repeat(1010)}.iso` }, "uri"],
    ["uri scheme", { uri: "ftp://example.com/a.iso" }, "uri"],
    [
      "at most 64 labels",
      { labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) },
      "labels",
    ],
    ["label key pattern (no dot)", { labels: { "a.b": "v" } }, 'labels key "a.b"'],
    ["label value pattern (no slash)", { labels: { a: "x/y" } }, "labels.a"],
    ["label value at most 63", { labels: { a: "v".repeat(64) } }, "labels.a"],
    ["unknown field", { family: "x" }, "family"],
  ];
  for (const [title, change, field] of CASES) {
    test(`validation: ${title}`, async () => {
      const body: Record<string, unknown> = {
        folderId: FOLDER,
        name: "valid-name",
        uri: "https://example.com/a.iso",
        ...change,
      };
      for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
      const res = await server.request("POST", "/baremetal/v1alpha/images", body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.code, 3);
      assert.ok(res.body.message.includes(field), `${field} named in: ${res.body.message}`);
    });
  }

  test("names are unique in the folder", async () => {
    await createIso({ name: "unique-one" });
    const dup = await server.request("POST", "/baremetal/v1alpha/images", {
      folderId: FOLDER,
      name: "unique-one",
      uri: isoUri,
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, 6);
  });

  test("Get: imageId must be 20 characters [a-z][a-z0-9]* (400), absent is 404", async () => {
    for (const bad of ["short", "1abcdefghijklmnopqrs", "abcdefghijklmnopqrsT", "abcdefghijklmnopqrstu"]) {
      const res = await server.request("GET", `/baremetal/v1alpha/images/${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.code, 3);
    }
    const missing = await server.request("GET", "/baremetal/v1alpha/images/abcdefghijklmnopqrst");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 5);
  });

  test("List: pagination (default 20), filter with = and : on id and name, orderBy", async () => {
    const folder = "bm-list";
    const made = [];
    for (let i = 0; i < 5; i++)
      made.push(await createIso({ folderId: folder, name: `iso-${i}${i % 2 ? "-odd" : ""}` }));
    const page1 = await server.request("GET", `/baremetal/v1alpha/images?folderId=${folder}&pageSize=2`);
    assert.equal(page1.status, 200, page1.text);
    assert.equal(page1.body.images.length, 2);
    const page2 = await server.request(
      "GET",
      `/baremetal/v1alpha/images?folderId=${folder}&pageSize=2&pageToken=${page1.body.nextPageToken}`,
    );
    const page3 = await server.request(
      "GET",
      `/baremetal/v1alpha/images?folderId=${folder}&pageSize=2&pageToken=${page2.body.nextPageToken}`,
    );
    assert.equal(page3.body.nextPageToken, undefined);
    const ids = [...page1.body.images, ...page2.body.images, ...page3.body.images].map((i: any) => i.id);
    assert.deepEqual(ids, made.map((m) => m.id).sort());
    const all = await server.request("GET", `/baremetal/v1alpha/images?folderId=${folder}`);
    assert.equal(all.body.images.length, 5);

    const eq = await server.request(
      "GET",
      `/baremetal/v1alpha/images?folderId=${folder}&filter=${encodeURIComponent("name='iso-2'")}`,
    );
    assert.deepEqual(
      eq.body.images.map((i: any) => i.name),
      ["iso-2"],
    );
    const sub = await server.request(
      "GET",
      `/baremetal/v1alpha/images?folderId=${folder}&filter=${encodeURIComponent('name:"odd"')}&orderBy=name%20desc`,
    );
    assert.deepEqual(
      sub.body.images.map((i: any) => i.name),
      ["iso-3-odd", "iso-1-odd"],
    );
    const both = await server.request(
      "GET",
      `/baremetal/v1alpha/images?folderId=${folder}&filter=${encodeURIComponent(`name:'iso' AND id='${made[4].id}'`)}`,
    );
    assert.deepEqual(
      both.body.images.map((i: any) => i.id),
      [made[4].id],
    );
    const literal = await server.request(
      "GET",
      `/baremetal/v1alpha/images?folderId=${folder}&filter=${encodeURIComponent("name:'%'")}`,
    );
    assert.equal(literal.body.images.length, 0, "% is matched literally");
    for (const bad of ["status='READY'", "name IN ('a')", "name="]) {
      const res = await server.request(
        "GET",
        `/baremetal/v1alpha/images?folderId=${folder}&filter=${encodeURIComponent(bad)}`,
      );
      assert.equal(res.status, 400, bad);
    }
    const noFolder = await server.request("GET", "/baremetal/v1alpha/images");
    assert.equal(noFolder.status, 400);
  });

  test("a bare-metal image is absent from the Compute API of its folder, and vice versa", async () => {
    const folder = "shared-folder";
    const bm = await createIso({ folderId: folder, name: "bm-only" });
    const computeList = await server.request("GET", `/compute/v1/images?folderId=${folder}`);
    assert.deepEqual(computeList.body.images, []);
    const computeGet = await server.request("GET", `/compute/v1/images/${bm.id}`);
    assert.equal(computeGet.status, 404);
    const uri = files.serve("c.qcow2", image("qcow2", 8).path);
    const c = await server.request("POST", "/compute/v1/images", { folderId: folder, name: "bm-only", uri });
    assert.equal(c.status, 200, "names are unique per API, not across them");
    const done = await waitOperation(server, c.body.id);
    const bmGet = await server.request("GET", `/baremetal/v1alpha/images/${done.response.id}`);
    assert.equal(bmGet.status, 404);
  });

  test("Update: an Operation; UPDATING while it runs, then READY with the change", async () => {
    const img = await createIso({ name: "to-update", description: "old", labels: { a: "1" } });
    const res = await server.request("PATCH", `/baremetal/v1alpha/images/${img.id}`, {
      updateMask: "description,labels",
      description: "new",
      labels: { b: "2" },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(
      res.body.metadata["@type"],
      "type.googleapis.com/yandex.cloud.baremetal.v1alpha.UpdateImageMetadata",
    );
    const done = await waitOperation(server, res.body.id);
    assert.equal(done.response.status, "READY");
    const got = (await server.request("GET", `/baremetal/v1alpha/images/${img.id}`)).body;
    assert.equal(got.description, "new");
    assert.deepEqual(got.labels, { b: "2" });
    assert.equal(got.name, "to-update");
    const rename = await server.request("PATCH", `/baremetal/v1alpha/images/${img.id}`, { name: "renamed" });
    await waitOperation(server, rename.body.id);
    assert.equal((await server.request("GET", `/baremetal/v1alpha/images/${img.id}`)).body.name, "renamed");
    assert.equal(
      (await server.request("GET", `/baremetal/v1alpha/images/${img.id}`)).body.description,
      "new",
      "without a mask, absent fields stay",
    );
  });

  test("Update errors: unknown mask field, invalid name, name taken, reset of the name", async () => {
    await createIso({ name: "taken-name" });
    const img = await createIso({ name: "mine-name" });
    const cases: [unknown, number][] = [
      [{ updateMask: "uri" }, 400],
      [{ updateMask: "name", name: "Bad_Name" }, 400],
      [{ updateMask: "name" }, 400],
      [{ updateMask: "labels", labels: { "x.y": "1" } }, 400],
      [{ updateMask: "name", name: "taken-name" }, 409],
    ];
    for (const [body, status] of cases) {
      const res = await server.request("PATCH", `/baremetal/v1alpha/images/${img.id}`, body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
    }
    assert.equal(
      (await server.request("GET", `/baremetal/v1alpha/images/${img.id}`)).body.status,
      "READY",
      "refused updates leave it READY",
    );
  });

  test("Delete: an Operation, DELETING, then gone; ListOperations lists the image's operations", async () => {
    const img = await createIso({ name: "to-delete" });
    const ops = await server.request("GET", `/baremetal/v1alpha/images/${img.id}/operations`);
    assert.equal(ops.status, 200);
    assert.equal(ops.body.operations.length, 1);
    assert.equal(ops.body.operations[0].description, "Create image");
    const del = await server.request("DELETE", `/baremetal/v1alpha/images/${img.id}`);
    assert.equal(del.status, 200, del.text);
    assert.equal(
      del.body.metadata["@type"],
      "type.googleapis.com/yandex.cloud.baremetal.v1alpha.DeleteImageMetadata",
    );
    const done = await waitOperation(server, del.body.id);
    assert.equal(done.response["@type"], "type.googleapis.com/google.protobuf.Empty");
    assert.equal((await server.request("GET", `/baremetal/v1alpha/images/${img.id}`)).status, 404);
  });
});

describe("BareMetal Image API v1alpha: operations that wait and are cancelled", () => {
  test("UPDATING is visible while the update waits for a worker; a running import can be cancelled", async () => {
    const slow = await startFileServer({ chunkBytes: 4 * 1024, intervalMs: 100 });
    const files = await startFileServer();
    const server = await startServer({
      env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1", VITRINE_OPERATION_CONCURRENCY: "1" },
    });
    try {
      const fixture = iso("slowmedia");
      slow.serve("slow.iso", fixture.path);
      const ready = await server.request("POST", "/baremetal/v1alpha/images", {
        folderId: FOLDER,
        name: "ready",
        uri: files.serve("r.iso", fixture.path),
      });
      const readyImage = (await waitOperation(server, ready.body.id)).response;

      const blocking = await server.request("POST", "/baremetal/v1alpha/images", {
        folderId: FOLDER,
        name: "slow",
        uri: `${slow.url}/slow/slow.iso`,
      });
      await eventually(async () => slow.requests.length > 0, 10_000, "the slow import to start");
      const update = await server.request("PATCH", `/baremetal/v1alpha/images/${readyImage.id}`, {
        updateMask: "description",
        description: "later",
      });
      assert.equal(update.body.done, false);
      const during = await server.request("GET", `/baremetal/v1alpha/images/${readyImage.id}`);
      assert.equal(during.body.status, "UPDATING");
      const slowImage = await server.request(
        "GET",
        `/baremetal/v1alpha/images/${blocking.body.metadata.imageId}`,
      );
      assert.equal(slowImage.body.status, "CREATING");

      const cancel = await server.request("POST", `/operations/${blocking.body.id}:cancel`);
      assert.equal(cancel.body.done, true);
      assert.equal(cancel.body.error.code, 1);
      const afterUpdate = await waitOperation(server, update.body.id);
      assert.equal(afterUpdate.response.status, "READY");
      assert.equal(afterUpdate.response.description, "later");
      assert.equal(
        (await server.request("GET", `/baremetal/v1alpha/images/${blocking.body.metadata.imageId}`)).status,
        404,
      );
    } finally {
      await server.stop();
      await slow.close();
      await files.close();
    }
  });
});
