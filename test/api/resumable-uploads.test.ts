import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import { after, before, describe, test } from "node:test";
import * as tus from "tus-js-client";
import { image } from "../helpers/fixtures.js";
import { qcow2Corrupt } from "../helpers/hostile.js";
import { type InProcessHttp, startInProcessHttp } from "../helpers/in-process.js";

const TUS = { "tus-resumable": "1.0.0" };

/**
 * Resumable uploads over tus 1.0 (README "Resumable transfers") through the OpenStack dialect's
 * HTTP edge, in process on the real stores: the protocol's answers, the checks that keep an
 * upload its owner's, and data that ends exactly as a one-go upload's would (size, MD5, SHA-512,
 * inspection) however it was cut.
 */
describe("Resumable uploads (tus 1.0)", () => {
  let env: InProcessHttp;
  let token: string;
  let url: string;

  before(async () => {
    env = await startInProcessHttp({ VITRINE_RESUMABLE_EXPIRY: "3s" });
    token = await env.token("uploader", "tus-project");
    await env.app.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(env.app.server.address() as AddressInfo).port}`;
  });
  after(() => env.close());

  async function queuedImage(diskFormat = "qcow2", as = token): Promise<string> {
    const res = await env.call(as, "POST", "/v2/images", {
      name: `tus-${Math.random()}`,
      disk_format: diskFormat,
      container_format: "bare",
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id as string;
  }

  async function create(id: string, length: number, mode = "file", as = token) {
    return env.call(as, "POST", `/v2/images/${id}/${mode}`, undefined, {
      ...TUS,
      "upload-length": String(length),
    });
  }

  function patch(path: string, offset: number, data: Buffer, as = token) {
    return env.app.inject({
      method: "PATCH",
      url: path,
      headers: {
        authorization: `Bearer ${as}`,
        accept: "application/json",
        ...TUS,
        "content-type": "application/offset+octet-stream",
        "upload-offset": String(offset),
      },
      payload: data,
    });
  }

  const head = (path: string, as = token) =>
    env.app.inject({ method: "HEAD", url: path, headers: { authorization: `Bearer ${as}`, ...TUS } });

  const digests = (data: Buffer) => ({
    checksum: createHash("md5").update(data).digest("hex"),
    os_hash_value: createHash("sha512").update(data).digest("hex"),
    size: data.length,
  });

  async function shown(id: string) {
    return (await env.call(token, "GET", `/v2/images/${id}`)).json();
  }

  test("the protocol: discovery, creation, offsets, and the image active once the last byte is in", async () => {
    const data = fs.readFileSync(image("qcow2", 16).path);
    const id = await queuedImage();

    const options = await env.app.inject({
      method: "OPTIONS",
      url: `/v2/images/${id}/file`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(options.statusCode, 204);
    assert.equal(options.headers["tus-version"], "1.0.0");
    assert.match(String(options.headers["tus-extension"]), /creation/);
    assert.equal(options.headers["tus-max-size"], String(1024 ** 3));

    const noVersion = await env.call(token, "POST", `/v2/images/${id}/file`, undefined, {
      "upload-length": "10",
    });
    assert.equal(noVersion.statusCode, 412);
    assert.match(noVersion.json().message, /Tus-Resumable: 1\.0\.0/);
    const noLength = await env.call(token, "POST", `/v2/images/${id}/file`, undefined, TUS);
    assert.equal(noLength.statusCode, 400);
    assert.match(noLength.json().message, /Upload-Length/);
    const tooBig = await create(id, 1024 ** 3 + 1);
    assert.equal(tooBig.statusCode, 413);

    const created = await create(id, data.length);
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers["tus-resumable"], "1.0.0");
    assert.match(String(created.headers.location), /^uploads\/[\w-]+$/);
    assert.ok(Date.parse(String(created.headers["upload-expires"])) > Date.now());
    const path = `/v2/images/${id}/${created.headers.location}`;
    assert.equal((await shown(id)).status, "saving");
    // A second upload into the same image is refused while this one may resume.
    assert.equal((await create(id, data.length)).statusCode, 409);

    let state = await head(path);
    assert.equal(state.statusCode, 200);
    assert.equal(state.headers["upload-offset"], "0");
    assert.equal(state.headers["upload-length"], String(data.length));
    assert.equal(state.headers["cache-control"], "no-store");

    const wrongType = await env.app.inject({
      method: "PATCH",
      url: path,
      headers: {
        authorization: `Bearer ${token}`,
        ...TUS,
        "content-type": "application/octet-stream",
        "upload-offset": "0",
      },
      payload: data.subarray(0, 10),
    });
    assert.equal(wrongType.statusCode, 415);
    const gap = await patch(path, 5, data.subarray(5, 100));
    assert.equal(gap.statusCode, 409);
    assert.match(gap.json().message, /offset is 0/);

    const half = data.length >> 1;
    const first = await patch(path, 0, data.subarray(0, half));
    assert.equal(first.statusCode, 204, first.body);
    assert.equal(first.headers["upload-offset"], String(half));
    state = await head(path);
    assert.equal(state.headers["upload-offset"], String(half));
    // Bytes already stored are not written again: an overlap is an offset conflict.
    assert.equal((await patch(path, half - 10, data.subarray(half - 10, half + 10))).statusCode, 409);

    const last = await patch(path, half, data.subarray(half));
    assert.equal(last.statusCode, 204, last.body);
    assert.equal(last.headers["upload-offset"], String(data.length));
    const img = await shown(id);
    assert.equal(img.status, "active");
    assert.deepEqual(
      { checksum: img.checksum, os_hash_value: img.os_hash_value, size: img.size },
      digests(data),
    );
    assert.equal(img.virtual_size, image("qcow2", 16).virtualSize);
    const download = await env.call(token, "GET", `/v2/images/${id}/file`);
    assert.ok(Buffer.from(download.rawPayload).equals(data));
    assert.equal((await head(path)).statusCode, 404, "a completed upload is gone");
    assert.deepEqual(await pendingOf(path), []);
  });

  test("another project or subject cannot see, append to or cancel an upload", async () => {
    const id = await queuedImage();
    const path = `/v2/images/${id}/${(await create(id, 1000)).headers.location}`;
    const stranger = await env.token("stranger", "other-project");
    const colleague = await env.token("colleague", "tus-project");
    for (const as of [stranger, colleague]) {
      assert.equal((await head(path, as)).statusCode, 404);
      assert.equal((await patch(path, 0, Buffer.alloc(10), as)).statusCode, 404);
      const cancel = await env.app.inject({
        method: "DELETE",
        url: path,
        headers: { authorization: `Bearer ${as}`, ...TUS },
      });
      assert.equal(cancel.statusCode, 404);
    }
    // Under another image's path, the upload is not there either.
    const other = await queuedImage();
    assert.equal((await head(path.replace(id, other))).statusCode, 404);
    assert.equal((await head(path)).headers["upload-offset"], "0");
  });

  test("tus-js-client uploads a file in chunks and the image matches the file", async () => {
    const data = fs.readFileSync(image("vmdk", 24, "subformat=streamOptimized").path);
    const id = await queuedImage("vmdk");
    await tusUpload(id, data, { chunkSize: 1024 * 1024 + 17 });
    const img = await shown(id);
    assert.equal(img.status, "active");
    assert.deepEqual(
      { checksum: img.checksum, os_hash_value: img.os_hash_value, size: img.size },
      digests(data),
    );
  });

  test("a connection cut mid-PATCH keeps what arrived; the rest resumes from the stored offset", async () => {
    const data = fs.readFileSync(image("raw", 8).path);
    const id = await queuedImage("raw");
    const path = `/v2/images/${id}/${(await create(id, data.length)).headers.location}`;
    const sent = 3 * 1024 * 1024 + 12345;
    await cutPatch(path, data.subarray(0, sent));
    let offset = 0;
    let last = "";
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      const state = await head(path);
      last = `${state.statusCode} ${JSON.stringify(state.headers)}`;
      offset = Number(state.headers["upload-offset"]);
      if (offset === sent) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(offset, sent, `every byte that arrived is kept (${last})`);
    const rest = await patch(path, offset, data.subarray(offset));
    assert.equal(rest.statusCode, 204, rest.body);
    const img = await shown(id);
    assert.equal(img.status, "active");
    assert.deepEqual(
      { checksum: img.checksum, os_hash_value: img.os_hash_value, size: img.size },
      digests(data),
    );
  });

  test("a refused image fails its upload at the last byte: queued again, nothing kept", async () => {
    const data = fs.readFileSync(qcow2Corrupt());
    const id = await queuedImage();
    const path = `/v2/images/${id}/${(await create(id, data.length)).headers.location}`;
    assert.equal((await patch(path, 0, data.subarray(0, 4096))).statusCode, 204);
    const last = await patch(path, 4096, data.subarray(4096));
    assert.equal(last.statusCode, 400);
    assert.match(last.json().message, /corrupt/);
    assert.equal((await shown(id)).status, "queued");
    assert.equal((await head(path)).statusCode, 404);
    assert.deepEqual(await pendingOf(path), []);
  });

  test("compressed data is stored decompressed, as a one-go upload of it would be", async () => {
    const raw = fs.readFileSync(image("qcow2", 16).path);
    const gz = zlib.gzipSync(raw);
    const id = await queuedImage();
    await tusUpload(id, gz, { chunkSize: 100_000 });
    const img = await shown(id);
    assert.equal(img.status, "active");
    assert.deepEqual(
      { checksum: img.checksum, os_hash_value: img.os_hash_value, size: img.size },
      digests(raw),
    );
    assert.equal(img.vitrine_source_compression, "gzip");
  });

  test("staged data waits for a glance-direct import", async () => {
    const data = fs.readFileSync(image("qcow2", 8).path);
    const id = await queuedImage();
    await tusUpload(id, data, { mode: "stage" });
    assert.equal((await shown(id)).status, "uploading");
    const imported = await env.call(token, "POST", `/v2/images/${id}/import`, {
      method: { name: "glance-direct" },
    });
    assert.equal(imported.statusCode, 202);
    for (const deadline = Date.now() + 20_000; (await shown(id)).status !== "active";) {
      assert.ok(Date.now() < deadline, "the import finishes");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await shown(id)).os_hash_value, digests(data).os_hash_value);
  });

  test("cancelling (tus termination) queues the image again and removes the data", async () => {
    const id = await queuedImage();
    const path = `/v2/images/${id}/${(await create(id, 100_000)).headers.location}`;
    assert.equal((await patch(path, 0, Buffer.alloc(50_000, 1))).statusCode, 204);
    const cancel = await env.app.inject({
      method: "DELETE",
      url: path,
      headers: { authorization: `Bearer ${token}`, ...TUS },
    });
    assert.equal(cancel.statusCode, 204);
    assert.equal((await shown(id)).status, "queued");
    assert.equal((await head(path)).statusCode, 404);
    assert.deepEqual(await pendingOf(path), []);
    // The image takes a plain PUT now, as Glance's would.
    const put = await env.call(
      token,
      "PUT",
      `/v2/images/${id}/file`,
      fs.readFileSync(image("qcow2", 8).path),
      {
        "content-type": "application/octet-stream",
      },
    );
    assert.equal(put.statusCode, 204);
  });

  test("an upload nobody appends to expires: a clear answer, the image queued, the data gone", async () => {
    const id = await queuedImage();
    const path = `/v2/images/${id}/${(await create(id, 100_000)).headers.location}`;
    assert.equal((await patch(path, 0, Buffer.alloc(40_000, 2))).statusCode, 204);
    await new Promise((r) => setTimeout(r, 3_200));
    const late = await patch(path, 40_000, Buffer.alloc(60_000, 2));
    assert.equal(late.statusCode, 404);
    assert.match(late.json().message, /completed, was cancelled, or expired/);
    assert.equal((await shown(id)).status, "queued");
    assert.deepEqual(await pendingOf(path), []);
    // The sweep finds the ones nobody asks about.
    const forgotten = await queuedImage();
    await create(forgotten, 10);
    await new Promise((r) => setTimeout(r, 3_200));
    assert.ok((await env.core.imageData.resumable.expire()).length >= 1);
    assert.equal((await shown(forgotten)).status, "queued");
  });

  test("the announced length is held against the project's quota until the upload ends", async () => {
    const admin = await env.adminToken();
    const quotaToken = await env.token("quota-uploader", "tus-quota");
    const set = await env.call(admin, "PATCH", "/vitrine/v1/quotas/tus-quota", {
      limits: { image_size_total: String(1_000_000) },
    });
    assert.equal(set.statusCode, 200, set.body);
    const id = await queuedImage("raw", quotaToken);
    const tooBig = await create(id, 1_500_000, "file", quotaToken);
    assert.equal(tooBig.statusCode, 413);
    assert.match(tooBig.json().message, /quota/i);
    const created = await create(id, 600_000, "file", quotaToken);
    assert.equal(created.statusCode, 201);
    const usage = async () =>
      (await env.call(admin, "GET", "/vitrine/v1/quotas/tus-quota")).json().quotas.image_size_total.usage;
    assert.equal(await usage(), "600000", "held from the start");
    // Another upload of the project finds the room already taken.
    const other = await queuedImage("raw", quotaToken);
    assert.equal((await create(other, 600_000, "file", quotaToken)).statusCode, 413);
    const path = `/v2/images/${id}/${created.headers.location}`;
    const cancel = await env.app.inject({
      method: "DELETE",
      url: path,
      headers: { authorization: `Bearer ${quotaToken}`, ...TUS },
    });
    assert.equal(cancel.statusCode, 204);
    assert.equal(await usage(), "0", "released with the upload");
  });

  /** The pending data the upload at `path` left. */
  async function pendingOf(path: string): Promise<string[]> {
    const uploadId = path.split("/").pop()!;
    return (await env.blobs.listPendingTags()).filter((tag) => tag.includes(uploadId));
  }

  /** Sends `data` as a PATCH from offset 0 over a real connection, and cuts it once all is written. */
  async function cutPatch(path: string, data: Buffer): Promise<void> {
    const req = http.request(`${url}${path}`, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${token}`,
        ...TUS,
        "content-type": "application/offset+octet-stream",
        "upload-offset": "0",
        "content-length": String(data.length * 2),
      },
    });
    req.on("error", () => {});
    await new Promise<void>((resolve) => req.write(data, () => resolve()));
    await new Promise((r) => setTimeout(r, 300));
    req.destroy();
  }

  function tusUpload(
    id: string,
    data: Buffer,
    opts: { chunkSize?: number; mode?: "file" | "stage" } = {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const upload = new tus.Upload(Readable.from([data]), {
        endpoint: `${url}/v2/images/${id}/${opts.mode ?? "file"}`,
        uploadSize: data.length,
        chunkSize: opts.chunkSize ?? 4 * 1024 * 1024,
        headers: { "x-auth-token": token },
        retryDelays: [100, 500],
        storeFingerprintForResuming: false,
        onError: reject,
        onSuccess: () => resolve(),
      });
      upload.start();
    });
  }
});
