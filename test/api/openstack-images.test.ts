import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PATCH_TYPE, createOsImage, osRequest, projectToken, putData } from "../helpers/openstack.js";
import { type RunningServer, startServer } from "../helpers/server.js";

const SEED_EXAMPLE = {
  __os_version: "Ubuntu 14.04 server 64bit",
  container_format: "bare",
  disk_format: "vhd",
  min_disk: 1,
  min_ram: 1024,
  name: "test",
  tags: ["test", "image"],
  visibility: "private",
  protected: false,
  aaaa: "11111",
};

describe("OpenStack Image API v2: discovery, schemas, create, get, patch, tags, delete, list", () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  test("version discovery: / is 300 and /versions 200 with the v2 list; /v2 describes the current version", async () => {
    const root = await osRequest(server, "GET", "/", undefined, {}, null);
    assert.equal(root.status, 300);
    assert.equal(root.body.versions[0].id, "v2.15");
    assert.equal(root.body.versions[0].status, "CURRENT");
    assert.ok(root.body.versions.some((v: any) => v.id === "v2.0" && v.status === "SUPPORTED"));
    assert.equal(root.body.versions[0].links[0].href, `${server.url}/v2/`);
    assert.match(root.headers.get("x-openstack-request-id") ?? "", /^req-[0-9a-f-]{36}$/);
    const versions = await osRequest(server, "GET", "/versions", undefined, {}, null);
    assert.equal(versions.status, 200);
    assert.deepEqual(versions.body, root.body);
    const v2 = await osRequest(server, "GET", "/v2/", undefined, {}, null);
    assert.equal(v2.status, 200);
    assert.equal(v2.body.version.id, "v2.15");
  });

  test("schemas describe what the API accepts", async () => {
    const image = await osRequest(server, "GET", "/v2/schemas/image");
    assert.equal(image.status, 200);
    assert.equal(image.body.name, "image");
    assert.ok(image.body.properties.disk_format.enum.includes("zvhd2"));
    assert.equal(image.body.properties.status.readOnly, true);
    assert.deepEqual(image.body.additionalProperties, { type: "string", maxLength: 255 });
    for (const name of ["images", "member", "members"]) {
      const res = await osRequest(server, "GET", `/v2/schemas/${name}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.name, name);
    }
  });

  test("POST /v2/images with the seed's example answers 201 with every field of the seed's response", async () => {
    const res = await osRequest(server, "POST", "/v2/images", SEED_EXAMPLE);
    assert.equal(res.status, 201, res.text);
    const b = res.body;
    assert.match(b.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(res.headers.get("location"), `${server.url}/v2/images/${b.id}`);
    assert.equal(res.headers.get("openstack-image-import-methods"), "glance-direct,web-download");
    const expected = {
      schema: "/v2/schemas/image",
      min_disk: 1,
      __image_source_type: "uds",
      container_format: "bare",
      __image_size: "0",
      file: `/v2/images/${b.id}/file`,
      protected: false,
      __isregistered: "true",
      min_ram: 1024,
      owner: "admin",
      __os_type: "Linux",
      __imagetype: "private",
      visibility: "private",
      virtual_env_type: "FusionCompute",
      tags: ["test", "image"],
      __platform: "Ubuntu",
      __os_bit: "64",
      __os_version: "Ubuntu 14.04 server 64bit",
      name: "test",
      self: `/v2/images/${b.id}`,
      disk_format: "vhd",
      status: "queued",
      aaaa: "11111",
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      os_hidden: false,
    };
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(b[k], v, k);
    assert.match(b.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(b.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const got = await osRequest(server, "GET", `/v2/images/${b.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, b);
  });

  test("defaults: vhd, bare, private (the seed's IMS), unprotected, min_ram 0, Other Linux(64 bit); Windows versions derive Windows", async () => {
    const b = await createOsImage(server, {});
    assert.equal(b.disk_format, "vhd");
    assert.equal(b.container_format, "bare");
    assert.equal(b.visibility, "private");
    assert.equal(b.__imagetype, "private");
    assert.equal(b.protected, false);
    assert.equal(b.min_ram, 0);
    assert.equal(b.min_disk, 0);
    assert.equal(b.name, null);
    assert.equal(b.__os_version, "Other Linux(64 bit)");
    assert.equal(b.__os_type, "Linux");
    assert.equal(b.__os_bit, "64");
    const win = await createOsImage(server, {
      name: "w",
      __os_version: "Windows Server 2008 R2 Enterprise 32bit",
    });
    assert.equal(win.__os_type, "Windows");
    assert.equal(win.__platform, "Windows");
    assert.equal(win.__os_bit, "32");
    const winCompute = await server.request("GET", `/compute/v1/images?folderId=admin&filter=name="w"`);
    assert.equal(winCompute.body.images[0].os.type, "WINDOWS");
    const custom = await createOsImage(server, { id: "11111111-2222-3333-4444-555555555555", name: "fixed" });
    assert.equal(custom.id, "11111111-2222-3333-4444-555555555555");
    const dup = await osRequest(server, "POST", "/v2/images", { id: custom.id });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, "409 Conflict");
    assert.match(dup.body.message, /already exists/);
  });

  test("every create rule refuses bad input with Glance's status and error body", async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ disk_format: "exe" }, 400, /disk_format/],
      [{ container_format: "zip" }, 400, /container_format/],
      [{ visibility: "everyone" }, 400, /visibility/],
      [{ name: "n".repeat(256) }, 400, /name.*too long/],
      [{ name: "" }, 400, /name.*too short/],
      [{ tags: [""] }, 400, /tags/],
      [{ tags: ["t".repeat(256)] }, 400, /tags/],
      [{ tags: "a" }, 400, /tags/],
      [{ min_disk: 1025 }, 400, /min_disk/],
      [{ min_disk: -1 }, 400, /min_disk/],
      [{ min_disk: 1.5 }, 400, /min_disk/],
      [{ min_ram: -1 }, 400, /min_ram/],
      [{ protected: "yes" }, 400, /protected/],
      [{ __os_bit: 64 }, 400, /__os_bit/],
      [{ aaaa: 11111 }, 400, /aaaa.*string/],
      [{ aaaa: "v".repeat(256) }, 400, /aaaa.*too long/],
      [{ virtual_env_type: "Xen" }, 400, /virtual_env_type/],
      [{ id: "not-a-uuid" }, 400, /id/],
      [{ size: 5 }, 403, /Attribute 'size' is read-only/],
      [{ status: "active" }, 403, /read-only/],
      [{ __image_size: "5" }, 403, /read-only/],
      [{ os_glance_foo: "bar" }, 403, /reserved/],
      [[1, 2], 400, /JSON object/],
    ];
    for (const [body, status, message] of cases) {
      const res = await osRequest(server, "POST", "/v2/images", body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      assert.match(res.body.message, message, JSON.stringify(body));
      assert.equal(res.body.code.split(" ")[0], String(status));
      assert.equal(typeof res.body.title, "string");
    }
    const badJson = await osRequest(server, "POST", "/v2/images", "{not json");
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.message, "Malformed JSON in request body.");
    const form = await osRequest(server, "POST", "/v2/images", "name=x", {
      "content-type": "application/x-www-form-urlencoded",
    });
    assert.equal(form.status, 400);
  });

  test("authentication: no token or a bad token is 401 in Glance's shape; Bearer works as X-Auth-Token does", async () => {
    const none = await osRequest(server, "GET", "/v2/images", undefined, {}, null);
    assert.equal(none.status, 401);
    assert.equal(none.body.code, "401 Unauthorized");
    assert.ok(none.headers.get("x-openstack-request-id"));
    const bad = await osRequest(server, "GET", "/v2/images", undefined, {}, "vt1.nope");
    assert.equal(bad.status, 401);
    const bearer = await server.request("GET", "/v2/images");
    assert.equal(bearer.status, 200);
  });

  test("errors are negotiated as Glance does: JSON when asked for, HTML for other Accept values, text without one", async () => {
    const id = "685e6db1-274d-46f6-8fd5-bba374ab15e5";
    const html = await osRequest(server, "GET", `/v2/images/${id}`, undefined, { accept: "*/*" });
    assert.equal(html.status, 404);
    assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(html.text, /<h1>404 Not Found<\/h1>\n {2}No image found with ID/);
    const res = await fetch(`${server.url}/v2/images/${id}`, {
      headers: { "x-auth-token": server.token, accept: "" },
    });
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    assert.equal(await res.text(), `404 Not Found\n\nNo image found with ID ${id}\n\n   `);
  });

  test("GET of an unknown or malformed id is 404", async () => {
    for (const id of ["2bd32f5a-74b1-4bef-9da0-c7a4f15ffa9b", "not-a-uuid"]) {
      const res = await osRequest(server, "GET", `/v2/images/${id}`);
      assert.equal(res.status, 404);
      assert.equal(res.body.message, `No image found with ID ${id}`);
    }
  });

  test("PATCH: add, replace, remove properties and base attributes; Glance's errors for the rest", async () => {
    const img = await createOsImage(server, { name: "patchme", disk_format: "qcow2" });
    const patch = (ops: unknown, headers = PATCH_TYPE) =>
      osRequest(server, "PATCH", `/v2/images/${img.id}`, ops, headers);

    let res = await patch([{ op: "add", path: "/color", value: "blue" }]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.color, "blue");
    res = await patch([{ op: "replace", path: "/color", value: "red" }]);
    assert.equal(res.body.color, "red");
    res = await patch([{ op: "remove", path: "/color" }]);
    assert.equal(res.body.color, undefined);
    res = await patch([
      { op: "replace", path: "/name", value: "renamed" },
      { op: "replace", path: "/min_ram", value: 128 },
      { op: "replace", path: "/tags", value: ["a", "b", "a"] },
      { op: "add", path: "/__os_version", value: "CentOS 7.6 64bit" },
      { op: "replace", path: "/protected", value: true },
    ]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.name, "renamed");
    assert.equal(res.body.min_ram, 128);
    assert.deepEqual(res.body.tags, ["a", "b"]);
    assert.equal(res.body.__platform, "CentOS", "derived fields follow __os_version");
    assert.equal(res.body.protected, true);
    res = await osRequest(server, "PATCH", `/v2/images/${img.id}`, [{ replace: "/name", value: "v20" }], {
      "content-type": "application/openstack-images-v2.0-json-patch",
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.name, "v20");

    const failures: [unknown, number, RegExp][] = [
      [[{ op: "add", path: "/tags/-", value: "d" }], 400, /Invalid JSON pointer/],
      [[{ op: "move", path: "/name", value: "x" }], 400, /Invalid operation: `move`/],
      [[{ op: "remove", path: "/nosuch" }], 409, /Property nosuch does not exist/],
      [[{ op: "replace", path: "/nosuch", value: "x" }], 409, /does not exist/],
      [[{ op: "replace", path: "/status", value: "active" }], 403, /Attribute 'status' is read-only/],
      [[{ op: "remove", path: "/owner" }], 403, /read-only/],
      [[{ op: "add", path: "/os_glance_x", value: "1" }], 403, /reserved/],
      [[{ op: "remove", path: "/name" }], 403, /cannot be removed/],
      [[{ op: "replace", path: "/visibility", value: "everyone" }], 400, /visibility/],
      [[{ op: "replace", path: "/min_disk", value: 2000 }], 400, /min_disk/],
      [[{ op: "add", path: "/k", value: 5 }], 400, /string/],
      [[{ op: "replace", path: "/name" }], 400, /value/],
      [{ op: "replace" }, 400, /array/],
    ];
    for (const [ops, status, message] of failures) {
      const r = await patch(ops);
      assert.equal(r.status, status, `${JSON.stringify(ops)}: ${r.text}`);
      assert.match(r.body.message, message);
    }
    const wrongType = await patch([{ op: "replace", path: "/name", value: "x" }], {
      "content-type": "application/json",
    });
    assert.equal(wrongType.status, 415);
    assert.match(wrongType.headers.get("accept-patch") ?? "", /openstack-images-v2.1-json-patch/);
    const unchanged = await osRequest(server, "GET", `/v2/images/${img.id}`);
    assert.equal(unchanged.body.name, "v20", "failed patches change nothing");
  });

  test("tags: PUT adds (idempotent), DELETE removes, a missing tag or image is 404", async () => {
    const img = await createOsImage(server, { name: "tagged" });
    for (let i = 0; i < 2; i++) {
      const put = await osRequest(server, "PUT", `/v2/images/${img.id}/tags/newtag`);
      assert.equal(put.status, 204);
    }
    let got = await osRequest(server, "GET", `/v2/images/${img.id}`);
    assert.deepEqual(got.body.tags, ["newtag"]);
    assert.equal((await osRequest(server, "DELETE", `/v2/images/${img.id}/tags/newtag`)).status, 204);
    got = await osRequest(server, "GET", `/v2/images/${img.id}`);
    assert.deepEqual(got.body.tags, []);
    assert.equal((await osRequest(server, "DELETE", `/v2/images/${img.id}/tags/newtag`)).status, 404);
    const noImage = await osRequest(server, "PUT", `/v2/images/06e004e2-725a-4e50-8fe0-b49a0a4116a3/tags/x`);
    assert.equal(noImage.status, 404);
    const long = await osRequest(server, "PUT", `/v2/images/${img.id}/tags/${"t".repeat(256)}`);
    assert.equal(long.status, 400);
  });

  test("DELETE: 204 and gone; protected images refuse with 403; deleting again is 404", async () => {
    const img = await createOsImage(server, { name: "doomed" });
    assert.equal((await osRequest(server, "DELETE", `/v2/images/${img.id}`)).status, 204);
    assert.equal((await osRequest(server, "GET", `/v2/images/${img.id}`)).status, 404);
    assert.equal((await osRequest(server, "DELETE", `/v2/images/${img.id}`)).status, 404);
    const prot = await createOsImage(server, { name: "prot", protected: true });
    const refused = await osRequest(server, "DELETE", `/v2/images/${prot.id}`);
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /is protected and cannot be deleted/);
    await osRequest(
      server,
      "PATCH",
      `/v2/images/${prot.id}`,
      [{ op: "replace", path: "/protected", value: false }],
      PATCH_TYPE,
    );
    assert.equal((await osRequest(server, "DELETE", `/v2/images/${prot.id}`)).status, 204);
  });
});

