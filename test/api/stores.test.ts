import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { type InProcessHttp, osImage, startInProcessHttp } from "../helpers/in-process.js";
import { tempDir } from "../helpers/server.js";
import { type SwiftS3, startSwiftS3 } from "../helpers/swift.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image } from "../helpers/fixtures.js";

const sha512 = (data: Buffer) => createHash("sha512").update(data).digest("hex");

/** Random bytes as a raw image (the format does not matter to where it is kept). */
const data = (mib: number, seed: string) => {
  const out = Buffer.alloc(mib * 1024 * 1024);
  for (let i = 0; i < out.length; i += 64) createHash("sha512").update(`${seed}${i}`).digest().copy(out, i);
  return out;
};

async function upload(env: InProcessHttp, token: string, id: string, bytes: Buffer, headers = {}) {
  return env.app.inject({
    method: "PUT",
    url: `/v2/images/${id}/file`,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", ...headers },
    payload: bytes,
  });
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("several stores: Glance's multi-store API over two directories", () => {
  let env: InProcessHttp;
  let admin: string;
  let owner: string;
  const fastDir = tempDir("store-fast");

  before(async () => {
    env = await startInProcessHttp({ VITRINE_STORES: `fast=${fastDir}` });
    admin = await env.adminToken();
    owner = await env.token("owner", "stores-project");
  });
  after(() => env.close());

  const show = async (id: string) => (await env.call(owner, "GET", `/v2/images/${id}`)).json();

  test("locations are neither shown nor writable by default", async () => {
    const id = await osImage(env, owner, "no-locations");
    assert.equal((await env.call(owner, "GET", `/v2/images/${id}`)).json().locations, undefined);
    const add = await env.call(owner, "PATCH", `/v2/images/${id}`, [
      { op: "add", path: "/locations/-", value: { url: "http://127.0.0.1:1/x", metadata: {} } },
    ]);
    assert.equal(add.statusCode, 403, add.body);
  });

  test("the stores are listed (the default one marked, details for admins), copy-image offered", async () => {
    const stores = await env.call(owner, "GET", "/v2/info/stores");
    assert.deepEqual(stores.json(), { stores: [{ id: "fs", default: "true" }, { id: "fast" }] });
    const detail = await env.call(admin, "GET", "/v2/info/stores/detail");
    assert.deepEqual(
      detail.json().stores.map((s: { id: string; type: string }) => `${s.id}:${s.type}`),
      ["fs:file", "fast:file"],
    );
    const methods = await env.call(owner, "GET", "/v2/info/import");
    assert.ok(methods.json()["import-methods"].value.includes("copy-image"));
  });

  test("an upload goes to the store X-Image-Meta-Store names; an unknown store is refused and nothing is kept", async () => {
    const bytes = data(2, "named");
    const id = await osImage(env, owner, "named");
    const unknown = await upload(env, owner, id, bytes, { "x-image-meta-store": "nowhere" });
    assert.equal(unknown.statusCode, 400, unknown.body);
    assert.match(unknown.body, /nowhere/);
    assert.equal((await show(id)).status, "queued");
    const res = await upload(env, owner, id, bytes, { "x-image-meta-store": "fast" });
    assert.equal(res.statusCode, 204, res.body);
    const image = await show(id);
    assert.equal(image.stores, "fast");
    const files = fs.readdirSync(fastDir, { recursive: true }).filter((f) => !String(f).includes("pending"));
    assert.ok(files.length > 1, "the bytes are in the named store's directory");
    const download = await env.call(owner, "GET", `/v2/images/${id}/file`);
    assert.equal(sha512(download.rawPayload), sha512(bytes));
  });

  test("glance-direct into all stores: active in one, then copied to the others, each copy listed", async () => {
    const id = await osImage(env, owner, "everywhere");
    const stage = await env.app.inject({
      method: "PUT",
      url: `/v2/images/${id}/stage`,
      headers: { authorization: `Bearer ${owner}`, "content-type": "application/octet-stream" },
      payload: data(1, "everywhere"),
    });
    assert.equal(stage.statusCode, 204, stage.body);
    const bad = await env.call(owner, "POST", `/v2/images/${id}/import`, {
      method: { name: "glance-direct" },
      stores: ["fast"],
      all_stores: true,
    });
    assert.equal(bad.statusCode, 400, bad.body);
    const res = await env.call(owner, "POST", `/v2/images/${id}/import`, {
      method: { name: "glance-direct" },
      all_stores: true,
    });
    assert.equal(res.statusCode, 202, res.body);
    const image = await eventually(
      () => show(id),
      (i) => i.status === "active" && i.stores === "fast,fs" && i.os_glance_importing_to_stores === "",
      "imported to both stores",
    );
    assert.equal(image.os_glance_failed_import, "");
  });

  test("copy-image copies an active image's data to another store; asking again is a conflict; a store can be dropped but not the last", async () => {
    const bytes = data(3, "copied");
    const id = await osImage(env, owner, "copied");
    assert.equal((await upload(env, owner, id, bytes)).statusCode, 204);
    assert.equal((await show(id)).stores, "fs");
    const queued = await osImage(env, owner, "not-active");
    const notActive = await env.call(admin, "POST", `/v2/images/${queued}/import`, {
      method: { name: "copy-image" },
      stores: ["fast"],
    });
    assert.equal(notActive.statusCode, 409, notActive.body);
    const copy = await env.call(admin, "POST", `/v2/images/${id}/import`, {
      method: { name: "copy-image" },
      stores: ["fast"],
    });
    assert.equal(copy.statusCode, 202, copy.body);
    await eventually(
      () => show(id),
      (i) => i.stores === "fast,fs" && i.os_glance_importing_to_stores === "",
      "copied",
    );
    const again = await env.call(admin, "POST", `/v2/images/${id}/import`, {
      method: { name: "copy-image" },
      stores: ["fast"],
    });
    assert.equal(again.statusCode, 409, again.body);
    // Every store: none left to copy to, nothing to do.
    const all = await env.call(admin, "POST", `/v2/images/${id}/import`, {
      method: { name: "copy-image" },
      all_stores: true,
    });
    assert.equal(all.statusCode, 202, all.body);

    const locations = await env.call(admin, "GET", `/v2/images/${id}/locations`);
    assert.deepEqual(
      locations
        .json()
        .map((l: { metadata: { store: string } }) => l.metadata.store)
        .sort(),
      ["fast", "fs"],
    );
    // Dropped from the default store, it is served from the other.
    const drop = await env.call(owner, "DELETE", `/v2/stores/fs/${id}`);
    assert.equal(drop.statusCode, 204, drop.body);
    assert.equal((await show(id)).stores, "fast");
    const download = await env.call(owner, "GET", `/v2/images/${id}/file`);
    assert.equal(download.statusCode, 200);
    assert.equal(sha512(download.rawPayload), sha512(bytes));
    const notThere = await env.call(owner, "DELETE", `/v2/stores/fs/${id}`);
    assert.equal(notThere.statusCode, 404, notThere.body);
    const last = await env.call(owner, "DELETE", `/v2/stores/fast/${id}`);
    assert.equal(last.statusCode, 409, last.body);
    const stranger = await env.token("stranger", "elsewhere");
    const refused = await env.call(stranger, "POST", `/v2/images/${id}/import`, {
      method: { name: "copy-image" },
      stores: ["fs"],
    });
    assert.equal(refused.statusCode, 404, refused.body);
  });
});

describe("a remote (S3) store: the node cache, and a store that is down", () => {
  let swift: SwiftS3;
  let env: InProcessHttp;
  let admin: string;
  let owner: string;
  const cacheDir = tempDir("cache");

  before(async () => {
    swift = await startSwiftS3();
    process.env.AWS_ACCESS_KEY_ID = swift.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = swift.secretAccessKey;
    const s3 = new S3Client({ endpoint: swift.endpoint, region: swift.region, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: "remote" }));
    s3.destroy();
    env = await startInProcessHttp({
      VITRINE_STORES: "remote=s3://remote/images",
      VITRINE_DEFAULT_STORE: "remote",
      VITRINE_S3_ENDPOINT: swift.endpoint,
      VITRINE_S3_REGION: swift.region,
      // Room for two 3 MiB images, not three.
      VITRINE_CACHE_SIZE: String(7 * 1024 * 1024),
      VITRINE_CACHE_DIR: cacheDir,
    });
    admin = await env.adminToken();
    owner = await env.token("owner", "remote-project");
  });
  after(async () => {
    await env?.close();
    await swift?.stop();
  });

  const cached = async () =>
    (await env.call(admin, "GET", "/v2/cache")).json() as {
      cached_images: { image_id: string; size: number; hits: number }[];
      queued_images: string[];
    };

  test("downloads from S3 fill the cache, verified; the least recently used is evicted past the bound; /v2/cache manages it", async () => {
    const images: { id: string; bytes: Buffer }[] = [];
    for (const name of ["a", "b", "c"]) {
      const bytes = data(3, name);
      const id = await osImage(env, owner, name);
      assert.equal((await upload(env, owner, id, bytes)).statusCode, 204);
      images.push({ id, bytes });
    }
    assert.equal((await env.call(owner, "GET", `/v2/images/${images[0]!.id}`)).json().stores, "remote");
    const forbidden = await env.call(owner, "GET", "/v2/cache");
    assert.equal(forbidden.statusCode, 403);

    for (const { id, bytes } of images) {
      const res = await env.call(owner, "GET", `/v2/images/${id}/file`);
      assert.equal(sha512(res.rawPayload), sha512(bytes));
      await eventually(cached, (c) => c.cached_images.some((i) => i.image_id === id), `${id} cached`);
    }
    const now = await cached();
    assert.deepEqual(
      now.cached_images.map((i) => i.image_id).sort(),
      [images[1]!.id, images[2]!.id].sort(),
      "the first one read was evicted: two fit",
    );
    const files = fs.readdirSync(cacheDir).filter((f) => f !== ".partial");
    assert.equal(files.length, 2);
    assert.ok(files.reduce((sum, f) => sum + fs.statSync(path.join(cacheDir, f)).size, 0) <= 7 * 1024 * 1024);

    // Queued for pre-fetch: read from S3 into the cache without a download.
    const queue = await env.call(admin, "PUT", `/v2/cache/${images[0]!.id}`);
    assert.equal(queue.statusCode, 202, queue.body);
    await eventually(cached, (c) => c.cached_images.some((i) => i.image_id === images[0]!.id), "pre-fetched");
    const queuedImage = await osImage(env, owner, "no-data");
    assert.equal((await env.call(admin, "PUT", `/v2/cache/${queuedImage}`)).statusCode, 400);
    assert.equal(
      (await env.call(admin, "PUT", `/v2/cache/4d8e1c28-0000-4000-8000-000000000000`)).statusCode,
      404,
    );

    assert.equal((await env.call(admin, "DELETE", `/v2/cache/${images[0]!.id}`)).statusCode, 204);
    assert.ok(!(await cached()).cached_images.some((i) => i.image_id === images[0]!.id));
    const invalid = await env.call(admin, "DELETE", "/v2/cache", undefined, {
      "x-image-cache-clear-target": "x",
    });
    assert.equal(invalid.statusCode, 400);
    assert.equal((await env.call(admin, "DELETE", "/v2/cache")).statusCode, 204);
    assert.deepEqual(await cached(), { cached_images: [], queued_images: [] });
  });

  test("a pooled image (Yandex) is pre-fetched into the node's cache", async () => {
    const id = await osImage(env, owner, "pooled-source");
    assert.equal((await upload(env, owner, id, data(1, "pooled"))).statusCode, 204);
    const listed = await env.call(owner, "GET", "/compute/v1/images?folderId=remote-project&pageSize=100");
    const source = listed.json().images.find((i: { name: string }) => i.name === "pooled-source");
    const create = await env.call(owner, "POST", "/compute/v1/images", {
      folderId: "remote-project",
      name: "pooled",
      imageId: source.id,
      pooled: true,
    });
    assert.equal(create.statusCode, 200, create.body);
    const done = await env.done(owner, create.json());
    assert.equal(done.response.pooled, true);
    assert.ok(!(await cached()).cached_images.some((i) => i.image_id === id));
    const queued = await env.core.imageData.cache.prefetchPooled();
    assert.equal(queued.length, 1);
    await eventually(
      cached,
      (c) => c.cached_images.some((i) => i.image_id === id),
      "the pooled image's data cached",
    );
    assert.deepEqual(await env.core.imageData.cache.prefetchPooled(), [], "held already: nothing more to do");
  });

  test("with S3 down, a cached image and one copied to the directory store are still served; the rest answer 503", async () => {
    const copied = data(1, "copied-away");
    const both = await osImage(env, owner, "both");
    assert.equal((await upload(env, owner, both, copied)).statusCode, 204);
    const copy = await env.call(admin, "POST", `/v2/images/${both}/import`, {
      method: { name: "copy-image" },
      stores: ["fs"],
    });
    assert.equal(copy.statusCode, 202, copy.body);
    await eventually(
      async () => (await env.call(owner, "GET", `/v2/images/${both}`)).json(),
      (i) => i.stores === "fs,remote",
      "copied to fs",
    );
    const warm = data(1, "warm");
    const inCache = await osImage(env, owner, "warm");
    assert.equal((await upload(env, owner, inCache, warm)).statusCode, 204);
    await env.call(owner, "GET", `/v2/images/${inCache}/file`);
    await eventually(cached, (c) => c.cached_images.some((i) => i.image_id === inCache), "warm cached");
    const only = await osImage(env, owner, "only-remote");
    assert.equal((await upload(env, owner, only, data(1, "only"))).statusCode, 204);
    await env.call(admin, "DELETE", `/v2/cache/${only}`);

    await swift.stop();
    const fromFs = await env.call(owner, "GET", `/v2/images/${both}/file`);
    assert.equal(fromFs.statusCode, 200);
    assert.equal(sha512(fromFs.rawPayload), sha512(copied));
    const fromCache = await env.call(owner, "GET", `/v2/images/${inCache}/file`);
    assert.equal(sha512(fromCache.rawPayload), sha512(warm));
    const down = await env.call(owner, "GET", `/v2/images/${only}/file`);
    assert.equal(down.statusCode, 503, down.body);
    assert.doesNotMatch(down.body, /at .*\.ts|stack/i);
  });
});

