import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image, iso } from "../helpers/fixtures.js";
import { PATCH_TYPE, osRequest, putData, vitrineCli } from "../helpers/openstack.js";
import { rawCall } from "../helpers/grpc.js";
import { type RunningServer, apiRequest, startServer, waitOperation } from "../helpers/server.js";

/** The HTTP status the gRPC-HTTP mapping gives each gRPC code (the Yandex API design guide's table). */
const HTTP_OF_GRPC: Record<number, number> = {
  0: 200,
  3: 400,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  16: 401,
};

/**
 * Every endpoint of every dialect × every kind of caller, through HTTP, against the expected
 * status. Folder A holds the images; "otherAdmin" is the admin of folder B; "imageOnly" has no
 * folder role at all, only `editor` bound on the images it is tested against.
 */
const WHO = [
  "none",
  "bad",
  "expired",
  "viewer",
  "editor",
  "admin",
  "user",
  "otherAdmin",
  "imageOnly",
] as const;
type Who = (typeof WHO)[number];

const A = "folder-a";
const B = "folder-b";

interface Target {
  uuid: string;
  id: string;
}

interface Cell {
  who: Who;
  token: string | null;
}

interface Row {
  name: string;
  /** Expected statuses, in WHO order. */
  expect: string;
  call(cell: Cell): Promise<number>;
}

