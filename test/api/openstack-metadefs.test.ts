import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { osRequest, projectToken } from "../helpers/openstack.js";
import { type RunningServer, startServer } from "../helpers/server.js";

const NS = "/v2/metadefs/namespaces";

describe("OpenStack metadata definitions API (/v2/metadefs)", () => {
  let server: RunningServer;
  let member: string;
  let stranger: string;
  before(async () => {
    server = await startServer();
    member = projectToken(server, "metadef-project");
    stranger = projectToken(server, "other-project");
  });
  after(async () => {
    await server.stop();
  });

  test("a new catalog holds the standard definitions: resource types and public, protected namespaces anyone reads", async () => {
    const types = await osRequest(server, "GET", "/v2/metadefs/resource_types", undefined, {}, member);
    assert.equal(types.status, 200, types.text);
    const names = types.body.resource_types.map((t: any) => t.name);
    for (const n of ["OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor"])
      assert.ok(names.includes(n), n);
    assert.match(types.body.resource_types[0].created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const list = await osRequest(server, "GET", `${NS}?limit=100`, undefined, {}, member);
    assert.equal(list.status, 200, list.text);
    const pinning = list.body.namespaces.find((n: any) => n.namespace === "OS::Compute::CPUPinning");
    assert.ok(pinning, "OS::Compute::CPUPinning listed");
    assert.equal(pinning.visibility, "public");
    assert.equal(pinning.protected, true);
    assert.equal(pinning.self, `${NS}/OS::Compute::CPUPinning`);
    assert.ok(
      pinning.resource_type_associations.some(
        (a: any) => a.name === "OS::Nova::Flavor" && a.prefix === "hw:",
      ),
    );
    assert.equal(pinning.properties, undefined, "lists leave the content out");
    assert.equal(list.body.schema, "/v2/schemas/metadefs/namespaces");

    // Named as an image knows them: hw_cpu_policy; as a flavor: hw:cpu_policy.
    const asImage = await osRequest(
      server,
      "GET",
      `${NS}/OS::Compute::CPUPinning?resource_type=OS::Glance::Image`,
      undefined,
      {},
      member,
    );
    assert.equal(asImage.status, 200, asImage.text);
    assert.deepEqual(asImage.body.properties.hw_cpu_policy.enum, ["shared", "dedicated", "mixed"]);
    const plain = await osRequest(server, "GET", `${NS}/OS::Compute::CPUPinning`, undefined, {}, member);
    assert.ok(plain.body.properties.cpu_policy);
    const prop = await osRequest(
      server,
      "GET",
      `${NS}/OS::Compute::CPUPinning/properties/hw:cpu_thread_policy?resource_type=OS::Nova::Flavor`,
      undefined,
      {},
      member,
    );
    assert.equal(prop.status, 200, prop.text);
    assert.equal(prop.body.name, "hw:cpu_thread_policy");
    assert.equal(prop.body.type, "string");

    // The standard ones are protected: not even an admin deletes one without unprotecting it first.
    const del = await osRequest(server, "DELETE", `${NS}/OS::Compute::Watchdog`);
    assert.equal(del.status, 403, del.text);
    assert.match(del.body.message, /protected/);
  });

  test("an admin creates a namespace with its content in one request; everything reads back", async () => {
    const created = await osRequest(server, "POST", NS, {
      namespace: "Test::Full",
      display_name: "Full",
      description: "All kinds of content",
      visibility: "public",
      protected: false,
      resource_type_associations: [{ name: "OS::Glance::Image", prefix: "full_" }, { name: "My::New::Type" }],
      properties: { speed: { title: "Speed", type: "integer", minimum: 1 } },
      objects: [
        {
          name: "Pair",
          description: "two",
          required: ["a"],
          properties: { a: { title: "A", type: "string" } },
        },
      ],
      tags: [{ name: "one" }, { name: "two" }],
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.namespace, "Test::Full");
    assert.equal(created.body.properties.speed.minimum, 1);
    assert.equal(created.body.objects[0].self, `${NS}/Test::Full/objects/Pair`);
    assert.deepEqual(
      created.body.tags.map((t: any) => t.name),
      ["one", "two"],
    );

    // A resource type nobody named before is created with its first association.
    const types = await osRequest(server, "GET", "/v2/metadefs/resource_types");
    assert.ok(types.body.resource_types.some((t: any) => t.name === "My::New::Type"));

    const shown = await osRequest(
      server,
      "GET",
      `${NS}/Test::Full?resource_type=OS::Glance::Image`,
      undefined,
      {},
      member,
    );
    assert.equal(shown.status, 200, shown.text);
    assert.deepEqual(Object.keys(shown.body.properties), ["full_speed"]);
    assert.deepEqual(Object.keys(shown.body.objects[0].properties), ["full_a"]);
    assert.equal(shown.body.resource_type_associations.length, 2);

    const filtered = await osRequest(server, "GET", `${NS}?resource_types=My::New::Type`);
    assert.deepEqual(
      filtered.body.namespaces.map((n: any) => n.namespace),
      ["Test::Full"],
    );

    const dup = await osRequest(server, "POST", NS, { namespace: "Test::Full" });
    assert.equal(dup.status, 409, dup.text);
    assert.equal(dup.body.code, "409 Conflict");

    const gone = await osRequest(server, "DELETE", `${NS}/Test::Full`);
    assert.equal(gone.status, 204, gone.text);
    const after = await osRequest(server, "GET", `${NS}/Test::Full/objects/Pair`);
    assert.equal(after.status, 404, after.text);
  });

  test("only admins change definitions; a private namespace is its project's and the admin's alone", async () => {
    const refused = await osRequest(server, "POST", NS, { namespace: "Test::ByUser" }, {}, member);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.message, "You are not authorized to complete add_metadef_namespace action.");

    const priv = await osRequest(server, "POST", NS, {
      namespace: "Test::Private",
      owner: "metadef-project",
    });
    assert.equal(priv.status, 201, priv.text);
    assert.equal(priv.body.visibility, "private", "private by default");
    assert.equal((await osRequest(server, "GET", `${NS}/Test::Private`, undefined, {}, member)).status, 200);
    const hidden = await osRequest(server, "GET", `${NS}/Test::Private`, undefined, {}, stranger);
    assert.equal(hidden.status, 404, hidden.text);
    const strangerList = await osRequest(server, "GET", `${NS}?limit=1000`, undefined, {}, stranger);
    assert.ok(!strangerList.body.namespaces.some((n: any) => n.namespace === "Test::Private"));
    const memberList = await osRequest(server, "GET", `${NS}?visibility=private`, undefined, {}, member);
    assert.deepEqual(
      memberList.body.namespaces.map((n: any) => n.namespace),
      ["Test::Private"],
    );

    for (const [method, path, body] of [
      ["PUT", `${NS}/Test::Private`, { namespace: "Test::Private" }],
      ["DELETE", `${NS}/Test::Private`, undefined],
      ["POST", `${NS}/Test::Private/properties`, { name: "p", title: "P", type: "string" }],
      ["POST", `${NS}/Test::Private/tags/t`, undefined],
      ["POST", `${NS}/Test::Private/resource_types`, { name: "OS::Glance::Image" }],
    ] as const) {
      const res = await osRequest(server, method, path, body, {}, member);
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
    }
    assert.equal((await osRequest(server, "DELETE", `${NS}/Test::Private`)).status, 204);
  });

  test("properties, objects and tags: create, show, replace (and rename), delete, conflicts", async () => {
    assert.equal((await osRequest(server, "POST", NS, { namespace: "Test::Content" })).status, 201);
    const base = `${NS}/Test::Content`;

    const p = await osRequest(server, "POST", `${base}/properties`, {
      name: "disk_bus",
      title: "Disk bus",
      type: "string",
      enum: ["virtio", "scsi"],
    });
    assert.equal(p.status, 201, p.text);
    assert.deepEqual(p.body, {
      name: "disk_bus",
      title: "Disk bus",
      type: "string",
      enum: ["virtio", "scsi"],
    });
    assert.equal(
      (
        await osRequest(server, "POST", `${base}/properties`, {
          name: "disk_bus",
          title: "x",
          type: "string",
        })
      ).status,
      409,
    );
    const renamed = await osRequest(server, "PUT", `${base}/properties/disk_bus`, {
      name: "bus",
      title: "Bus",
      type: "string",
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.name, "bus");
    assert.equal((await osRequest(server, "GET", `${base}/properties/disk_bus`)).status, 404);
    const props = await osRequest(server, "GET", `${base}/properties`);
    assert.deepEqual(props.body.properties, { bus: { title: "Bus", type: "string" } });

    const o = await osRequest(server, "POST", `${base}/objects`, {
      name: "Obj",
      properties: { x: { title: "X", type: "number" } },
    });
    assert.equal(o.status, 201, o.text);
    const o2 = await osRequest(server, "PUT", `${base}/objects/Obj`, {
      ...o.body,
      name: "Obj2",
      description: "changed",
    });
    assert.equal(o2.status, 200, o2.text);
    assert.equal(o2.body.description, "changed");
    assert.equal(o2.body.self, `${base}/objects/Obj2`);
    const objects = await osRequest(server, "GET", `${base}/objects`);
    assert.deepEqual(
      objects.body.objects.map((x: any) => x.name),
      ["Obj2"],
    );

    const bulk = await osRequest(server, "POST", `${base}/tags`, { tags: [{ name: "a" }, { name: "b" }] });
    assert.equal(bulk.status, 201, bulk.text);
    const replaced = await osRequest(server, "POST", `${base}/tags`, { tags: [{ name: "c" }] });
    assert.equal(replaced.status, 201);
    assert.deepEqual(
      (await osRequest(server, "GET", `${base}/tags`)).body.tags.map((t: any) => t.name),
      ["c"],
    );
    const appended = await osRequest(
      server,
      "POST",
      `${base}/tags`,
      { tags: [{ name: "d" }] },
      { "x-openstack-append": "True" },
    );
    assert.equal(appended.status, 201);
    assert.deepEqual(
      (await osRequest(server, "GET", `${base}/tags?sort_key=name&sort_dir=desc`)).body.tags.map(
        (t: any) => t.name,
      ),
      ["d", "c"],
    );
    assert.equal(
      (await osRequest(server, "POST", `${base}/tags`, { tags: [{ name: "e" }, { name: "e" }] })).status,
      409,
    );
    const one = await osRequest(server, "POST", `${base}/tags/solo`);
    assert.equal(one.status, 201, one.text);
    assert.equal(one.body.name, "solo");
    assert.equal((await osRequest(server, "POST", `${base}/tags/solo`)).status, 409);
    const t2 = await osRequest(server, "PUT", `${base}/tags/solo`, { name: "duo" });
    assert.equal(t2.status, 200, t2.text);
    assert.equal((await osRequest(server, "GET", `${base}/tags/duo`)).body.name, "duo");
    assert.equal((await osRequest(server, "DELETE", `${base}/tags/duo`)).status, 204);
    assert.equal((await osRequest(server, "DELETE", `${base}/tags/duo`)).status, 404);
    assert.equal((await osRequest(server, "DELETE", `${base}/tags`)).status, 204);
    assert.deepEqual((await osRequest(server, "GET", `${base}/tags`)).body.tags, []);
    assert.equal((await osRequest(server, "DELETE", `${base}/objects`)).status, 204);
    assert.deepEqual((await osRequest(server, "GET", `${base}/objects`)).body.objects, []);
  });

  test("resource type associations: add, list, refuse twice, remove", async () => {
    assert.equal((await osRequest(server, "POST", NS, { namespace: "Test::Assoc" })).status, 201);
    const base = `${NS}/Test::Assoc/resource_types`;
    const a = await osRequest(server, "POST", base, { name: "OS::Nova::Flavor", prefix: "x:" });
    assert.equal(a.status, 201, a.text);
    assert.equal(a.body.prefix, "x:");
    assert.equal((await osRequest(server, "POST", base, { name: "OS::Nova::Flavor" })).status, 409);
    assert.deepEqual(
      (await osRequest(server, "GET", base)).body.resource_type_associations.map((x: any) => x.name),
      ["OS::Nova::Flavor"],
    );
    assert.equal((await osRequest(server, "DELETE", `${base}/OS::Nova::Flavor`)).status, 204);
    assert.equal((await osRequest(server, "DELETE", `${base}/OS::Nova::Flavor`)).status, 404);
    assert.deepEqual((await osRequest(server, "GET", base)).body.resource_type_associations, []);
  });

  test("protected namespaces: delete refused until an update unprotects it (a PUT resets what it leaves out)", async () => {
    const c = await osRequest(server, "POST", NS, {
      namespace: "Test::Guarded",
      protected: true,
      visibility: "public",
      description: "d",
    });
    assert.equal(c.status, 201, c.text);
    assert.equal((await osRequest(server, "DELETE", `${NS}/Test::Guarded`)).status, 403);
    assert.equal((await osRequest(server, "DELETE", `${NS}/Test::Guarded/properties`)).status, 403);
    const u = await osRequest(server, "PUT", `${NS}/Test::Guarded`, { namespace: "Test::Guarded2" });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.body.protected, false);
    assert.equal(u.body.visibility, "private");
    assert.equal(u.body.description, undefined);
    assert.equal((await osRequest(server, "GET", `${NS}/Test::Guarded`)).status, 404);
    assert.equal((await osRequest(server, "DELETE", `${NS}/Test::Guarded2`)).status, 204);
    const clash = await osRequest(server, "PUT", `${NS}/Test::Assoc`, { namespace: "OS::Compute::Watchdog" });
    assert.equal(clash.status, 409, clash.text);
  });

  test("bad documents get 400 in Glance's format, naming the problem; other media types 415", async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ["POST", NS, {}, /'namespace' is a required property/],
      ["POST", NS, { namespace: "x", visibility: "community" }, /visibility/],
      ["POST", NS, { namespace: "x", surprise: 1 }, /'surprise' was unexpected/],
      ["POST", NS, { namespace: "a/b" }, /without '\/'/],
      ["POST", NS, { namespace: "x".repeat(81) }, /too long/],
      ["POST", NS, { namespace: "x", properties: { p: { title: "P" } } }, /'type' is a required property/],
      ["POST", `${NS}/OS::Compute::Watchdog/properties`, { name: "p", title: "P", type: "float" }, /type/],
      ["POST", `${NS}/OS::Compute::Watchdog/tags`, { tags: "nope" }, /tags/],
      ["GET", `${NS}?sort_key=owner`, undefined, /Invalid sort key/],
      ["GET", `${NS}?limit=x`, undefined, /limit/],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await osRequest(server, method, path, body);
      assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.code, "400 Bad Request");
      assert.match(res.body.message, message);
    }
    const wrongType = await osRequest(server, "POST", NS, "namespace=x", { "content-type": "text/plain" });
    assert.equal(wrongType.status, 415, wrongType.text);
    assert.equal((await osRequest(server, "GET", `${NS}/No::Such`)).status, 404);
    assert.equal((await osRequest(server, "GET", "/v2/schemas/metadefs/nothing")).status, 400);
  });

  test("namespace lists page with limit and marker, in the order asked for", async () => {
    for (const n of ["Page::A", "Page::B", "Page::C"]) {
      assert.equal((await osRequest(server, "POST", NS, { namespace: n, visibility: "public" })).status, 201);
    }
    const seen: string[] = [];
    let url: string | undefined = `${NS}?limit=2&sort_key=namespace&sort_dir=asc`;
    while (url) {
      const page = await osRequest(server, "GET", url);
      assert.equal(page.status, 200, page.text);
      assert.ok(page.body.namespaces.length <= 2);
      seen.push(...page.body.namespaces.map((n: any) => n.namespace));
      url = page.body.next;
    }
    const sorted = [...seen].sort();
    assert.deepEqual(seen, sorted);
    assert.equal(new Set(seen).size, seen.length);
    for (const n of ["Page::A", "Page::B", "Page::C", "OS::Compute::LibvirtImage"])
      assert.ok(seen.includes(n), n);
  });

  test("every metadefs schema is served under its name", async () => {
    const expected: Record<string, string> = {
      namespace: "namespace",
      namespaces: "namespaces",
      object: "object",
      objects: "objects",
      property: "property",
      properties: "properties",
      tag: "tag",
      tags: "tags",
      resource_type: "resource_type_association",
      resource_types: "resource_type_associations",
    };
    for (const [path, name] of Object.entries(expected)) {
      const res = await osRequest(server, "GET", `/v2/schemas/metadefs/${path}`, undefined, {}, member);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.name, name);
    }
  });
});