describe("writable locations (VITRINE_SHOW_LOCATIONS): each one read and verified, never trusted", () => {
  let env: InProcessHttp;
  let owner: string;
  let files: FileServer;
  let url: string;
  let other: string;

  before(async () => {
    env = await startInProcessHttp({ VITRINE_SHOW_LOCATIONS: "true" });
    owner = await env.token("owner", "locations-project");
    files = await startFileServer();
    url = files.serve("disk.qcow2", image("qcow2", 8).path);
    other = files.serve("other.qcow2", image("qcow2", 16).path);
  });
  after(async () => {
    await env.close();
    await files.close();
  });

  const show = async (id: string) => (await env.call(owner, "GET", `/v2/images/${id}`)).json();
  const patch = (id: string, ops: unknown[]) => env.call(owner, "PATCH", `/v2/images/${id}`, ops);
  const qcow2Image = async (name: string) => {
    const res = await env.call(owner, "POST", "/v2/images", {
      name,
      disk_format: "qcow2",
      container_format: "bare",
    });
    return res.json().id as string;
  };

  test("a location brings a queued image's data in; more locations of the same data; metadata can change; the last one stays", async () => {
    const id = await qcow2Image("located");
    assert.deepEqual((await show(id)).locations, []);
    const added = await patch(id, [
      { op: "add", path: "/locations/-", value: { url, metadata: { foo: "bar" } } },
    ]);
    assert.equal(added.statusCode, 200, added.body);
    let img = await show(id);
    assert.equal(img.status, "active");
    assert.deepEqual(img.locations, [{ url, metadata: { foo: "bar" } }]);
    const fixture = fs.readFileSync(image("qcow2", 8).path);
    assert.equal(img.os_hash_value, sha512(fixture), "the data was read and hashed");
    const served = await env.call(owner, "GET", `/v2/images/${id}/file`);
    assert.equal(sha512(served.rawPayload), sha512(fixture));

    const second = await patch(id, [
      { op: "add", path: "/locations/-", value: { url: `${url}#new`, metadata: { speed: "88mph" } } },
    ]);
    assert.equal(second.statusCode, 200, second.body);
    const different = await patch(id, [
      { op: "add", path: "/locations/-", value: { url: other, metadata: {} } },
    ]);
    assert.equal(different.statusCode, 400, "another image's data is not a location of this one");
    img = await show(id);
    assert.equal(img.locations.length, 2);

    const locs = img.locations;
    assert.equal((await patch(id, [{ op: "replace", path: "/locations", value: locs }])).statusCode, 200);
    locs[0].metadata.date = "2015-10-15";
    assert.equal((await patch(id, [{ op: "replace", path: "/locations", value: locs }])).statusCode, 200);
    const fewer = await patch(id, [{ op: "replace", path: "/locations", value: [locs[0]] }]);
    assert.equal(fewer.statusCode, 400);
    const moved = await patch(id, [
      { op: "replace", path: "/locations", value: [locs[0], { url: `${url}#new3`, metadata: {} }] },
    ]);
    assert.equal(moved.statusCode, 400);
    assert.deepEqual((await show(id)).locations, locs);

    assert.equal((await patch(id, [{ op: "remove", path: "/locations/0" }])).statusCode, 200);
    assert.deepEqual(
      (await show(id)).locations.map((l: { url: string }) => l.url),
      [`${url}#new`],
    );
    assert.equal((await patch(id, [{ op: "remove", path: "/locations/0" }])).statusCode, 403);
  });

  test("a location's validation data is checked against what was read; a refused scheme is a 400", async () => {
    const id = await qcow2Image("validated");
    const wrong = await patch(id, [
      {
        op: "add",
        path: "/locations/-",
        value: {
          url,
          metadata: {},
          validation_data: {
            checksum: "1".repeat(32),
            os_hash_algo: "sha512",
            os_hash_value: "deadbeef".repeat(16),
          },
        },
      },
    ]);
    assert.equal(wrong.statusCode, 400, wrong.body);
    const after = await show(id);
    assert.equal(after.status, "queued", "nothing kept of data that is not what it claims");
    assert.deepEqual(after.locations, []);
    const fixture = fs.readFileSync(image("qcow2", 8).path);
    const right = await patch(id, [
      {
        op: "add",
        path: "/locations/-",
        value: {
          url,
          metadata: {},
          validation_data: { os_hash_algo: "sha512", os_hash_value: sha512(fixture) },
        },
      },
    ]);
    assert.equal(right.statusCode, 200, right.body);
    assert.equal((await show(id)).status, "active");
    const gopher = await patch(await qcow2Image("gopher"), [
      { op: "add", path: "/locations/-", value: { url: "gopher://info.cern.ch", metadata: {} } },
    ]);
    assert.equal(gopher.statusCode, 400, gopher.body);
  });
});
