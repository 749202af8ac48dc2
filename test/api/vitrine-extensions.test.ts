import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createReadyImage } from "../helpers/compute.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image } from "../helpers/fixtures.js";
import { createOsImage, projectToken, putData } from "../helpers/openstack.js";
import { type RunningServer, apiRequest, startServer } from "../helpers/server.js";

/**
 * What Vitrine adds to the dialects, each documented in the README: finding an image by the other
 * dialect's id, an import's progress on its Operation, a folder's operations, and a folder's figures.
 */
describe("Vitrine's extensions of the APIs", () => {
  let server: RunningServer;
  let files: FileServer;
  let viewerOfOther: string;
  const folder = "ext";

  before(async () => {
    files = await startFileServer();
    server = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    viewerOfOther = projectToken(server, "other-folder", "viewer");
  });
  after(async () => {
    await server?.stop();
    await files?.close();
  });

  test("either dialect finds an image by the other's id; BareMetal keeps its strict ids", async () => {
    const os = await createOsImage(server, {
      name: "by-uuid",
      owner: folder,
      disk_format: "qcow2",
      container_format: "bare",
    });
    const compute = await server.request("GET", `/compute/v1/images/${os.id}`);
    assert.equal(compute.status, 200, compute.text);
    assert.match(compute.body.id, /^[a-z][a-z0-9]{19}$/);
    const back = await server.request("GET", `/v2/images/${compute.body.id}`);
    assert.equal(back.status, 200);
    assert.equal(back.body.id, os.id);
    assert.equal((await server.request("GET", `/baremetal/v1alpha/images/${os.id}`)).status, 400);
    // Someone who may not see it gets the same 404 by either id.
    for (const id of [os.id, compute.body.id]) {
      const res = await apiRequest(server.url, viewerOfOther, "GET", `/compute/v1/images/${id}`);
      assert.equal(res.status, 404, id);
    }
  });

  test("an import's Operation carries its progress; a folder's operations list newest first, paged", async () => {
    const qcow2 = image("qcow2", 8);
    const created = await createReadyImage(server, {
      folderId: folder,
      name: "imported",
      uri: files.serve("e.qcow2", qcow2.path),
    });
    const ops = await server.request("GET", `/compute/v1/images/${created.id}/operations`);
    const done = await server.request("GET", `/operations/${ops.body.operations[0].id}`);
    assert.deepEqual(done.body.progress, { bytesDone: String(qcow2.size), bytesTotal: String(qcow2.size) });

    const uploaded = await createOsImage(server, {
      name: "up",
      owner: folder,
      disk_format: "qcow2",
      container_format: "bare",
    });
    assert.equal((await putData(server, uploaded.id, qcow2.path)).status, 204);
    await server.request("PATCH", `/compute/v1/images/${created.id}`, {
      description: "x",
      updateMask: "description",
    });

    const all = await server.request("GET", `/operations?folderId=${folder}`);
    assert.equal(all.status, 200, all.text);
    const descriptions = all.body.operations.map((o: { description: string }) => o.description);
    assert.deepEqual(descriptions, ["Update image", "Create image"]);
    const first = await server.request("GET", `/operations?folderId=${folder}&pageSize=1`);
    assert.equal(first.body.operations.length, 1);
    const second = await server.request(
      "GET",
      `/operations?folderId=${folder}&pageSize=1&pageToken=${first.body.nextPageToken}`,
    );
    assert.equal(second.body.operations[0].id, all.body.operations[1].id);
    assert.equal(second.body.nextPageToken, undefined);

    assert.equal((await server.request("GET", "/operations")).status, 400);
    const refused = await apiRequest(server.url, viewerOfOther, "GET", `/operations?folderId=${folder}`);
    assert.equal(refused.status, 403);
  });

  test("a folder's figures: images, bytes stored, and the bytes saved by images sharing data", async () => {
    const qcow2 = image("qcow2", 8);
    const source = await createReadyImage(server, {
      folderId: "sums",
      name: "source",
      uri: files.serve("s.qcow2", qcow2.path),
    });
    for (const name of ["copy-1", "copy-2"]) {
      await createReadyImage(server, { folderId: "sums", name, imageId: source.id });
    }
    await createOsImage(server, {
      name: "empty",
      owner: "sums",
      disk_format: "raw",
      container_format: "bare",
    });
    const res = await server.request("GET", "/compute/v1/images:summary?folderId=sums");
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.folders, [
      {
        folderId: "sums",
        images: "4",
        imagesWithData: "3",
        referencedBytes: String(3 * qcow2.size),
        storedBytes: String(qcow2.size),
        savedBytes: String(2 * qcow2.size),
      },
    ]);
    const empty = await server.request("GET", "/compute/v1/images:summary?folderId=nothing-here");
    assert.equal(empty.body.folders[0].images, "0");
    // Every folder at once is the admins' view.
    const everyone = await server.request("GET", "/compute/v1/images:summary");
    assert.ok(everyone.body.folders.some((f: { folderId: string }) => f.folderId === "sums"));
    assert.equal(
      (await apiRequest(server.url, viewerOfOther, "GET", "/compute/v1/images:summary")).status,
      403,
    );
    assert.equal(
      (await apiRequest(server.url, viewerOfOther, "GET", "/compute/v1/images:summary?folderId=sums")).status,
      403,
    );
  });
});
