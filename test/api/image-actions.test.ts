import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type InProcessHttp, startInProcessHttp } from "../helpers/in-process.js";

/**
 * `GET /v2/images/{id}/actions` (Vitrine's extension): what the caller may do to an image and why
 * not, decided by the rules the other routes apply — each answer checked against the route that
 * would be refused or accepted.
 */
describe("what a caller may do to an image", () => {
  let env: InProcessHttp;
  let owner: string;
  let viewer: string;
  let admin: string;
  let uuid: string;

  before(async () => {
    env = await startInProcessHttp();
    owner = await env.token("olga", "pa", "editor");
    viewer = await env.token("victor", "pa", "viewer");
    admin = await env.adminToken();
    const created = await env.call(owner, "POST", "/v2/images", {
      name: "actions",
      disk_format: "raw",
      container_format: "bare",
    });
    assert.equal(created.statusCode, 201, created.body);
    uuid = created.json().id;
    const put = await env.call(owner, "PUT", `/v2/images/${uuid}/file`, Buffer.alloc(1 << 20), {
      "content-type": "application/octet-stream",
    });
    assert.equal(put.statusCode, 204, put.body);
  });
  after(async () => {
    await env.close();
  });

  const actionsOf = async (token: string) => {
    const res = await env.call(token, "GET", `/v2/images/${uuid}/actions`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json().actions as Record<string, { allowed: boolean; reason?: string }>;
  };

  it("the owning folder's editor may change, delete, share with projects and download", async () => {
    const may = await actionsOf(owner);
    for (const action of ["update", "delete", "addMembers", "deactivate", "download", "use"]) {
      assert.equal(may[action]!.allowed, true, action);
    }
    assert.deepEqual(may.reactivate, {
      allowed: false,
      reason: "only the owners reactivate a deactivated image",
    });
    assert.equal(may.share!.allowed, false, "granting roles needs the admin role");
  });

  it("a viewer may read and download only, and the routes agree", async () => {
    const may = await actionsOf(viewer);
    assert.deepEqual(may.update, {
      allowed: false,
      reason: "needs the editor role on the image or its folder",
    });
    assert.equal(may.delete!.allowed, false);
    assert.equal(may.addMembers!.allowed, false);
    assert.equal(may.download!.allowed, true);
    const patch = await env.call(
      viewer,
      "PATCH",
      `/v2/images/${uuid}`,
      [{ op: "replace", path: "/name", value: "x" }],
      { "content-type": "application/openstack-images-v2.1-json-patch" },
    );
    assert.equal(patch.statusCode, 403);
    assert.equal((await env.call(viewer, "DELETE", `/v2/images/${uuid}`)).statusCode, 403);
  });

  it("a protected image cannot be deleted by anyone, and says so", async () => {
    const patch = await env.call(
      admin,
      "PATCH",
      `/v2/images/${uuid}`,
      [{ op: "replace", path: "/protected", value: true }],
      { "content-type": "application/openstack-images-v2.1-json-patch" },
    );
    assert.equal(patch.statusCode, 200, patch.body);
    assert.deepEqual((await actionsOf(owner)).delete, { allowed: false, reason: "the image is protected" });
    assert.equal((await env.call(owner, "DELETE", `/v2/images/${uuid}`)).statusCode, 403);
    await env.call(
      admin,
      "PATCH",
      `/v2/images/${uuid}`,
      [{ op: "replace", path: "/protected", value: false }],
      {
        "content-type": "application/openstack-images-v2.1-json-patch",
      },
    );
  });

  it("a deactivated image's data is the admin's; the owner may reactivate it", async () => {
    assert.equal((await env.call(owner, "POST", `/v2/images/${uuid}/actions/deactivate`)).statusCode, 204);
    const may = await actionsOf(owner);
    assert.deepEqual(may.download, { allowed: false, reason: "the image is deactivated" });
    assert.equal(may.reactivate!.allowed, true);
    assert.equal((await actionsOf(admin)).download!.allowed, true);
    assert.equal((await env.call(owner, "GET", `/v2/images/${uuid}/file`)).statusCode, 403);
  });

  it("an image the caller cannot see does not exist for it here either", async () => {
    const stranger = await env.token("sam", "elsewhere", "editor");
    const res = await env.call(stranger, "GET", `/v2/images/${uuid}/actions`);
    assert.equal(res.statusCode, 404);
  });
});
