import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image } from "../helpers/fixtures.js";
import { createOsImage, osRequest, projectToken, putData } from "../helpers/openstack.js";
import { type RunningServer, startServer, waitOperation } from "../helpers/server.js";
import { seededRandom } from "../helpers/seeded-random.js";

/**
 * A seeded, bounded fuzz run over every endpoint of every dialect: valid requests bent at random
 * (odd ids, odd query values, bodies with fields of the wrong type, unknown fields, garbage,
 * wrong media types). Whatever comes in, the answer is never a 5xx, every error is in the
 * dialect's own shape, and nothing is logged as the service's failure. The seed is printed;
 * VITRINE_FUZZ_SEED and VITRINE_FUZZ_REQUESTS replay or lengthen a run.
 */
const SEED = Number(process.env.VITRINE_FUZZ_SEED ?? 20261201);
const REQUESTS = Number(process.env.VITRINE_FUZZ_REQUESTS ?? 5000);

// Names that reach Object.prototype come three times: they are what broke things before.
const PROTOTYPE_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"];
const NASTY_STRINGS = [
  ...PROTOTYPE_NAMES,
  ...PROTOTYPE_NAMES,
  ...PROTOTYPE_NAMES,
  "",
  " ",
  "..",
  "../../etc/passwd",
  "%00",
  "%E0%A4%A",
  "%2F",
  "__proto__",
  "constructor",
  "toString",
  "' OR 1=1 --",
  "\u0000",
  "😀",
  "a".repeat(300),
  "a".repeat(2000),
  "-1",
  "0",
  "1e999",
  "NaN",
  "null",
  "true",
  "[]",
  "{}",
  "<script>",
  "images",
  "fd8aaaaaaaaaaaaaaaaa",
  "00000000-0000-0000-0000-000000000000",
];
const NASTY_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 53,
  1e308,
  -1e308,
  "",
  "x",
  [],
  [1, "a", null],
  {},
  { a: { b: { c: [] } } },
  "a".repeat(70_000),
  ...NASTY_STRINGS,
];

type Dialect = "yandex" | "openstack";
interface Endpoint {
  dialect: Dialect;
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  contentType?: string;
}

