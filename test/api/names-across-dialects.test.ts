import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { image } from "../helpers/fixtures.js";
import { type InProcessHttp, startInProcessHttp } from "../helpers/in-process.js";

/** Waits for a Yandex-style operation through the API and returns it. */
async function settled(env: InProcessHttp, token: string, id: string): Promise<any> {
  for (let i = 0; i < 500; i++) {
    const op = (await env.call(token, "GET", `/operations/${id}`)).json();
    if (op.done) return op;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`operation ${id} did not finish`);
}

/** An OpenStack image with data, and its Compute id. */
async function uploaded(
  env: InProcessHttp,
  token: string,
  name: string,
): Promise<{ uuid: string; id: string }> {
  const made = await env.call(token, "POST", "/v2/images", {
    name,
    disk_format: "qcow2",
    container_format: "bare",
  });
  assert.equal(made.statusCode, 201, made.body);
  const put = await env.call(
    token,
    "PUT",
    `/v2/images/${made.json().id}/file`,
    fs.readFileSync(image("qcow2", 8).path),
    {
      "content-type": "application/octet-stream",
    },
  );
  assert.equal(put.statusCode, 204, put.body);
  const compute = await env.call(token, "GET", `/compute/v1/images/${made.json().id}`);
  return { uuid: made.json().id, id: compute.json().id };
}

describe("names across dialects, ims profile: one name, one image in a folder", () => {
  let env: InProcessHttp;
  let token: string;
  before(async () => {
    env = await startInProcessHttp();
    token = await env.token("alice", "names");
  });
  after(() => env.close());

  it("a name taken in one dialect is refused in the other, each in its own words; the Compute list shows one", async () => {
    const source = await uploaded(env, token, "from-openstack");
    const created = await env.call(token, "POST", "/compute/v1/images", {
      folderId: "names",
      name: "from-compute",
      imageId: source.id,
    });
    assert.equal(created.statusCode, 200, created.body);
    assert.ok((await settled(env, token, created.json().id)).response);

    const osDup = await env.call(token, "POST", "/v2/images", { name: "from-compute" });
    assert.equal(osDup.statusCode, 409, osDup.body);
    assert.equal(osDup.json().code, "409 Conflict");
    assert.match(osDup.json().message, /from-compute already exists in folder names/);

    const computeDup = await env.call(token, "POST", "/compute/v1/images", {
      folderId: "names",
      name: "from-openstack",
      imageId: source.id,
    });
    assert.equal(computeDup.statusCode, 409, computeDup.body);
    assert.equal(computeDup.json().code, 6, "ALREADY_EXISTS");

    const other = await env.call(token, "POST", "/v2/images", { name: "other" });
    const rename = await env.call(token, "PATCH", `/v2/images/${other.json().id}`, [
      { op: "replace", path: "/name", value: "from-openstack" },
    ]);
    assert.equal(rename.statusCode, 409, rename.body);
    const computeRename = await env.call(token, "PATCH", `/compute/v1/images/${source.id}`, {
      updateMask: "name",
      name: "from-compute",
    });
    assert.equal(computeRename.statusCode, 409, computeRename.body);

    for (const name of ["from-compute", "from-openstack"]) {
      const listed = await env.call(token, "GET", `/compute/v1/images?folderId=names&filter=name="${name}"`);
      assert.equal(listed.json().images.length, 1, name);
    }
    // Nameless Glance images are not names: any number of them.
    for (let i = 0; i < 2; i++)
      assert.equal((await env.call(token, "POST", "/v2/images", {})).statusCode, 201);
  });
});

describe("names across dialects, glance profile: Glance's free names", () => {
  let env: InProcessHttp;
  let token: string;
  before(async () => {
    env = await startInProcessHttp({ VITRINE_OPENSTACK_PROFILE: "glance" });
    token = await env.token("alice", "names");
  });
  after(() => env.close());

  it("the OpenStack dialect allows a repeated name; the Compute create still refuses one", async () => {
    const source = await uploaded(env, token, "dup");
    assert.equal((await env.call(token, "POST", "/v2/images", { name: "dup" })).statusCode, 201);
    const listed = await env.call(token, "GET", `/compute/v1/images?folderId=names&filter=name="dup"`);
    assert.equal(listed.json().images.length, 2);
    const computeDup = await env.call(token, "POST", "/compute/v1/images", {
      folderId: "names",
      name: "dup",
      imageId: source.id,
    });
    assert.equal(computeDup.statusCode, 409);
  });
});
