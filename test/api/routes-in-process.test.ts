import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { type InProcessHttp, startInProcessHttp } from "../helpers/in-process.js";

/**
 * The HTTP edge in process (`buildHttpApp(...).inject()`): each dialect's shapes, statuses and
 * wording for the core's typed errors, without a spawned server.
 */
describe("routes in process", () => {
  let env: InProcessHttp;
  let app: FastifyInstance;
  let token: string;

  before(async () => {
    env = await startInProcessHttp();
    app = env.app;
    token = await env.token("alice", "p1");
  });
  after(async () => {
    await env.close();
  });

  const call = (
    method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE",
    url: string,
    body?: unknown,
    headers = {},
  ) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, accept: "application/json", ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    });

  it("is ready when both stores answer", async () => {
    const res = await app.inject({ method: "GET", url: "/readyz" });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: "ready" });
  });

  it("words the same missing image in each dialect's own way", async () => {
    const os = await call("GET", "/v2/images/3f1b0a23-1d97-4efb-b1e3-cde20e85b155");
    assert.equal(os.statusCode, 404);
    assert.deepEqual(os.json(), {
      message: "No image found with ID 3f1b0a23-1d97-4efb-b1e3-cde20e85b155",
      code: "404 Not Found",
      title: "Not Found",
    });
    const compute = await call("GET", "/compute/v1/images/abcdefghijklmnopqrst");
    assert.equal(compute.statusCode, 404);
    assert.equal(compute.json().code, 5);
    assert.equal(compute.json().message, "Image abcdefghijklmnopqrst not found");
  });

  it("refuses what a Glance client may not do, in Glance's words and statuses", async () => {
    const created = await call("POST", "/v2/images", {
      name: "x",
      disk_format: "qcow2",
      container_format: "bare",
      visibility: "private",
    });
    assert.equal(created.statusCode, 201);
    const id = created.json().id as string;
    const publicize = await call(
      "PATCH",
      `/v2/images/${id}`,
      [{ op: "replace", path: "/visibility", value: "public" }],
      {
        "content-type": "application/openstack-images-v2.1-json-patch",
      },
    );
    assert.equal(publicize.statusCode, 403);
    assert.equal(publicize.json().message, "You are not authorized to complete publicize_image action.");
    const members = await call("POST", `/v2/images/${id}/members`, { member: 7 });
    assert.equal(members.statusCode, 400);
    assert.match(members.json().message, /Member to be added not specified/);
    const notShared = await call("POST", `/v2/images/${id}/members`, { member: "p2" });
    assert.equal(notShared.statusCode, 403);
    assert.equal(notShared.json().message, `Not allowed to create members for image ${id}.`);
    const noStage = await call("POST", `/v2/images/${id}/import`, { method: { name: "glance-direct" } });
    assert.equal(noStage.statusCode, 409);
    const badImport = await call("POST", `/v2/images/${id}/import`, { method: "web-download" });
    assert.equal(badImport.statusCode, 400);
    assert.match(badImport.json().message, /Import method not specified/);
    const dup = await call("POST", "/v2/images", { id, name: "again" });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().message, `Image ID ${id} already exists!`);
  });

  it("tags and patches are read-modify-write: each lands once, in order", async () => {
    const created = await call("POST", "/v2/images", { name: "tags" });
    const id = created.json().id as string;
    await Promise.all(["a", "b", "c", "d"].map((t) => call("PUT", `/v2/images/${id}/tags/${t}`)));
    const shown = await call("GET", `/v2/images/${id}`);
    assert.deepEqual([...shown.json().tags].sort(), ["a", "b", "c", "d"]);
    const gone = await call("DELETE", `/v2/images/${id}/tags/zz`);
    assert.equal(gone.statusCode, 404);
  });
});