describe("OpenStack Image API v2: list", () => {
  let server: RunningServer;
  const made: any[] = [];
  before(async () => {
    // Glance's profile: its free names (list-0 names several images) and its defaults.
    server = await startServer({ env: { VITRINE_OPENSTACK_PROFILE: "glance" } });
    for (let i = 0; i < 7; i++) {
      made.push(
        await createOsImage(server, {
          name: `list-${i % 3}`,
          disk_format: i % 2 ? "qcow2" : "raw",
          tags: i === 2 ? ["special"] : [],
          flavor: i < 2 ? "small" : "large",
          protected: i === 6,
        }),
      );
      await new Promise((r) => setTimeout(r, 5));
    }
    await createOsImage(server, { name: "hidden", os_hidden: true });
  });
  after(async () => {
    await server.stop();
  });

  const list = async (query: string) => {
    const res = await osRequest(server, "GET", `/v2/images${query}`);
    assert.equal(res.status, 200, res.text);
    return res.body;
  };

  test("limit/marker pages with first and next links, newest first by default, no gaps or repeats", async () => {
    const seen: string[] = [];
    let url = "?limit=3";
    let pages = 0;
    for (;;) {
      const body = await list(url);
      pages++;
      assert.equal(body.schema, "/v2/schemas/images");
      assert.equal(body.first, "/v2/images?limit=3");
      seen.push(...body.images.map((i: any) => i.id));
      if (!body.next) break;
      assert.match(body.next, /^\/v2\/images\?limit=3&marker=/);
      url = body.next.slice("/v2/images".length);
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, made.map((m) => m.id).reverse(), "hidden images stay out; created_at desc");
  });

  test("sort and sort_key/sort_dir, keyset pages keep the order", async () => {
    const body = await list("?sort=name:asc,created_at:desc&limit=4");
    const names = body.images.map((i: any) => i.name);
    assert.deepEqual(names, ["list-0", "list-0", "list-0", "list-1"]);
    assert.equal(body.first, "/v2/images?sort=name%3Aasc%2Ccreated_at%3Adesc&limit=4");
    const rest = await list(body.next.slice("/v2/images".length));
    assert.deepEqual(
      rest.images.map((i: any) => i.name),
      ["list-1", "list-2", "list-2"],
    );
    const byKey = await list("?sort_key=name&sort_dir=desc&limit=2");
    assert.deepEqual(
      byKey.images.map((i: any) => i.name),
      ["list-2", "list-2"],
    );
    const multi = await list("?sort_key=disk_format&sort_key=name&sort_dir=asc&sort_dir=desc");
    assert.deepEqual(
      multi.images.map((i: any) => `${i.disk_format}/${i.name}`),
      [
        "qcow2/list-2",
        "qcow2/list-1",
        "qcow2/list-0",
        "raw/list-2",
        "raw/list-1",
        "raw/list-0",
        "raw/list-0",
      ],
    );
  });

  test("filters: name, in:, property, tag, disk_format, size, protected, os_hidden, created_at", async () => {
    assert.equal((await list("?name=list-1")).images.length, 2);
    assert.equal((await list("?name=in:list-1,list-2")).images.length, 4);
    assert.equal((await list("?flavor=small")).images.length, 2);
    assert.equal((await list("?tag=special")).images[0].id, made[2].id);
    assert.equal((await list("?disk_format=qcow2")).images.length, 3);
    assert.equal((await list("?status=in:active,queued")).images.length, 7);
    assert.equal((await list("?status=active")).images.length, 0);
    assert.equal((await list("?size_min=1")).images.length, 0);
    assert.equal((await list("?protected=true")).images[0].id, made[6].id);
    assert.equal((await list("?os_hidden=true")).images[0].name, "hidden");
    assert.equal((await list(`?id=in:${made[0].id},${made[1].id}`)).images.length, 2);
    assert.equal((await list("?visibility=shared")).images.length, 7, "Glance's default visibility");
    assert.equal((await list("?visibility=private")).images.length, 0);
    assert.equal((await list("?visibility=public")).images.length, 0);
    assert.equal((await list("?owner=admin")).images.length, 7);
    const created = made[3].created_at;
    assert.equal(
      (await list(`?created_at=lte:${created}`)).images.every((i: any) => i.created_at <= created),
      true,
    );
    assert.equal((await list(`?created_at=gt:2000-01-01T00:00:00Z`)).images.length, 7);
    assert.equal((await list(`?created_at=lt:2000-01-01T00:00:00Z`)).images.length, 0);
  });

  test("size, virtual_size, checksum, os_hash_value, min_ram and min_disk are list filters, not properties", async () => {
    const data = [Buffer.alloc(1000, 1), Buffer.alloc(2000, 2)];
    const ids: string[] = [];
    for (const [i, bytes] of data.entries()) {
      const img = await createOsImage(server, {
        name: `f-${i}`,
        disk_format: "raw",
        container_format: "bare",
        min_ram: 512 * (i + 1),
        min_disk: i + 1,
      });
      assert.equal((await putData(server, img.id, bytes)).status, 204);
      ids.push(img.id);
    }
    const ids_ = async (q: string) => {
      const res = await osRequest(server, "GET", `/v2/images${q}`);
      assert.equal(res.status, 200, res.text);
      return res.body.images.map((i: { id: string }) => i.id);
    };
    const first = await osRequest(server, "GET", `/v2/images/${ids[0]}`);
    assert.deepEqual(await ids_("?size=1000"), [ids[0]]);
    assert.deepEqual(await ids_("?virtual_size=2000"), [ids[1]]);
    assert.deepEqual(await ids_(`?checksum=${first.body.checksum}`), [ids[0]]);
    assert.deepEqual(await ids_(`?os_hash_value=${first.body.os_hash_value}`), [ids[0]]);
    assert.deepEqual(await ids_("?min_ram=1024"), [ids[1]]);
    assert.deepEqual(await ids_("?min_disk=1&disk_format=raw"), [ids[0]]);
    assert.deepEqual((await ids_("?size=in:1000,2000")).sort(), [...ids].sort());
    assert.equal((await osRequest(server, "GET", "/v2/images?min_ram=lots")).status, 400);
  });

  test("an admin gives an image to another project by PATCHing owner; nobody else may", async () => {
    const member = projectToken(server, "owner-a");
    const img = await createOsImage(server, { name: "moving" }, member);
    const byMember = await osRequest(
      server,
      "PATCH",
      `/v2/images/${img.id}`,
      [{ op: "replace", path: "/owner", value: "owner-b" }],
      PATCH_TYPE,
      member,
    );
    assert.equal(byMember.status, 403);
    assert.equal(byMember.body.message, "You are not permitted to modify 'owner' on this image.");
    const byAdmin = await osRequest(
      server,
      "PATCH",
      `/v2/images/${img.id}`,
      [{ op: "replace", path: "/owner", value: "owner-b" }],
      PATCH_TYPE,
    );
    assert.equal(byAdmin.status, 200, byAdmin.text);
    assert.equal(byAdmin.body.owner, "owner-b");
    assert.equal((await osRequest(server, "GET", `/v2/images/${img.id}`, undefined, {}, member)).status, 404);
    const listed = await server.request("GET", "/compute/v1/images?folderId=owner-b");
    assert.deepEqual(
      listed.body.images.map((i: { name: string }) => i.name),
      ["moving"],
    );
  });

  test("bad list parameters are 400", async () => {
    const cases: [string, RegExp][] = [
      ["?limit=-1", /limit param must be positive/],
      ["?limit=x", /integer/],
      ["?marker=ef3b0a23-1d97-4efb-b1e3-cde20e85b155", /No image found with ID/],
      ["?sort_key=nosuch", /Invalid sort key: nosuch/],
      ["?sort=name:sideways", /Invalid sort direction/],
      ["?sort=name&sort_key=name", /cannot be combined/],
      ["?size_min=big", /size_min/],
      ["?protected=maybe", /protected/],
      ["?visibility=everyone", /visibility/],
      ["?member_status=maybe", /status/],
      ["?created_at=gt:yesterday", /created_at/],
      ["?status=sleeping", /status/],
    ];
    for (const [query, message] of cases) {
      const res = await osRequest(server, "GET", `/v2/images${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text}`);
      assert.match(res.body.message, message, query);
    }
  });
});
