import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createReadyImage } from "../helpers/compute.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image } from "../helpers/fixtures.js";
import { PATCH_TYPE, createOsImage, osRequest, projectToken } from "../helpers/openstack.js";
import { type RunningServer, startServer } from "../helpers/server.js";

describe("OpenStack Image API v2: projects, visibility, members, one catalog", () => {
  let server: RunningServer;
  let files: FileServer;
  let a: string;
  let b: string;
  let viewerA: string;
  before(async () => {
    files = await startFileServer();
    server = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    a = projectToken(server, "project-a");
    b = projectToken(server, "project-b");
    viewerA = projectToken(server, "project-a", "viewer");
  });
  after(async () => {
    await server.stop();
    await files.close();
  });

  const ids = (res: { body: any }) => res.body.images.map((i: any) => i.id);

  test("a project's images are its own: others get 404 and never see them in lists", async () => {
    const priv = await createOsImage(server, { name: "private-a" }, a);
    assert.equal(priv.owner, "project-a");
    assert.equal((await osRequest(server, "GET", `/v2/images/${priv.id}`, undefined, {}, b)).status, 404);
    assert.ok(!ids(await osRequest(server, "GET", "/v2/images", undefined, {}, b)).includes(priv.id));
    assert.ok(ids(await osRequest(server, "GET", "/v2/images", undefined, {}, a)).includes(priv.id));
    const patch = await osRequest(
      server,
      "PATCH",
      `/v2/images/${priv.id}`,
      [{ op: "replace", path: "/name", value: "x" }],
      PATCH_TYPE,
      b,
    );
    assert.equal(patch.status, 404);
    assert.equal((await osRequest(server, "DELETE", `/v2/images/${priv.id}`, undefined, {}, b)).status, 404);
  });

  test("a non-admin creates private images in its own project and makes them shared or community; only admins publicize", async () => {
    const pub = await osRequest(server, "POST", "/v2/images", { name: "pub", visibility: "public" }, {}, a);
    assert.equal(pub.status, 400, "the ims profile creates private images only");
    for (const visibility of ["shared", "community"]) {
      const made = await createOsImage(server, { name: visibility }, a);
      assert.equal(made.visibility, "private");
      const changed = await osRequest(
        server,
        "PATCH",
        `/v2/images/${made.id}`,
        [{ op: "replace", path: "/visibility", value: visibility }],
        PATCH_TYPE,
        a,
      );
      assert.equal(changed.status, 200, changed.text);
      assert.equal(changed.body.visibility, visibility);
    }
    const made = await createOsImage(server, { name: "to-publicize" }, a);
    const publicize = await osRequest(
      server,
      "PATCH",
      `/v2/images/${made.id}`,
      [{ op: "replace", path: "/visibility", value: "public" }],
      PATCH_TYPE,
      a,
    );
    assert.equal(publicize.status, 403);
    assert.match(publicize.body.message, /publicize_image/);
    const other = await osRequest(server, "POST", "/v2/images", { name: "o", owner: "project-b" }, {}, a);
    assert.equal(other.status, 403);
    assert.match(other.body.message, /not permitted to create images owned by 'project-b'/);
    const viewer = await osRequest(server, "POST", "/v2/images", { name: "v" }, {}, viewerA);
    assert.equal(viewer.status, 403, "a viewer cannot create");

    const img = await createOsImage(server, { name: "to-publish" }, a);
    const byMember = await osRequest(
      server,
      "PATCH",
      `/v2/images/${img.id}`,
      [{ op: "replace", path: "/visibility", value: "public" }],
      PATCH_TYPE,
      a,
    );
    assert.equal(byMember.status, 403);
    const byAdmin = await osRequest(
      server,
      "PATCH",
      `/v2/images/${img.id}`,
      [{ op: "replace", path: "/visibility", value: "public" }],
      PATCH_TYPE,
    );
    assert.equal(byAdmin.status, 200);
    assert.equal(byAdmin.body.__imagetype, "gold");
    assert.equal(
      (await osRequest(server, "GET", `/v2/images/${img.id}`, undefined, {}, b)).status,
      200,
      "public: all see it",
    );
    assert.ok(ids(await osRequest(server, "GET", "/v2/images", undefined, {}, b)).includes(img.id));
    const write = await osRequest(
      server,
      "PATCH",
      `/v2/images/${img.id}`,
      [{ op: "replace", path: "/name", value: "x" }],
      PATCH_TYPE,
      b,
    );
    assert.equal(write.status, 403);
    assert.equal(write.body.message, "You do not own this image");
    assert.equal((await osRequest(server, "DELETE", `/v2/images/${img.id}`, undefined, {}, b)).status, 403);
    const viewerWrite = await osRequest(
      server,
      "PATCH",
      `/v2/images/${img.id}`,
      [{ op: "add", path: "/k", value: "v" }],
      PATCH_TYPE,
      viewerA,
    );
    assert.equal(viewerWrite.status, 403, "a viewer cannot change its own project's images");
  });

  test("community images are visible to all but listed only when asked for", async () => {
    const img = await createOsImage(server, { name: "comm" }, a);
    const r = await osRequest(
      server,
      "PATCH",
      `/v2/images/${img.id}`,
      [{ op: "replace", path: "/visibility", value: "community" }],
      PATCH_TYPE,
      a,
    );
    assert.equal(r.status, 200, r.text);
    assert.equal((await osRequest(server, "GET", `/v2/images/${img.id}`, undefined, {}, b)).status, 200);
    assert.ok(!ids(await osRequest(server, "GET", "/v2/images", undefined, {}, b)).includes(img.id));
    assert.ok(
      ids(await osRequest(server, "GET", "/v2/images?visibility=community", undefined, {}, b)).includes(
        img.id,
      ),
    );
  });

  test("members: share with a project, it accepts, then lists it; only shared images take members", async () => {
    const img = await createOsImage(server, { name: "to-share", visibility: "private" }, a);
    const onPrivate = await osRequest(
      server,
      "POST",
      `/v2/images/${img.id}/members`,
      { member: "project-b" },
      {},
      a,
    );
    assert.equal(onPrivate.status, 403);
    assert.match(onPrivate.body.message, /Not allowed to create members/);
    await osRequest(
      server,
      "PATCH",
      `/v2/images/${img.id}`,
      [{ op: "replace", path: "/visibility", value: "shared" }],
      PATCH_TYPE,
      a,
    );
    assert.equal(
      (await osRequest(server, "GET", `/v2/images/${img.id}`, undefined, {}, b)).status,
      404,
      "not a member yet",
    );

    const add = await osRequest(
      server,
      "POST",
      `/v2/images/${img.id}/members`,
      { member: "project-b" },
      {},
      a,
    );
    assert.equal(add.status, 200, add.text);
    assert.equal(add.body.member_id, "project-b");
    assert.equal(add.body.image_id, img.id);
    assert.equal(add.body.status, "pending");
    assert.equal(add.body.schema, "/v2/schemas/member");
    const dup = await osRequest(
      server,
      "POST",
      `/v2/images/${img.id}/members`,
      { member: "project-b" },
      {},
      a,
    );
    assert.equal(dup.status, 409);
    assert.equal((await osRequest(server, "POST", `/v2/images/${img.id}/members`, {}, {}, a)).status, 400);

    assert.equal(
      (await osRequest(server, "GET", `/v2/images/${img.id}`, undefined, {}, b)).status,
      200,
      "pending: direct get works",
    );
    assert.ok(
      !ids(await osRequest(server, "GET", "/v2/images", undefined, {}, b)).includes(img.id),
      "pending: not listed",
    );
    assert.ok(
      ids(await osRequest(server, "GET", "/v2/images?member_status=pending", undefined, {}, b)).includes(
        img.id,
      ),
    );

    const byOwner = await osRequest(
      server,
      "PUT",
      `/v2/images/${img.id}/members/project-b`,
      { status: "accepted" },
      {},
      a,
    );
    assert.equal(byOwner.status, 403, "the owner cannot accept for the member");
    const bad = await osRequest(
      server,
      "PUT",
      `/v2/images/${img.id}/members/project-b`,
      { status: "maybe" },
      {},
      b,
    );
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /Status must be "pending", "accepted" or "rejected"/);
    const accept = await osRequest(
      server,
      "PUT",
      `/v2/images/${img.id}/members/project-b`,
      { status: "accepted" },
      {},
      b,
    );
    assert.equal(accept.status, 200);
    assert.equal(accept.body.status, "accepted");
    assert.ok(
      ids(await osRequest(server, "GET", "/v2/images", undefined, {}, b)).includes(img.id),
      "accepted: listed",
    );

    const listAsOwner = await osRequest(server, "GET", `/v2/images/${img.id}/members`, undefined, {}, a);
    assert.deepEqual(
      listAsOwner.body.members.map((m: any) => [m.member_id, m.status]),
      [["project-b", "accepted"]],
    );
    assert.equal(listAsOwner.body.schema, "/v2/schemas/members");
    const asMember = await osRequest(
      server,
      "GET",
      `/v2/images/${img.id}/members/project-b`,
      undefined,
      {},
      b,
    );
    assert.equal(asMember.status, 200);
    const patchAsB = await osRequest(
      server,
      "PATCH",
      `/v2/images/${img.id}`,
      [{ op: "replace", path: "/name", value: "x" }],
      PATCH_TYPE,
      b,
    );
    assert.equal(patchAsB.status, 403);

    assert.equal(
      (await osRequest(server, "DELETE", `/v2/images/${img.id}/members/project-b`, undefined, {}, b)).status,
      403,
    );
    assert.equal(
      (await osRequest(server, "DELETE", `/v2/images/${img.id}/members/project-b`, undefined, {}, a)).status,
      204,
    );
    const gone = await osRequest(server, "GET", `/v2/images/${img.id}/members/project-b`, undefined, {}, a);
    assert.equal(gone.status, 404);
    assert.match(gone.body.message, /project-b not found in the member list/);
    assert.equal((await osRequest(server, "GET", `/v2/images/${img.id}`, undefined, {}, b)).status, 404);
  });

  test("one catalog: OpenStack images appear in the Compute API of their project and Compute images here", async () => {
    const os = await createOsImage(server, { name: "from-openstack", disk_format: "qcow2" }, a);
    const compute = await server.request("GET", `/compute/v1/images?folderId=project-a`);
    const seen = compute.body.images.find((i: any) => i.name === "from-openstack");
    // Waiting for data that nothing is bringing is no Compute status: STATUS_UNSPECIFIED, the
    // enum's default, which proto3 JSON leaves out.
    assert.equal(seen.status, undefined);

    const fixture = image("qcow2", 8);
    const uri = files.serve("catalog.qcow2", fixture.path);
    const made = await createReadyImage(server, { folderId: "project-a", name: "from-compute", uri });
    const list = await osRequest(server, "GET", "/v2/images?name=from-compute", undefined, {}, a);
    const mine = list.body.images[0];
    assert.equal(mine.owner, "project-a");
    assert.equal(mine.status, "active");
    assert.equal(mine.disk_format, "qcow2");
    assert.equal(mine.size, fixture.size);
    assert.equal(mine.virtual_size, fixture.virtualSize);
    assert.equal(mine.checksum, fixture.md5);
    assert.equal(mine.os_hash_value, fixture.sha512);
    assert.equal(mine.virtual_env_type, "FusionCompute");
    const dl = await fetch(`${server.url}/v2/images/${mine.id}/file`, { headers: { "x-auth-token": a } });
    assert.equal(dl.status, 200);
    assert.equal(Buffer.from(await dl.arrayBuffer()).length, fixture.size);
    assert.equal(made.id.length, 20);
    void os;
  });
});
