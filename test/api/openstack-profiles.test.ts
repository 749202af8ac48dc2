import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type InProcessHttp, startInProcessHttp } from "../helpers/in-process.js";

/**
 * The OpenStack profiles: `ims` (the default, the seed's public-cloud IMS) and `glance`. What they
 * share: `__imagetype` speaks from the caller's side whichever profile is on.
 */
describe("OpenStack profile ims (the default)", () => {
  let env: InProcessHttp;
  let owner: string;
  let other: string;
  let admin: string;
  before(async () => {
    env = await startInProcessHttp();
    owner = await env.token("owner", "p1");
    other = await env.token("other", "p2");
    admin = await env.adminToken();
  });
  after(() => env.close());

  it("creates private images by default, and only private ones", async () => {
    const made = await env.call(owner, "POST", "/v2/images", { name: "mine" });
    assert.equal(made.statusCode, 201, made.body);
    assert.equal(made.json().visibility, "private");
    assert.equal(made.json().__imagetype, "private");
    for (const visibility of ["shared", "community", "public"]) {
      for (const who of [owner, admin]) {
        const refused = await env.call(who, "POST", "/v2/images", { name: "x", visibility });
        assert.equal(refused.statusCode, 400, `${visibility}: ${refused.body}`);
        assert.equal(refused.json().code, "400 Bad Request");
        assert.match(refused.json().message, /created private/);
      }
    }
    const explicit = await env.call(owner, "POST", "/v2/images", { name: "p", visibility: "private" });
    assert.equal(explicit.statusCode, 201);
  });

  it("__imagetype: private to its owner, shared to a member, gold once public; never settable", async () => {
    const id = (await env.call(owner, "POST", "/v2/images", { name: "to-share" })).json().id as string;
    const share = await env.call(owner, "PATCH", `/v2/images/${id}`, [
      { op: "replace", path: "/visibility", value: "shared" },
    ]);
    assert.equal(share.statusCode, 200, share.body);
    assert.equal(share.json().__imagetype, "private", "still the owner's own image");
    assert.equal(
      (await env.call(owner, "POST", `/v2/images/${id}/members`, { member: "p2" })).statusCode,
      200,
    );
    const seen = await env.call(other, "GET", `/v2/images/${id}`);
    assert.equal(seen.statusCode, 200);
    assert.equal(seen.json().__imagetype, "shared");
    const listed = await env.call(other, "GET", "/v2/images?member_status=pending");
    assert.equal(listed.json().images.find((i: any) => i.id === id)?.__imagetype, "shared");
    assert.equal((await env.call(owner, "GET", `/v2/images/${id}`)).json().__imagetype, "private");
    const publicize = await env.call(admin, "PATCH", `/v2/images/${id}`, [
      { op: "replace", path: "/visibility", value: "public" },
    ]);
    assert.equal(publicize.statusCode, 200, publicize.body);
    for (const who of [owner, other, admin])
      assert.equal((await env.call(who, "GET", `/v2/images/${id}`)).json().__imagetype, "gold");
    const set = await env.call(owner, "POST", "/v2/images", { name: "y", __imagetype: "gold" });
    assert.equal(set.statusCode, 403);
    assert.equal(set.json().message, "Attribute '__imagetype' is read-only.");
  });
});

describe("the extension fields behave one way", () => {
  let env: InProcessHttp;
  let owner: string;
  before(async () => {
    env = await startInProcessHttp();
    owner = await env.token("owner", "p1");
  });
  after(() => env.close());

  it("removing any of them is a no-op; a computed one may be sent back unchanged, not changed", async () => {
    const made = await env.call(owner, "POST", "/v2/images", {
      name: "ext",
      __os_version: "Windows Server 2019 Datacenter 64bit",
      virtual_env_type: "DataImage",
    });
    const before = made.json();
    const fields = [
      "__os_version",
      "__os_type",
      "__platform",
      "__os_bit",
      "__imagetype",
      "virtual_env_type",
      "__isregistered",
      "__image_source_type",
      "__image_size",
    ];
    for (const field of fields) {
      const removed = await env.call(owner, "PATCH", `/v2/images/${before.id}`, [
        { op: "remove", path: `/${field}` },
      ]);
      assert.equal(removed.statusCode, 200, `${field}: ${removed.body}`);
      assert.equal(removed.json()[field], before[field], field);
    }
    const same = await env.call(owner, "PATCH", `/v2/images/${before.id}`, [
      { op: "replace", path: "/__image_size", value: before.__image_size },
      { op: "replace", path: "/__imagetype", value: "private" },
    ]);
    assert.equal(same.statusCode, 200, same.body);
    const changed = await env.call(owner, "PATCH", `/v2/images/${before.id}`, [
      { op: "replace", path: "/__image_size", value: "12345" },
    ]);
    assert.equal(changed.statusCode, 403);
    // The user's own ones change with replace, even when only derived so far.
    const replaced = await env.call(owner, "PATCH", `/v2/images/${before.id}`, [
      { op: "replace", path: "/__platform", value: "Windows Server" },
    ]);
    assert.equal(replaced.statusCode, 200, replaced.body);
    assert.equal(replaced.json().__platform, "Windows Server");
  });
});

describe("OpenStack profile glance (VITRINE_OPENSTACK_PROFILE=glance)", () => {
  let env: InProcessHttp;
  let owner: string;
  let admin: string;
  before(async () => {
    env = await startInProcessHttp({ VITRINE_OPENSTACK_PROFILE: "glance" });
    owner = await env.token("owner", "p1");
    admin = await env.adminToken();
  });
  after(() => env.close());

  it("creates shared images by default and any visibility the caller may set", async () => {
    const made = await env.call(owner, "POST", "/v2/images", { name: "mine" });
    assert.equal(made.statusCode, 201);
    assert.equal(made.json().visibility, "shared");
    assert.equal(made.json().__imagetype, "private", "the caller's own image, whatever its visibility");
    const community = await env.call(owner, "POST", "/v2/images", { name: "c", visibility: "community" });
    assert.equal(community.json().visibility, "community");
    const pub = await env.call(owner, "POST", "/v2/images", { name: "p", visibility: "public" });
    assert.equal(pub.statusCode, 403, "only admins publicize");
    const byAdmin = await env.call(admin, "POST", "/v2/images", { name: "p", visibility: "public" });
    assert.equal(byAdmin.statusCode, 201);
    assert.equal(byAdmin.json().__imagetype, "gold");
  });

  it("refuses a profile it does not know at start", async () => {
    await assert.rejects(startInProcessHttp({ VITRINE_OPENSTACK_PROFILE: "huawei" }), /ims or glance/);
  });
});
