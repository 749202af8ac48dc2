import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image, rawDisk } from "../helpers/fixtures.js";
import { PATCH_TYPE, createOsImage, osRequest, projectToken, putData } from "../helpers/openstack.js";
import {
  type RunningServer,
  blobFiles,
  eventually,
  pendingBlobFiles,
  startServer,
} from "../helpers/server.js";

const MAX_IMAGE_BYTES = 48 * 1024 * 1024;

describe("OpenStack Image API v2: image data", () => {
  let server: RunningServer;
  let files: FileServer;
  before(async () => {
    files = await startFileServer();
    server = await startServer({
      env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1", VITRINE_MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES) },
    });
  });
  after(async () => {
    await server.stop();
    await files.close();
  });

  const get = async (id: string) => (await osRequest(server, "GET", `/v2/images/${id}`)).body;
  const pendingFiles = () => pendingBlobFiles(server.dataDir);

  test("upload: queued → active with size, MD5, SHA-512 and virtual size; download returns the same bytes", async () => {
    const fixture = image("qcow2", 16);
    const img = await createOsImage(server, { name: "up", disk_format: "qcow2", container_format: "bare" });
    const empty = await osRequest(server, "GET", `/v2/images/${img.id}/file`);
    assert.equal(empty.status, 204, "no data yet");
    const put = await putData(server, img.id, fixture.path);
    assert.equal(put.status, 204, put.text);
    const after = await get(img.id);
    assert.equal(after.status, "active");
    assert.equal(after.size, fixture.size);
    assert.equal(after.virtual_size, fixture.virtualSize);
    assert.equal(after.checksum, fixture.md5);
    assert.equal(after.os_hash_algo, "sha512");
    assert.equal(after.os_hash_value, fixture.sha512);
    assert.equal(after.__image_size, String(fixture.size));
    assert.equal(after.stores, "fs");

    const res = await fetch(`${server.url}/v2/images/${img.id}/file`, {
      headers: { "x-auth-token": server.token },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-md5"), fixture.md5);
    assert.equal(res.headers.get("content-length"), String(fixture.size));
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(createHash("md5").update(bytes).digest("hex"), fixture.md5);

    // Where the bytes live, for admins (read-only): a file of the image's size under the data directory.
    const locations = await osRequest(server, "GET", `/v2/images/${img.id}/locations`);
    assert.equal(locations.status, 200, locations.text);
    assert.equal(locations.body.length, 1);
    assert.deepEqual(locations.body[0].metadata, { store: "fs" });
    const stored = fileURLToPath(locations.body[0].url);
    assert.ok(
      stored.startsWith(fs.realpathSync(server.dataDir)) || stored.startsWith(server.dataDir),
      stored,
    );
    assert.equal(fs.statSync(stored).size, fixture.size);
    const user = projectToken(server, "locations-p");
    const hidden = await osRequest(server, "GET", `/v2/images/${img.id}/locations`, undefined, {}, user);
    assert.equal(hidden.status, 403, hidden.text);
    const none = await osRequest(
      server,
      "GET",
      `/v2/images/${(await createOsImage(server, { name: "q" })).id}/locations`,
    );
    assert.deepEqual(none.body, [], "a queued image has no location");

    const again = await putData(server, img.id, fixture.path);
    assert.equal(again.status, 409);
    assert.match(again.body.message, /transition from active to saving is not allowed/);

    // The same image in the Compute API of its folder, with its sizes.
    const compute = await server.request("GET", `/compute/v1/images?folderId=admin&filter=name="up"`);
    assert.equal(compute.body.images[0].status, "READY");
    assert.equal(compute.body.images[0].storageSize, String(fixture.size));
    assert.equal(compute.body.images[0].minDiskSize, String(1024 ** 3));
  });

  test("download ranges: 206 with Content-Range for a-b, a- and -n; 416 past the end", async () => {
    const fixture = image("qcow2", 8);
    const img = await createOsImage(server, { name: "ranged", disk_format: "qcow2" });
    assert.equal((await putData(server, img.id, fixture.path)).status, 204);
    const whole = fs.readFileSync(fixture.path);
    const ranged = async (range: string) =>
      fetch(`${server.url}/v2/images/${img.id}/file`, { headers: { "x-auth-token": server.token, range } });
    for (const [range, start, end] of [
      ["bytes=0-99", 0, 99],
      ["bytes=100-", 100, whole.length - 1],
      ["bytes=-10", whole.length - 10, whole.length - 1],
    ] as const) {
      const res = await ranged(range);
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get("content-range"), `bytes ${start}-${end}/${whole.length}`);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), whole.subarray(start, end + 1));
    }
    const bad = await ranged(`bytes=${whole.length + 10}-${whole.length + 20}`);
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get("content-range"), `bytes */${whole.length}`, "416 names the length");
  });

  test("upload refusals: no formats 400, wrong media type 415, over the size limit 413, format mismatch 400; the image stays queued without bytes", async () => {
    const fixture = image("qcow2", 8);
    const noFormat = await createOsImage(server, { name: "nf", disk_format: null, container_format: null });
    const r1 = await putData(server, noFormat.id, fixture.path);
    assert.equal(r1.status, 400);
    assert.match(r1.body.message, /disk_format, container_format must be set/);

    const img = await createOsImage(server, { name: "refusals", disk_format: "raw" });
    const r2 = await putData(server, img.id, fixture.path, { contentType: "application/json" });
    assert.equal(r2.status, 415);
    const r3 = await putData(server, img.id, fixture.path);
    assert.equal(r3.status, 400, "a qcow2 declared raw is refused");
    assert.match(r3.body.message, /qcow2/);
    assert.equal((await get(img.id)).status, "queued");

    const big = rawDisk("too-big", 64);
    const r4 = await putData(server, img.id, big);
    assert.equal(r4.status, 413);
    assert.equal((await get(img.id)).status, "queued");
    // Without Content-Length the limit is enforced while streaming.
    const stream = fs.createReadStream(big);
    const chunked = await fetch(`${server.url}/v2/images/${img.id}/file`, {
      method: "PUT",
      headers: { "x-auth-token": server.token, "content-type": "application/octet-stream" },
      body: (async function* () {
        for await (const chunk of stream) yield chunk as Buffer;
      })(),
      duplex: "half",
    } as RequestInit).catch((e: unknown) => e);
    if (chunked instanceof Response) assert.equal(chunked.status, 413);
    await eventually(async () => (await get(img.id)).status === "queued", 5000, "queued after the limit");
    assert.deepEqual(pendingFiles(), []);

    const ok = await putData(server, img.id, rawDisk("fits", 4));
    assert.equal(ok.status, 204, "a refused upload leaves the image ready for a good one");
  });

  test("a client that disconnects mid-upload leaves the image queued and no bytes behind", async () => {
    const img = await createOsImage(server, { name: "dropped", disk_format: "raw" });
    const url = new URL(`${server.url}/v2/images/${img.id}/file`);
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "PUT",
        headers: {
          "x-auth-token": server.token,
          "content-type": "application/octet-stream",
          "content-length": String(8 * 1024 * 1024),
        },
      });
      req.on("error", () => resolve());
      req.write(Buffer.alloc(1024 * 1024, 7));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
    await eventually(async () => (await get(img.id)).status === "queued", 5000, "queued again");
    await eventually(async () => pendingFiles().length === 0, 5000, "pending data removed");
    const retry = await putData(server, img.id, rawDisk("retry", 2));
    assert.equal(retry.status, 204);
  });

  test("interoperable import: info endpoints, stage then glance-direct, web-download, and Glance's failure reporting", async () => {
    const info = await osRequest(server, "GET", "/v2/info/import");
    assert.deepEqual(info.body["import-methods"].value, ["glance-direct", "web-download"]);
    const stores = await osRequest(server, "GET", "/v2/info/stores");
    assert.deepEqual(stores.body, { stores: [{ id: "fs", default: "true" }] });
    const detail = await osRequest(server, "GET", "/v2/info/stores/detail");
    assert.deepEqual(detail.body, {
      stores: [
        {
          id: "fs",
          default: true,
          type: "file",
          weight: 0,
          properties: { description: `the data directory's blobs (${path.join(server.dataDir, "blobs")})` },
        },
      ],
    });
    const notAdmin = await osRequest(
      server,
      "GET",
      "/v2/info/stores/detail",
      undefined,
      {},
      projectToken(server, "info-p"),
    );
    assert.equal(notAdmin.status, 403);
    assert.equal(notAdmin.body.message, "You are not authorized to complete stores_info_detail action.");
    assert.deepEqual(
      (await osRequest(server, "GET", "/v2/info/usage")).body,
      { usage: {} },
      "as Glance without quotas",
    );

    const fixture = image("qcow2", 8);
    const staged = await createOsImage(server, { name: "staged", disk_format: "qcow2" });
    const noStage = await osRequest(server, "POST", `/v2/images/${staged.id}/import`, {
      method: { name: "glance-direct" },
    });
    assert.equal(noStage.status, 409);
    assert.equal((await putData(server, staged.id, fixture.path, { endpoint: "stage" })).status, 204);
    const uploading = await get(staged.id);
    assert.equal(uploading.status, "uploading");
    assert.equal(uploading.size, fixture.size);
    assert.equal(uploading.checksum, null);
    const imported = await osRequest(server, "POST", `/v2/images/${staged.id}/import`, {
      method: { name: "glance-direct" },
    });
    assert.equal(imported.status, 202, imported.text);
    const active = await eventually(async () => {
      const b = await get(staged.id);
      return b.status === "active" && b;
    });
    assert.equal(active.checksum, fixture.md5);
    assert.equal(active.os_hash_value, fixture.sha512);
    assert.equal(active.os_glance_failed_import, "");
    // Image tasks (2.12): the import as an api_image_import task, tied to the request that asked.
    const tasks = await osRequest(server, "GET", `/v2/images/${staged.id}/tasks`);
    assert.equal(tasks.status, 200, tasks.text);
    assert.equal(tasks.body.tasks.length, 1);
    const task = tasks.body.tasks[0];
    assert.equal(task.type, "api_image_import");
    assert.equal(task.status, "success");
    assert.equal(task.image_id, staged.id);
    assert.equal(task.request_id, imported.headers.get("x-openstack-request-id"));
    assert.deepEqual(task.input.import_req.method, { name: "glance-direct" });

    const wd = await createOsImage(server, { name: "wd", disk_format: "qcow2" });
    const uri = files.serve("wd.qcow2", fixture.path);
    const started = await osRequest(server, "POST", `/v2/images/${wd.id}/import`, {
      method: { name: "web-download", uri },
    });
    assert.equal(started.status, 202, started.text);
    const done = await eventually(async () => {
      const b = await get(wd.id);
      return b.status === "active" && b;
    });
    assert.equal(done.checksum, fixture.md5);
    assert.equal(done.virtual_size, fixture.virtualSize);

    const bad = await osRequest(server, "POST", `/v2/images/${wd.id}/import`, {
      method: { name: "web-download", uri: "ftp://127.0.0.1/x" },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /does not pass filtering/);
    const unknown = await osRequest(server, "POST", `/v2/images/${wd.id}/import`, {
      method: { name: "carrier-pigeon" },
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.message, "Unknown import method name 'carrier-pigeon'.");

    // A download that fails (404 at the source) or brings the wrong format puts the image back to queued.
    for (const source of [`${files.url}/status/404`, files.serve("raw.img", rawDisk("not-qcow2", 2))]) {
      const failing = await createOsImage(server, {
        name: `failing-${source.split("/").pop()}`,
        disk_format: "qcow2",
      });
      const r = await osRequest(server, "POST", `/v2/images/${failing.id}/import`, {
        method: { name: "web-download", uri: source },
      });
      assert.equal(r.status, 202);
      const failed = await eventually(async () => {
        const b = await get(failing.id);
        return b.status === "queued" && b.os_glance_failed_import === "fs" && b;
      });
      assert.equal(failed.size, null);
      const [failedTask] = (await osRequest(server, "GET", `/v2/images/${failing.id}/tasks`)).body.tasks;
      assert.equal(failedTask.status, "failure");
      assert.equal(failedTask.input.import_req.method.name, "web-download");
      assert.notEqual(failedTask.message, "");
    }
  });

  test("the task list (/v2/tasks, admins): every import newest first, filtered by status, paged; one task shown whole", async () => {
    const fixture = image("qcow2", 4);
    const ok = await createOsImage(server, { name: "task-ok", disk_format: "qcow2" });
    const ko = await createOsImage(server, { name: "task-ko", disk_format: "qcow2" });
    for (const [img, uri] of [
      [ok, files.serve("task-ok.qcow2", fixture.path)],
      [ko, `${files.url}/status/404`],
    ] as const) {
      const r = await osRequest(server, "POST", `/v2/images/${img.id}/import`, {
        method: { name: "web-download", uri },
      });
      assert.equal(r.status, 202, r.text);
    }
    await eventually(
      async () => (await get(ok.id)).status === "active" && (await get(ko.id)).status === "queued",
    );
    // Once both tasks are recorded as finished:
    const all = await eventually(async () => {
      const res = await osRequest(server, "GET", "/v2/tasks?limit=1000");
      const mine = res.body.tasks.filter((t: any) => [ok.id, ko.id].includes(t.image_id));
      return (
        mine.length === 2 &&
        mine.every((t: any) => t.status !== "pending" && t.status !== "processing") &&
        res
      );
    });
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.schema, "/v2/schemas/tasks");
    const [newest] = all.body.tasks;
    assert.equal(newest.image_id, ko.id, "newest first");
    assert.equal(newest.type, "api_image_import");
    assert.equal(newest.status, "failure");
    assert.equal(newest.input, undefined, "lists leave input and result out");
    assert.equal(newest.self, `/v2/tasks/${newest.id}`);

    const failures = await osRequest(server, "GET", "/v2/tasks?status=failure&limit=1000");
    assert.ok(failures.body.tasks.length >= 1);
    assert.ok(failures.body.tasks.every((t: any) => t.status === "failure"));

    const seen: string[] = [];
    let url: string | undefined = "/v2/tasks?limit=1";
    while (url) {
      const page = await osRequest(server, "GET", url);
      assert.equal(page.status, 200, page.text);
      assert.ok(page.body.tasks.length <= 1);
      seen.push(...page.body.tasks.map((t: any) => t.id));
      url = page.body.next;
    }
    assert.deepEqual(
      seen,
      all.body.tasks.map((t: any) => t.id),
      "paging one by one gives the same list",
    );

    const shown = await osRequest(server, "GET", `/v2/tasks/${newest.id}`);
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.body.input.import_req.method.name, "web-download");
    assert.notEqual(shown.body.message, "");
    assert.equal((await osRequest(server, "GET", "/v2/tasks/no-such-task")).status, 404);
    assert.equal((await osRequest(server, "GET", "/v2/tasks?status=sleeping")).status, 400);
    assert.equal((await osRequest(server, "GET", "/v2/schemas/task")).body.name, "task");

    const user = projectToken(server, "tasks-p");
    const listRefused = await osRequest(server, "GET", "/v2/tasks", undefined, {}, user);
    assert.equal(listRefused.status, 403, listRefused.text);
    assert.equal((await osRequest(server, "GET", `/v2/tasks/${newest.id}`, undefined, {}, user)).status, 403);
  });

  test("deactivate/reactivate (owners and admins): a deactivated image refuses download to non-admins with 403", async () => {
    const project = "data-project";
    const member = projectToken(server, project);
    const img = await createOsImage(server, { name: "deact", disk_format: "raw" }, member);
    assert.equal((await putData(server, img.id, rawDisk("deact", 2), { token: member })).status, 204);

    const byOwner = await osRequest(
      server,
      "POST",
      `/v2/images/${img.id}/actions/deactivate`,
      undefined,
      {},
      member,
    );
    assert.equal(byOwner.status, 204, "the owning project deactivates (Glance's default policy)");
    assert.equal((await get(img.id)).status, "deactivated");
    const refused = await osRequest(server, "GET", `/v2/images/${img.id}/file`, undefined, {}, member);
    assert.equal(refused.status, 403);
    const asAdmin = await fetch(`${server.url}/v2/images/${img.id}/file`, {
      headers: { "x-auth-token": server.token },
    });
    assert.equal(asAdmin.status, 200);
    await asAdmin.arrayBuffer();
    const compute = await server.request("GET", `/compute/v1/images?folderId=${project}`);
    assert.equal(compute.body.images[0].status, "READY");
    const reactivated = await osRequest(
      server,
      "POST",
      `/v2/images/${img.id}/actions/reactivate`,
      undefined,
      {},
      member,
    );
    assert.equal(reactivated.status, 204);
    const again = await osRequest(server, "GET", `/v2/images/${img.id}/file`, undefined, {}, member);
    assert.equal(again.status, 200);

    const queued = await createOsImage(server, { name: "q-deactivate" });
    const notActive = await osRequest(server, "POST", `/v2/images/${queued.id}/actions/deactivate`);
    assert.equal(notActive.status, 403);
    assert.match(notActive.body.message, /Not allowed to deactivate image in status 'queued'/);
    const patchFormat = await osRequest(
      server,
      "PATCH",
      `/v2/images/${img.id}`,
      [{ op: "replace", path: "/disk_format", value: "qcow2" }],
      PATCH_TYPE,
    );
    assert.equal(patchFormat.status, 403);
    assert.match(patchFormat.body.message, /can be only replaced for a queued image/);
  });

  test("deleting an uploaded image frees its bytes unless another image shares them", async () => {
    const img = await createOsImage(server, { name: "freed", disk_format: "raw" });
    assert.equal((await putData(server, img.id, rawDisk("freed", 2))).status, 204);
    const blobsBefore = blobFiles(server.dataDir).committed;
    assert.equal((await osRequest(server, "DELETE", `/v2/images/${img.id}`)).status, 204);
    await eventually(
      async () => blobFiles(server.dataDir).committed === blobsBefore - 1,
      5000,
      "blob removed",
    );
  });
});