describe("authorisation matrix", () => {
  let server: RunningServer;
  let files: FileServer;
  let isoUri: string;
  const tokens = {} as Record<Who, string | null>;
  const subjects = {} as Record<Who, string>;
  let target: Target;
  let bmTarget: string;
  let targetOperation: string;
  let counter = 0;

  const yc = (cell: Cell, method: string, path: string, body?: unknown) =>
    apiRequest(server.url, cell.token, method, path, body);
  const os = (
    cell: Cell,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => osRequest(server, method, path, body, headers, cell.token);
  const asAdmin: Cell = { who: "admin", token: null };

  function subject(name: string): string {
    return vitrineCli(server, "subject", "create", "--name", name);
  }
  function token(subjectId: string, ...extra: string[]): string {
    return vitrineCli(server, "token", "create", "--subject", subjectId, ...extra);
  }
  function bind(folder: string, subjectId: string, role: string): void {
    vitrineCli(server, "folder", "bind", "--folder", folder, "--subject", subjectId, "--role", role);
  }

  async function bindImageOnly(computeId: string): Promise<void> {
    const res = await yc(asAdmin, "POST", `/compute/v1/images/${computeId}:updateAccessBindings`, {
      accessBindingDeltas: [
        {
          action: "ADD",
          accessBinding: { roleId: "editor", subject: { id: subjects.imageOnly, type: "userAccount" } },
        },
      ],
    });
    assert.equal(res.status, 200, res.text);
  }

  /** A new image in folder A (queued, unless `data`), with imageOnly's binding on it. */
  async function fresh(fields: Record<string, unknown> = {}, data?: string): Promise<Target> {
    const name = `m-${++counter}`;
    const res = await os(asAdmin, "POST", "/v2/images", {
      disk_format: "raw",
      container_format: "bare",
      ...fields,
      name,
    });
    assert.equal(res.status, 201, res.text);
    if (data) assert.equal((await putData(server, res.body.id, data, { token: tokens.admin! })).status, 204);
    const list = await yc(
      asAdmin,
      "GET",
      `/compute/v1/images?folderId=${A}&filter=${encodeURIComponent(`name="${name}"`)}`,
    );
    assert.equal(list.body.images.length, 1, list.text);
    const t = { uuid: res.body.id as string, id: list.body.images[0].id as string };
    await bindImageOnly(t.id);
    return t;
  }

  /** An image of folder A with data, deleted into its recycle bin (the folder keeps one a day). */
  async function binned(): Promise<Target> {
    const t = await fresh({}, image("raw", 1).path);
    const del = await yc(asAdmin, "DELETE", `/compute/v1/images/${t.id}`);
    assert.equal(del.status, 200, del.text);
    await waitOperation(server, del.body.id);
    return t;
  }

  async function freshBareMetal(): Promise<string> {
    const res = await yc(asAdmin, "POST", "/baremetal/v1alpha/images", {
      folderId: A,
      name: `bm-${++counter}`,
      uri: isoUri,
    });
    assert.equal(res.status, 200, res.text);
    const done = await waitOperation(server, res.body.id);
    assert.ok(done.response, JSON.stringify(done.error));
    return done.response.id;
  }

  before(async () => {
    files = await startFileServer();
    // The matrix sends many bad tokens on purpose; the failed-authentication limit has its own test.
    server = await startServer({
      env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1", VITRINE_AUTH_FAILURE_BURST: "0" },
    });
    isoUri = files.serve("boot.iso", iso("matrix").path);
    for (const [who, folder, role] of [
      ["viewer", A, "viewer"],
      ["editor", A, "editor"],
      ["admin", A, "admin"],
      ["user", A, "compute.images.user"],
      ["otherAdmin", B, "admin"],
    ] as const) {
      subjects[who] = subject(who);
      bind(folder, subjects[who], role);
      tokens[who] = token(subjects[who], "--project", folder);
    }
    subjects.imageOnly = subject("image-only");
    tokens.imageOnly = token(subjects.imageOnly);
    tokens.none = null;
    tokens.bad = "vt1.this-token-was-never-issued";
    subjects.expired = subject("expired");
    bind(A, subjects.expired, "admin");
    tokens.expired = token(subjects.expired, "--project", A, "--ttl", "1s");
    asAdmin.token = tokens.admin;
    const keepsDeleted = await server.request("PATCH", `/vitrine/v1/folders/${A}/recycleBin`, {
      retention: "86400s",
    });
    assert.equal(keepsDeleted.status, 200, keepsDeleted.text);

    target = await fresh({}, image("raw", 1).path);
    const family = await yc(asAdmin, "POST", "/compute/v1/images", {
      folderId: A,
      imageId: target.id,
      family: "matrix",
    });
    assert.equal(family.status, 200, family.text);
    targetOperation = family.body.id;
    await waitOperation(server, targetOperation);
    bmTarget = await freshBareMetal();
    await new Promise((r) => setTimeout(r, 1100)); // the expired token's 1 s
  });
  after(async () => {
    await server?.stop();
    await files?.close();
  });

  const rows: Row[] = [
    // Compute Image API v1
    {
      name: "compute list",
      expect: "401 401 401 200 200 200 200 403 403",
      call: async (c) => (await yc(c, "GET", `/compute/v1/images?folderId=${A}`)).status,
    },
    {
      name: "compute latestByFamily",
      expect: "401 401 401 200 200 200 200 403 403",
      call: async (c) =>
        (await yc(c, "GET", `/compute/v1/images:latestByFamily?folderId=${A}&family=matrix`)).status,
    },
    {
      name: "compute get",
      expect: "401 401 401 200 200 200 200 404 200",
      call: async (c) => (await yc(c, "GET", `/compute/v1/images/${target.id}`)).status,
    },
    {
      name: "compute listOperations",
      expect: "401 401 401 200 200 200 200 404 200",
      call: async (c) => (await yc(c, "GET", `/compute/v1/images/${target.id}/operations`)).status,
    },
    {
      name: "compute listAccessBindings",
      expect: "401 401 401 200 200 200 403 404 200",
      call: async (c) => (await yc(c, "GET", `/compute/v1/images/${target.id}:listAccessBindings`)).status,
    },
    {
      name: "compute create from image",
      expect: "401 401 401 403 200 200 403 403 403",
      call: async (c) =>
        (await yc(c, "POST", "/compute/v1/images", { folderId: A, imageId: target.id })).status,
    },
    {
      name: "compute update",
      expect: "401 401 401 403 200 200 403 404 200",
      call: async (c) => {
        const t = await fresh();
        return (
          await yc(c, "PATCH", `/compute/v1/images/${t.id}`, { updateMask: "description", description: "x" })
        ).status;
      },
    },
    {
      name: "compute delete",
      expect: "401 401 401 403 200 200 403 404 200",
      call: async (c) => (await yc(c, "DELETE", `/compute/v1/images/${(await fresh()).id}`)).status,
    },
    // Image lifecycle (README "Lifecycle"): Compute's :deprecate, the recycle bin, retention rules.
    {
      name: "compute deprecate",
      expect: "401 401 401 403 200 200 403 404 200",
      call: async (c) =>
        (await yc(c, "POST", `/compute/v1/images/${(await fresh()).id}:deprecate`, { state: "DEPRECATED" }))
          .status,
    },
    {
      name: "recycle bin list",
      expect: "401 401 401 200 200 200 200 403 403",
      call: async (c) => (await yc(c, "GET", `/vitrine/v1/recycleBin?folderId=${A}`)).status,
    },
    {
      name: "recycle bin restore",
      expect: "401 401 401 403 200 200 403 404 404",
      call: async (c) =>
        (await yc(c, "POST", `/vitrine/v1/recycleBin/${(await binned()).id}:restore`)).status,
    },
    {
      name: "recycle bin purge",
      expect: "401 401 401 403 200 200 403 404 404",
      call: async (c) => (await yc(c, "DELETE", `/vitrine/v1/recycleBin/${(await binned()).uuid}`)).status,
    },
    {
      name: "a folder's bin retention, read",
      expect: "401 401 401 200 200 200 200 403 403",
      call: async (c) => (await yc(c, "GET", `/vitrine/v1/folders/${A}/recycleBin`)).status,
    },
    {
      name: "a folder's bin retention, set (the service admin's)",
      expect: "401 401 401 403 403 403 403 403 403",
      call: async (c) =>
        (await yc(c, "PATCH", `/vitrine/v1/folders/${A}/recycleBin`, { retention: "3600s" })).status,
    },
    {
      name: "retention rules, list",
      expect: "401 401 401 200 200 200 200 403 403",
      call: async (c) => (await yc(c, "GET", `/vitrine/v1/folders/${A}/retentionRules`)).status,
    },
    {
      name: "retention rules, set",
      expect: "401 401 401 403 200 200 403 403 403",
      call: async (c) =>
        (
          await yc(c, "PUT", `/vitrine/v1/folders/${A}/retentionRules/matrix-${++counter}`, {
            keep: 5,
            action: "DEPRECATE",
          })
        ).status,
    },
    // Conversion (README "Conversion and export"): Compute's :export, a folder's policy.
    {
      // A method of the image: who cannot see it is told it is not there, as for :deprecate.
      name: "compute export",
      expect: "401 401 401 403 200 200 403 404 403",
      call: async (c) =>
        (await yc(c, "POST", `/compute/v1/images/${target.id}:export`, { format: "qcow2", folderId: A }))
          .status,
    },
    {
      name: "a folder's conversion, read",
      expect: "401 401 401 200 200 200 200 403 403",
      call: async (c) => (await yc(c, "GET", `/vitrine/v1/folders/${A}/conversion`)).status,
    },
    {
      name: "a folder's conversion, set (the service admin's)",
      expect: "401 401 401 403 403 403 403 403 403",
      call: async (c) =>
        (await yc(c, "PATCH", `/vitrine/v1/folders/${A}/conversion`, { conversion: { target: "raw" } }))
          .status,
    },
    {
      name: "compute setAccessBindings",
      expect: "401 401 401 403 403 200 403 404 403",
      call: async (c) => {
        const t = await fresh();
        return (
          await yc(c, "POST", `/compute/v1/images/${t.id}:setAccessBindings`, {
            accessBindings: [{ roleId: "viewer", subject: { id: subjects.viewer, type: "userAccount" } }],
          })
        ).status;
      },
    },
    {
      name: "compute updateAccessBindings",
      expect: "401 401 401 403 403 200 403 404 403",
      call: async (c) => {
        const t = await fresh();
        return (
          await yc(c, "POST", `/compute/v1/images/${t.id}:updateAccessBindings`, {
            accessBindingDeltas: [
              {
                action: "ADD",
                accessBinding: { roleId: "viewer", subject: { id: "allAuthenticatedUsers", type: "system" } },
              },
            ],
          })
        ).status;
      },
    },
    // Operation service
    {
      name: "operation get",
      expect: "401 401 401 200 200 200 200 403 403",
      call: async (c) => (await yc(c, "GET", `/operations/${targetOperation}`)).status,
    },
    {
      name: "operation cancel (already done)",
      expect: "401 401 401 403 400 400 403 403 403",
      call: async (c) => (await yc(c, "POST", `/operations/${targetOperation}:cancel`)).status,
    },
    // BareMetal Image API v1alpha
    {
      name: "baremetal list",
      expect: "401 401 401 200 200 200 200 403 403",
      call: async (c) => (await yc(c, "GET", `/baremetal/v1alpha/images?folderId=${A}`)).status,
    },
    {
      name: "baremetal get",
      expect: "401 401 401 200 200 200 200 404 404",
      call: async (c) => (await yc(c, "GET", `/baremetal/v1alpha/images/${bmTarget}`)).status,
    },
    {
      name: "baremetal listOperations",
      expect: "401 401 401 200 200 200 200 404 404",
      call: async (c) => (await yc(c, "GET", `/baremetal/v1alpha/images/${bmTarget}/operations`)).status,
    },
    {
      name: "baremetal create",
      expect: "401 401 401 403 200 200 403 403 403",
      call: async (c) =>
        (
          await yc(c, "POST", "/baremetal/v1alpha/images", {
            folderId: A,
            name: `by-${c.who.toLowerCase()}`,
            uri: isoUri,
          })
        ).status,
    },
    {
      name: "baremetal update",
      expect: "401 401 401 403 200 200 403 404 404",
      call: async (c) => {
        const id = await freshBareMetal();
        return (
          await yc(c, "PATCH", `/baremetal/v1alpha/images/${id}`, {
            updateMask: "description",
            description: "x",
          })
        ).status;
      },
    },
    {
      name: "baremetal delete",
      expect: "401 401 401 403 200 200 403 404 404",
      call: async (c) =>
        (await yc(c, "DELETE", `/baremetal/v1alpha/images/${await freshBareMetal()}`)).status,
    },
    // OpenStack Image API v2
    {
      name: "openstack list",
      expect: "401 401 401 200 200 200 200 200 200",
      call: async (c) => {
        const res = await os(c, "GET", "/v2/images?limit=1000");
        if (res.status === 200 && (c.who === "otherAdmin" || c.who === "imageOnly")) {
          const leaked = res.body.images.filter((i: { owner: string }) => i.owner === A);
          assert.deepEqual(leaked, [], `${c.who} sees folder A's private images in a list`);
        }
        return res.status;
      },
    },
    {
      name: "openstack get",
      expect: "401 401 401 200 200 200 200 404 200",
      call: async (c) => (await os(c, "GET", `/v2/images/${target.uuid}`)).status,
    },
    {
      name: "openstack create",
      expect: "401 401 401 403 201 201 403 201 403",
      call: async (c) => (await os(c, "POST", "/v2/images", { name: "made-by-" + c.who })).status,
    },
    {
      name: "openstack patch",
      expect: "401 401 401 403 200 200 403 404 200",
      call: async (c) =>
        (
          await os(
            c,
            "PATCH",
            `/v2/images/${(await fresh()).uuid}`,
            [{ op: "replace", path: "/name", value: `renamed-by-${c.who}` }],
            PATCH_TYPE,
          )
        ).status,
    },
    {
      name: "openstack delete",
      expect: "401 401 401 403 204 204 403 404 204",
      call: async (c) => (await os(c, "DELETE", `/v2/images/${(await fresh()).uuid}`)).status,
    },
    {
      name: "openstack upload",
      expect: "401 401 401 403 204 204 403 404 204",
      call: async (c) => {
        const t = await fresh();
        const res = await fetch(`${server.url}/v2/images/${t.uuid}/file`, {
          method: "PUT",
          headers: {
            accept: "application/json",
            "content-type": "application/octet-stream",
            ...(c.token !== null ? { "x-auth-token": c.token } : {}),
          },
          body: Buffer.alloc(4096, 7),
        });
        await res.arrayBuffer();
        return res.status;
      },
    },
    {
      name: "openstack download",
      expect: "401 401 401 200 200 200 200 404 200",
      call: async (c) => (await os(c, "GET", `/v2/images/${target.uuid}/file`)).status,
    },
    {
      name: "openstack add tag",
      expect: "401 401 401 403 204 204 403 404 204",
      call: async (c) => (await os(c, "PUT", `/v2/images/${(await fresh()).uuid}/tags/t1`)).status,
    },
    {
      name: "openstack list members",
      expect: "401 401 401 200 200 200 200 404 200",
      call: async (c) => (await os(c, "GET", `/v2/images/${target.uuid}/members`)).status,
    },
    {
      name: "openstack add member",
      expect: "401 401 401 403 200 200 403 404 403",
      call: async (c) => {
        const t = await fresh();
        const share = [{ op: "replace", path: "/visibility", value: "shared" }];
        assert.equal((await os(asAdmin, "PATCH", `/v2/images/${t.uuid}`, share, PATCH_TYPE)).status, 200);
        return (await os(c, "POST", `/v2/images/${t.uuid}/members`, { member: B })).status;
      },
    },
    {
      name: "openstack deactivate (the owning project's editors and admins)",
      expect: "401 401 401 403 204 204 403 404 403",
      call: async (c) => (await os(c, "POST", `/v2/images/${target.uuid}/actions/deactivate`)).status,
    },
  ];

  /**
   * The gRPC column: the Yandex-style rows once more over gRPC, each status read back as the HTTP
   * status the gRPC-HTTP mapping gives it, so both transports answer every caller alike.
   */
  const rpc = async (
    c: Cell,
    method: string,
    request: Record<string, unknown>,
    types: { request: string; response: string },
  ): Promise<number> => {
    const reply = await rawCall(server.grpcAddress, method, request, {
      token: c.token,
      requestType: types.request,
      responseType: types.response,
    });
    return HTTP_OF_GRPC[reply.code] ?? 1000 + reply.code;
  };
  const C = "yandex.cloud.compute.v1";
  const BM = "yandex.cloud.baremetal.v1alpha";
  const OP = "yandex.cloud.operation";
  const computeRpc = (verb: string, request: string, response = `${C}.Image`) => ({
    method: `/${C}.ImageService/${verb}`,
    types: { request: `${C}.${request}`, response },
  });
  const bmRpc = (verb: string, request: string, response = `${BM}.Image`) => ({
    method: `/${BM}.ImageService/${verb}`,
    types: { request: `${BM}.${request}`, response },
  });
  const operationRpc = (verb: string, request: string) => ({
    method: `/${OP}.OperationService/${verb}`,
    types: { request: `${OP}.${request}`, response: `${OP}.Operation` },
  });
  const OPERATION = `${OP}.Operation`;
  const grpcRows: [
    string,
    { method: string; types: { request: string; response: string } },
    (c: Cell) => Promise<Record<string, unknown>>,
  ][] = [
    [
      "compute list",
      computeRpc("List", "ListImagesRequest", `${C}.ListImagesResponse`),
      async () => ({ folderId: A }),
    ],
    [
      "compute latestByFamily",
      computeRpc("GetLatestByFamily", "GetImageLatestByFamilyRequest"),
      async () => ({ folderId: A, family: "matrix" }),
    ],
    ["compute get", computeRpc("Get", "GetImageRequest"), async () => ({ imageId: target.id })],
    [
      "compute listOperations",
      computeRpc("ListOperations", "ListImageOperationsRequest", `${C}.ListImageOperationsResponse`),
      async () => ({ imageId: target.id }),
    ],
    [
      "compute listAccessBindings",
      {
        method: `/${C}.ImageService/ListAccessBindings`,
        types: {
          request: "yandex.cloud.access.ListAccessBindingsRequest",
          response: "yandex.cloud.access.ListAccessBindingsResponse",
        },
      },
      async () => ({ resourceId: target.id }),
    ],
    [
      "compute create from image",
      computeRpc("Create", "CreateImageRequest", OPERATION),
      async () => ({ folderId: A, imageId: target.id }),
    ],
    [
      "compute update",
      computeRpc("Update", "UpdateImageRequest", OPERATION),
      async () => ({ imageId: (await fresh()).id, updateMask: "description", description: "x" }),
    ],
    [
      "compute deprecate",
      computeRpc("Deprecate", "DeprecateImageRequest", OPERATION),
      async () => ({ imageId: (await fresh()).id, state: "DEPRECATED" }),
    ],
    [
      "compute export",
      computeRpc("Export", "ExportImageRequest", OPERATION),
      async () => ({ imageId: target.id, format: "qcow2", folderId: A }),
    ],
    [
      "compute delete",
      computeRpc("Delete", "DeleteImageRequest", OPERATION),
      async () => ({ imageId: (await fresh()).id }),
    ],
    [
      "compute setAccessBindings",
      {
        method: `/${C}.ImageService/SetAccessBindings`,
        types: { request: "yandex.cloud.access.SetAccessBindingsRequest", response: OPERATION },
      },
      async () => ({
        resourceId: (await fresh()).id,
        accessBindings: [{ roleId: "viewer", subject: { id: subjects.viewer, type: "userAccount" } }],
      }),
    ],
    [
      "compute updateAccessBindings",
      {
        method: `/${C}.ImageService/UpdateAccessBindings`,
        types: { request: "yandex.cloud.access.UpdateAccessBindingsRequest", response: OPERATION },
      },
      async () => ({
        resourceId: (await fresh()).id,
        accessBindingDeltas: [
          {
            action: "ADD",
            accessBinding: { roleId: "viewer", subject: { id: "allAuthenticatedUsers", type: "system" } },
          },
        ],
      }),
    ],
    [
      "operation get",
      operationRpc("Get", "GetOperationRequest"),
      async () => ({ operationId: targetOperation }),
    ],
    [
      "operation cancel (already done)",
      operationRpc("Cancel", "CancelOperationRequest"),
      async () => ({ operationId: targetOperation }),
    ],
    [
      "baremetal list",
      bmRpc("List", "ListImagesRequest", `${BM}.ListImagesResponse`),
      async () => ({ folderId: A }),
    ],
    ["baremetal get", bmRpc("Get", "GetImageRequest"), async () => ({ imageId: bmTarget })],
    [
      "baremetal listOperations",
      bmRpc("ListOperations", "ListImageOperationsRequest", `${BM}.ListImageOperationsResponse`),
      async () => ({ imageId: bmTarget }),
    ],
    [
      "baremetal create",
      bmRpc("Create", "CreateImageRequest", OPERATION),
      async (c) => ({ folderId: A, name: `grpc-by-${c.who.toLowerCase()}`, uri: isoUri }),
    ],
    [
      "baremetal update",
      bmRpc("Update", "UpdateImageRequest", OPERATION),
      async () => ({ imageId: await freshBareMetal(), updateMask: "description", description: "x" }),
    ],
    [
      "baremetal delete",
      bmRpc("Delete", "DeleteImageRequest", OPERATION),
      async () => ({ imageId: await freshBareMetal() }),
    ],
  ];
  // Each gRPC row runs right after its REST row, on the same state (later rows change it: the
  // OpenStack deactivate row deactivates the target image).
  for (const [name, { method, types }, request] of grpcRows) {
    const at = rows.findIndex((r) => r.name === name);
    assert.ok(at >= 0, `no REST row named ${name}`);
    rows.splice(at + 1, 0, {
      name: `${name} (gRPC)`,
      expect: rows[at]!.expect,
      call: async (c) => rpc(c, method, await request(c), types),
    });
  }

  /** Each row's time and how many of its calls were refused (401/403): each must have an audit record. */
  const windows: { name: string; start: number; end: number; refused: number }[] = [];
  for (const row of rows) {
    test(row.name, async () => {
      const expected = row.expect.split(" ").map(Number);
      const got: number[] = [];
      await new Promise((r) => setTimeout(r, 5)); // rows' windows apart by a few milliseconds
      const start = Date.now();
      for (const who of WHO) got.push(await row.call({ who, token: tokens[who] }));
      windows.push({
        name: row.name,
        start,
        end: Date.now(),
        refused: got.filter((s) => s === 401 || s === 403).length,
      });
      const show = (statuses: number[]) => WHO.map((w, i) => `${w}=${statuses[i]}`).join(" ");
      assert.equal(show(got), show(expected));
    });
  }

  test('every refusal in the matrix has one audit record (README "Events and audit")', async () => {
    const since = new Date(windows[0]!.start).toISOString();
    const denied: { time: string; action: string }[] = [];
    await new Promise((r) => setTimeout(r, 500)); // the trail writes the catalog every 250 ms
    for (let token = ""; ;) {
      const page = await server.request(
        "GET",
        `/vitrine/v1/audit?since=${since}&decision=denied&pageSize=1000${token ? `&pageToken=${token}` : ""}`,
      );
      assert.equal(page.status, 200, page.text);
      denied.push(...page.body.records);
      if (!page.body.nextPageToken) break;
      token = page.body.nextPageToken;
    }
    const counted = windows.map((w) => {
      // A record's time is when its request arrived, to the millisecond on the server's clock.
      const records = denied.filter(
        (r) => Date.parse(r.time) >= w.start - 1 && Date.parse(r.time) <= w.end + 1,
      );
      return `${w.name}: ${records.length}`;
    });
    assert.deepEqual(
      counted,
      windows.map((w) => `${w.name}: ${w.refused}`),
    );
    assert.equal(
      denied.length,
      windows.reduce((n, w) => n + w.refused, 0),
    );
  });
});