describe("fuzzing every endpoint", () => {
  let server: RunningServer;
  let files: FileServer;
  const ids = { compute: "", baremetal: "", openstack: "", operation: "", member: "p-member" };
  /** A folder editor's token: the admin passes access checks that others go through. */
  let userToken = "";

  before(async () => {
    files = await startFileServer();
    server = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    const uri = files.serve("f.qcow2", image("qcow2", 8).path);
    const op = await server.request("POST", "/compute/v1/images", { folderId: "fz", name: "seed", uri });
    ids.operation = op.body.id;
    ids.compute = (await waitOperation(server, op.body.id)).response.id;
    const os = await createOsImage(server, { name: "seed", disk_format: "qcow2", container_format: "bare" });
    await putData(server, os.id, image("qcow2", 8).path);
    ids.openstack = os.id;
    const bm = await server.request("POST", "/baremetal/v1alpha/images", { folderId: "fz", name: "bm", uri });
    ids.baremetal = bm.body.metadata?.imageId ?? "";
    userToken = projectToken(server, "fz");
    const namespace = await osRequest(server, "POST", "/v2/metadefs/namespaces", {
      namespace: "Fz::Ns",
      visibility: "public",
      resource_type_associations: [{ name: "OS::Glance::Image", prefix: "x_" }],
      properties: { p1: { title: "P1", type: "string" } },
    });
    assert.equal(namespace.status, 201, namespace.text);
  });
  after(async () => {
    await server?.stop();
    await files?.close();
  });

  function endpoints(): Endpoint[] {
    const c = `/compute/v1/images/${ids.compute}`;
    const b = `/baremetal/v1alpha/images/${ids.baremetal}`;
    const o = `/v2/images/${ids.openstack}`;
    const ns = "/v2/metadefs/namespaces/Fz::Ns";
    const y = (method: string, path: string, extra: Partial<Endpoint> = {}): Endpoint => ({
      dialect: "yandex",
      method,
      path,
      ...extra,
    });
    const s = (method: string, path: string, extra: Partial<Endpoint> = {}): Endpoint => ({
      dialect: "openstack",
      method,
      path,
      ...extra,
    });
    const patch = "application/openstack-images-v2.1-json-patch";
    return [
      y("POST", "/compute/v1/images", {
        body: {
          folderId: "fz",
          name: "n",
          family: "f",
          labels: { a: "b" },
          minDiskSize: "1073741824",
          imageId: ids.compute,
        },
      }),
      y("GET", "/compute/v1/images", {
        query: { folderId: "fz", pageSize: "10", pageToken: "", filter: 'name="n"', orderBy: "createdAt" },
      }),
      y("GET", "/compute/v1/images:latestByFamily", { query: { folderId: "fz", family: "f" } }),
      y("GET", c),
      y("GET", `${c}/operations`, { query: { pageSize: "5" } }),
      y("GET", `${c}:listAccessBindings`, { query: { pageSize: "5" } }),
      y("POST", `${c}:setAccessBindings`, {
        body: { accessBindings: [{ roleId: "viewer", subject: { id: "allUsers", type: "system" } }] },
      }),
      y("POST", `${c}:updateAccessBindings`, {
        body: {
          accessBindingDeltas: [
            {
              action: "ADD",
              accessBinding: { roleId: "viewer", subject: { id: "allAuthenticatedUsers", type: "system" } },
            },
          ],
        },
      }),
      y("PATCH", c, { body: { updateMask: "description,labels", description: "d", labels: { k: "v" } } }),
      y("DELETE", `/compute/v1/images/${"x".repeat(20)}`),
      y("GET", `/operations/${ids.operation}`),
      y("POST", `/operations/${ids.operation}:cancel`),
      y("POST", "/baremetal/v1alpha/images", {
        body: { folderId: "fz", name: "b", uri: "http://127.0.0.1:1/x.iso" },
      }),
      y("GET", "/baremetal/v1alpha/images", {
        query: { folderId: "fz", pageSize: "10", filter: 'name="b"' },
      }),
      y("GET", b),
      y("GET", `${b}/operations`),
      y("PATCH", b, { body: { updateMask: "description", description: "x" } }),
      y("DELETE", `/baremetal/v1alpha/images/${"y".repeat(20)}`),
      s("GET", "/"),
      s("GET", "/versions"),
      s("GET", "/v2"),
      s("GET", "/v2/schemas/image"),
      s("GET", "/v2/schemas/images"),
      s("GET", "/v2/schemas/member"),
      s("GET", "/v2/info/import"),
      s("GET", "/v2/info/stores"),
      s("GET", "/v2/info/stores/detail"),
      s("GET", "/v2/info/usage"),
      s("POST", "/v2/images", {
        body: {
          name: "o",
          disk_format: "raw",
          container_format: "bare",
          tags: ["t"],
          min_disk: 1,
          visibility: "private",
          __os_version: "Ubuntu 22.04 64bit",
        },
      }),
      s("GET", "/v2/images", {
        query: {
          limit: "5",
          marker: ids.openstack,
          sort: "name:asc",
          name: "o",
          status: "active",
          visibility: "all",
          tag: "t",
          size_min: "1",
          created_at: "gt:2020-01-01T00:00:00Z",
        },
      }),
      s("GET", o),
      s("PATCH", o, { body: [{ op: "replace", path: "/name", value: "o2" }], contentType: patch }),
      s("PUT", `${o}/tags/t1`),
      s("DELETE", `${o}/tags/t1`),
      s("GET", `${o}/file`),
      s("PUT", `/v2/images/${"0".repeat(8)}-0000-0000-0000-000000000000/file`, {
        body: "bytes",
        contentType: "application/octet-stream",
      }),
      s("PUT", `/v2/images/${"0".repeat(8)}-0000-0000-0000-000000000000/stage`, {
        body: "bytes",
        contentType: "application/octet-stream",
      }),
      s("POST", `${o}/import`, { body: { method: { name: "web-download", uri: "http://127.0.0.1:1/x" } } }),
      s("POST", `${o}/actions/deactivate`),
      s("POST", `${o}/actions/reactivate`),
      s("POST", `${o}/members`, { body: { member: ids.member } }),
      s("GET", `${o}/members`),
      s("GET", `${o}/members/${ids.member}`),
      s("PUT", `${o}/members/${ids.member}`, { body: { status: "accepted" } }),
      s("DELETE", `${o}/members/${ids.member}`),
      s("DELETE", "/v2/images/11111111-1111-1111-1111-111111111111"),
      s("GET", `${o}/tasks`),
      s("GET", `${o}/locations`),
      s("GET", "/v2/tasks", { query: { limit: "2", status: "success", sort_dir: "desc" } }),
      s("GET", `/v2/tasks/${ids.operation}`),
      s("GET", "/v2/schemas/metadefs/namespace"),
      s("GET", "/v2/metadefs/resource_types"),
      s("GET", "/v2/metadefs/namespaces", {
        query: {
          limit: "5",
          marker: "Fz::Ns",
          sort_key: "namespace",
          sort_dir: "asc",
          visibility: "public",
          resource_types: "OS::Glance::Image",
        },
      }),
      s("POST", "/v2/metadefs/namespaces", {
        body: {
          namespace: "Fz::New",
          visibility: "public",
          resource_type_associations: [{ name: "OS::Glance::Image", prefix: "x_" }],
          properties: { p: { title: "P", type: "string", enum: ["a"] } },
          objects: [{ name: "o", required: ["p"], properties: { p: { title: "P", type: "integer" } } }],
          tags: [{ name: "t" }],
        },
      }),
      s("GET", ns, { query: { resource_type: "OS::Glance::Image" } }),
      s("PUT", ns, { body: { namespace: "Fz::Ns", visibility: "public", protected: false } }),
      s("POST", `${ns}/properties`, { body: { name: "p2", title: "t", type: "string", maxLength: 3 } }),
      s("GET", `${ns}/properties/x_p1`, { query: { resource_type: "OS::Glance::Image" } }),
      s("PUT", `${ns}/properties/p1`, { body: { name: "p1", title: "T", type: "integer", minimum: 0 } }),
      s("POST", `${ns}/objects`, { body: { name: "o", properties: { x: { title: "X", type: "number" } } } }),
      s("GET", `${ns}/objects/o`),
      s("PUT", `${ns}/objects/o`, { body: { name: "o", description: "d" } }),
      s("POST", `${ns}/tags`, { body: { tags: [{ name: "a" }, { name: "b" }] } }),
      s("POST", `${ns}/tags/t`),
      s("PUT", `${ns}/tags/t`, { body: { name: "t2" } }),
      s("GET", `${ns}/tags`, { query: { limit: "2", sort_key: "name", sort_dir: "desc", marker: "a" } }),
      s("POST", `${ns}/resource_types`, { body: { name: "OS::Nova::Flavor", prefix: "p:" } }),
      s("DELETE", `${ns}/resource_types/OS::Nova::Flavor`),
      s("DELETE", `${ns}/objects/o`),
      s("DELETE", `${ns}/properties`),
      s("DELETE", "/v2/metadefs/namespaces/Fz::Gone"),
    ];
  }

  /** The object a body's fields are in: the body, or the first operation of a patch. */
  function objectIn(body: unknown): Record<string, unknown> | null {
    const target: unknown = Array.isArray(body) ? body[0] : body;
    return typeof target === "object" && target !== null && !Array.isArray(target)
      ? (target as Record<string, unknown>)
      : null;
  }

  /** The request bent: a path segment, a query value, a body field, the body or its media type. */
  function mutate(e: Endpoint, random: () => number): Endpoint {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const out: Endpoint = { ...e, query: { ...e.query } };
    const r = random();
    if (r < 0.15) {
      const parts = out.path.split("/");
      const i = 1 + Math.floor(random() * (parts.length - 1));
      parts[i] = encodeURIComponent(pick(NASTY_STRINGS)).replace(/%25/g, random() < 0.5 ? "%" : "%25");
      out.path = parts.join("/");
    } else if (r < 0.35) {
      const keys = Object.keys(out.query ?? {});
      const key = keys.length > 0 && random() < 0.7 ? pick(keys) : pick(NASTY_STRINGS) || "k";
      out.query![key] = pick(NASTY_STRINGS);
    } else if (r < 0.7 && objectIn(e.body) !== null) {
      const body = structuredClone(e.body) as Record<string, unknown>;
      const target = objectIn(body)!;
      const keys = Object.keys(target);
      const key = keys.length > 0 && random() < 0.8 ? pick(keys) : String(pick(NASTY_STRINGS));
      if (random() < 0.15) delete target[key];
      else target[key] = pick(NASTY_VALUES);
      out.body = body;
    } else if (r < 0.85) {
      out.body = pick(NASTY_VALUES);
    } else {
      out.contentType = pick([
        "text/plain",
        "application/json",
        "application/octet-stream",
        "application/xml",
        "",
      ]);
      out.body = e.body ?? pick(NASTY_VALUES);
    }
    return out;
  }

  test(`seed ${SEED}: ${REQUESTS} requests, no 5xx, every error in its dialect's shape`, async () => {
    const random = seededRandom(SEED);
    const all = endpoints();
    const failures: string[] = [];
    let sent = 0;
    const worker = async () => {
      while (sent < REQUESTS && failures.length < 10) {
        sent++;
        // Unchanged now and then; otherwise bent one to three times.
        let e = all[Math.floor(random() * all.length)]!;
        if (random() >= 0.1) for (let m = 1 + Math.floor(random() * 3); m > 0; m--) e = mutate(e, random);
        const token = random() < 0.5 ? userToken : server.token;
        const headers: Record<string, string> =
          e.dialect === "yandex"
            ? { authorization: `Bearer ${token}` }
            : { "x-auth-token": token, accept: "application/json" };
        const body =
          e.body === undefined || e.method === "GET"
            ? undefined
            : typeof e.body === "string"
              ? e.body
              : JSON.stringify(e.body);
        if (body !== undefined) headers["content-type"] = e.contentType ?? "application/json";
        else if (e.contentType) headers["content-type"] = e.contentType;
        const qs = new URLSearchParams(e.query ?? {}).toString();
        const url = `${server.url}${e.path}${qs ? `?${qs}` : ""}`;
        const label = `${e.method} ${url.slice(server.url.length, 200)} ${body?.slice(0, 120) ?? ""}`;
        let res: Response;
        try {
          res = await fetch(url, { method: e.method, headers, body });
        } catch (err) {
          failures.push(`${label}: ${(err as Error).message}`);
          continue;
        }
        const text = await res.text();
        if (res.status >= 500) {
          failures.push(`${label}: ${res.status} ${text.slice(0, 200)}`);
          continue;
        }
        if (res.status < 400) continue;
        // A bent path may leave its dialect: paths outside the Yandex prefixes are OpenStack's,
        // whose errors are JSON only for clients that ask (others get Glance's HTML page).
        const dialect = /^\/(compute|baremetal|operations)\//.test(new URL(url).pathname)
          ? "yandex"
          : "openstack";
        if (dialect === "openstack" && headers.accept === undefined) {
          if (!text.includes(`<title>${res.status} `))
            failures.push(`${label}: ${res.status} not Glance's page: ${text.slice(0, 120)}`);
          continue;
        }
        let parsed: any;
        try {
          parsed = JSON.parse(text);
        } catch {
          failures.push(`${label}: ${res.status} with a body that is not JSON: ${text.slice(0, 120)}`);
          continue;
        }
        const shaped =
          dialect === "yandex"
            ? typeof parsed.code === "number" && typeof parsed.message === "string"
            : typeof parsed.message === "string" && String(parsed.code).startsWith(`${res.status} `);
        if (!shaped)
          failures.push(`${label}: ${res.status} not in the ${dialect} error shape: ${text.slice(0, 160)}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.deepEqual(failures, [], `seed ${SEED}`);
    const errors = server.logs
      .filter((l) => Number(l.level) >= 50)
      .map((l) => JSON.stringify(l).slice(0, 300));
    assert.deepEqual(errors, [], "logged as the service's failure");
  });
});
