import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import protobuf from "protobufjs";
import { codecFor, protoRoot } from "../../src/api/grpc/codec.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image } from "../helpers/fixtures.js";
import { rawCall } from "../helpers/grpc.js";
import { projectToken } from "../helpers/openstack.js";
import { type RunningServer, startServer, waitOperation } from "../helpers/server.js";
import { seededRandom } from "../helpers/seeded-random.js";

const C = "yandex.cloud.compute.v1";
const BM = "yandex.cloud.baremetal.v1alpha";
const OP = "yandex.cloud.operation";

/** gRPC codes by name, for readable assertions. */
const CODE = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNAUTHENTICATED: 16,
};

/**
 * The gRPC listener below the SDK, with the project's definitions: fields the SDK release lacks,
 * error details and metadata, and the input no SDK sends (no credentials, undecodable or
 * oversized messages, empty and oversized fields, random values) — never INTERNAL.
 */
/** The request type of a Compute ImageService method, by its definition. */
function requestTypeOf(method: string): string {
  return protoRoot()
    .lookupService(`${C}.ImageService`)
    .methods[method]!.resolvedRequestType!.fullName.slice(1);
}

describe("gRPC transport: wire details, errors and bad input", () => {
  let server: RunningServer;
  let files: FileServer;
  let imageId = "";
  let operationId = "";

  const call = (
    service: string,
    method: string,
    request: Record<string, unknown> | Buffer,
    types: { request: string; response: string },
    opts: { token?: string | null; metadata?: Record<string, string> } = {},
  ) =>
    rawCall(server.grpcAddress, `/${service}/${method}`, request, {
      token: opts.token === undefined ? server.token : opts.token,
      metadata: opts.metadata,
      requestType: types.request,
      responseType: types.response,
    });
  const computeCall = (
    method: string,
    request: Record<string, unknown> | Buffer,
    response = `${C}.Image`,
    opts = {},
  ) => call(`${C}.ImageService`, method, request, { request: requestTypeOf(method), response }, opts);

  before(async () => {
    files = await startFileServer();
    server = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    const created = await server.request("POST", "/compute/v1/images", {
      folderId: "wire",
      name: "wire",
      uri: files.serve("wire.qcow2", image("qcow2", 8).path),
    });
    operationId = created.body.id;
    imageId = (await waitOperation(server, operationId)).response.id;
  });
  after(async () => {
    await server?.stop();
    await files?.close();
  });

  test("an Image carries field 16 (size) and every field REST shows, with the same values", async () => {
    const reply = await computeCall("Get", { imageId });
    assert.equal(reply.code, CODE.OK, reply.message);
    const rest = (await server.request("GET", `/compute/v1/images/${imageId}`)).body;
    assert.equal(reply.response!.size, rest.size);
    assert.equal(reply.response!.storageSize, rest.storageSize);
    // Field 16 on the wire, whatever a client's generated code knows.
    const bytes = codecFor(`${C}.Image`).encode(reply.response!);
    const reader = protobuf.Reader.create(bytes);
    const fields = new Set<number>();
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      fields.add(tag >>> 3);
      reader.skipType(tag & 7);
    }
    assert.ok(fields.has(16), `fields on the wire: ${[...fields].join(",")}`);
    assert.deepEqual(
      reply.response,
      rest,
      `gRPC ${JSON.stringify(reply.response)}\nREST ${JSON.stringify(rest)}`,
    );
  });

  test('Vitrine\'s Deprecate (README "Lifecycle"): the deprecation over gRPC is the one REST shows', async () => {
    const obsoleteAt = "2031-01-01T00:00:00Z";
    const reply = await computeCall(
      "Deprecate",
      { imageId, state: "DEPRECATED", obsoleteAt },
      `${OP}.Operation`,
    );
    assert.equal(reply.code, CODE.OK, reply.message);
    assert.equal(reply.response!.done, true);
    const got = await computeCall("Get", { imageId });
    assert.deepEqual(got.response!.deprecated, { state: "DEPRECATED", obsoleteAt });
    const rest = (await server.request("GET", `/compute/v1/images/${imageId}`)).body;
    assert.deepEqual(got.response, rest);
    const bad = await computeCall(
      "Deprecate",
      { imageId, state: "DEPRECATED", replacement: "nosuchimage000000000" },
      `${OP}.Operation`,
    );
    assert.equal(bad.code, CODE.INVALID_ARGUMENT, bad.message);
    const back = await computeCall("Deprecate", { imageId, state: "ACTIVE" }, `${OP}.Operation`);
    assert.equal(back.code, CODE.OK, back.message);
    assert.equal((await computeCall("Get", { imageId })).response!.deprecated, undefined);
  });

  test('Vitrine\'s Export (README "Conversion and export"): a converted copy, as over REST; a bad format is INVALID_ARGUMENT', async () => {
    const reply = await computeCall(
      "Export",
      { imageId, format: "vhd", name: "wire-vhd", folderId: "wire-copies" },
      `${OP}.Operation`,
    );
    assert.equal(reply.code, CODE.OK, reply.message);
    const done = await waitOperation(server, String(reply.response!.id), 60_000);
    assert.equal(done.error, undefined, JSON.stringify(done.error));
    assert.equal(done.response.name, "wire-vhd");
    const copy = (await server.request("GET", `/v2/images/${done.response.id}`)).body;
    assert.equal(copy.disk_format, "vhd");
    const bad = await computeCall("Export", { imageId, format: "iso" }, `${OP}.Operation`);
    assert.equal(bad.code, CODE.INVALID_ARGUMENT, bad.message);
    assert.match(bad.message, /format/);
  });

  test("errors: the code, google.rpc.Status with BadRequest and RequestInfo, and the ids in the initial metadata", async () => {
    const reply = await computeCall(
      "Create",
      { folderId: "wire", name: "Bad Name", description: "x".repeat(300), uri: "http://127.0.0.1/x" },
      `${OP}.Operation`,
    );
    assert.equal(reply.code, CODE.INVALID_ARGUMENT);
    assert.match(reply.message, /^Request validation error: name/);
    const details = (reply.status!.details as Record<string, unknown>[]) ?? [];
    const badRequest = details.find((d) => String(d["@type"]).endsWith("google.rpc.BadRequest"));
    const info = details.find((d) => String(d["@type"]).endsWith("google.rpc.RequestInfo"));
    assert.deepEqual((badRequest!.fieldViolations as { field: string }[]).map((v) => v.field).sort(), [
      "description",
      "name",
    ]);
    const requestId = reply.headers!.get("x-request-id")[0];
    assert.equal(info!.requestId, requestId, "the request id in the details is the one in the headers");
    assert.match(String(reply.headers!.get("x-server-trace-id")[0]), /^[0-9a-f-]{36}$/);
    assert.equal(reply.status!.code, CODE.INVALID_ARGUMENT);
  });

  test("a quota refusal: RESOURCE_EXHAUSTED with a google.rpc.QuotaFailure naming the quota", async () => {
    const set = await server.request("PATCH", "/vitrine/v1/quotas/wire-quota", {
      limits: { image_count_total: 0 },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const reply = await computeCall(
      "Create",
      { folderId: "wire-quota", name: "over", uri: files.serve("quota.qcow2", image("qcow2", 8).path) },
      `${OP}.Operation`,
    );
    assert.equal(reply.code, CODE.RESOURCE_EXHAUSTED, reply.message);
    const details = (reply.status!.details as Record<string, unknown>[]) ?? [];
    const failure = details.find((d) => String(d["@type"]).endsWith("google.rpc.QuotaFailure"));
    const violations = failure!.violations as { subject: string; description: string }[];
    assert.equal(violations[0]!.subject, "image_count_total:wire-quota");
    assert.match(violations[0]!.description, /the limit is 0/);
  });

  test("credentials: none, a bad token and another folder's user get UNAUTHENTICATED and PERMISSION_DENIED", async () => {
    const none = await computeCall("List", { folderId: "wire" }, `${C}.ListImagesResponse`, { token: null });
    assert.equal(none.code, CODE.UNAUTHENTICATED);
    const bad = await computeCall("List", { folderId: "wire" }, `${C}.ListImagesResponse`, {
      token: "vt1.nope",
    });
    assert.equal(bad.code, CODE.UNAUTHENTICATED);
    const other = projectToken(server, "elsewhere");
    const denied = await computeCall("List", { folderId: "wire" }, `${C}.ListImagesResponse`, {
      token: other,
    });
    assert.equal(denied.code, CODE.PERMISSION_DENIED, denied.message);
    // An image bound to allUsers is readable without credentials, as over REST.
    const bind = await server.request("POST", `/compute/v1/images/${imageId}:updateAccessBindings`, {
      accessBindingDeltas: [
        { action: "ADD", accessBinding: { roleId: "viewer", subject: { id: "allUsers", type: "system" } } },
      ],
    });
    await waitOperation(server, bind.body.id);
    const anonymous = await computeCall("Get", { imageId }, `${C}.Image`, { token: null });
    assert.equal(anonymous.code, CODE.OK, anonymous.message);
    const anonymousList = await computeCall("List", { folderId: "wire" }, `${C}.ListImagesResponse`, {
      token: null,
    });
    assert.equal(anonymousList.code, CODE.UNAUTHENTICATED);
  });

  test("bad messages: undecodable bytes, over the size limit, empty and oversized fields, bad masks and page sizes", async () => {
    const undecodable = await computeCall("Get", Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]));
    assert.equal(undecodable.code, CODE.INVALID_ARGUMENT, undecodable.message);
    const huge = await computeCall(
      "Create",
      { folderId: "wire", description: "x".repeat(2 * 1024 * 1024) },
      `${OP}.Operation`,
    );
    assert.equal(huge.code, CODE.RESOURCE_EXHAUSTED, huge.message);
    const cases: [string, Record<string, unknown>, string, string][] = [
      ["Get", {}, `${C}.Image`, "imageId"],
      ["Get", { imageId: "x".repeat(51) }, `${C}.Image`, "imageId"],
      ["List", {}, `${C}.ListImagesResponse`, "folderId"],
      ["List", { folderId: "wire", pageSize: "5000" }, `${C}.ListImagesResponse`, "pageSize"],
      ["List", { folderId: "wire", filter: "name =" }, `${C}.ListImagesResponse`, "filter"],
      ["Update", { imageId, updateMask: "nope", name: "x" }, `${OP}.Operation`, "updateMask"],
      ["Create", { folderId: "wire" }, `${OP}.Operation`, "source"],
      [
        "UpdateAccessBindings",
        { resourceId: imageId, accessBindingDeltas: [{ action: "ADD" }] },
        `${OP}.Operation`,
        "accessBindingDeltas[0]",
      ],
      ["UpdateAccessBindings", { resourceId: imageId }, `${OP}.Operation`, "accessBindingDeltas"],
    ];
    for (const [method, request, response, field] of cases) {
      const reply = await computeCall(method, request, response);
      assert.equal(
        reply.code,
        CODE.INVALID_ARGUMENT,
        `${method} ${JSON.stringify(request)}: ${reply.code} ${reply.message}`,
      );
      const violations = ((reply.status!.details as Record<string, unknown>[]).find((d) =>
        String(d["@type"]).endsWith("BadRequest"),
      )?.fieldViolations ?? []) as { field: string }[];
      assert.ok(
        violations.some((v) => v.field.startsWith(field)),
        `${method}: ${field} among ${JSON.stringify(violations)} (${reply.message})`,
      );
    }
    const missing = await call(
      `${OP}.OperationService`,
      "Get",
      { operationId: "x".repeat(20) },
      {
        request: `${OP}.GetOperationRequest`,
        response: `${OP}.Operation`,
      },
    );
    assert.equal(missing.code, CODE.NOT_FOUND);
  });

  test("unknown fields are ignored, as protobuf does; an idempotency key replays the operation", async () => {
    const known = codecFor(`${C}.ListImagesRequest`).encode({ folderId: "wire" });
    const unknownField = Buffer.from([0xf8, 0x06, 0x01]); // field 111, varint 1
    const reply = await computeCall("List", Buffer.concat([known, unknownField]), `${C}.ListImagesResponse`);
    assert.equal(reply.code, CODE.OK, reply.message);
    assert.equal((reply.response!.images as unknown[]).length, 1);

    const request = { folderId: "wire", imageId, name: "replayed" };
    const key = { "idempotency-key": "4b1f3a0e-8f2e-4e7c-9d1b-3a6f0c2e5d71" };
    const first = await computeCall("Create", request, `${OP}.Operation`, { metadata: key });
    const second = await computeCall("Create", request, `${OP}.Operation`, { metadata: key });
    assert.equal(first.code, CODE.OK, first.message);
    assert.equal(second.response!.id, first.response!.id);
  });

  test("a seeded fuzz over every RPC: random values of each field's type never get INTERNAL or UNKNOWN", async () => {
    const seed = 20261201;
    const random = seededRandom(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const strings = [
      "",
      " ",
      "x".repeat(300),
      "__proto__",
      "constructor",
      "a/b",
      "%00",
      "\u0000",
      "ё",
      imageId,
      operationId,
      "wire",
      "READY",
      'name = "x"',
      "createdAt desc",
      "id,name",
    ];
    const services = [`${C}.ImageService`, `${BM}.ImageService`, `${OP}.OperationService`];
    let calls = 0;
    for (const name of services) {
      const service = protoRoot().lookupService(name);
      for (const rpc of service.methodsArray) {
        for (let i = 0; i < 25; i++) {
          const type = rpc.resolvedRequestType!;
          const reply = await call(name, rpc.name, randomMessage(type, random, pick, strings, 0), {
            request: type.fullName.slice(1),
            response: rpc.resolvedResponseType!.fullName.slice(1),
          });
          calls++;
          assert.ok(
            ![2, 13].includes(reply.code),
            `seed ${seed}: ${name}/${rpc.name} → ${reply.code} ${reply.message}`,
          );
        }
      }
    }
    assert.ok(calls >= 400, `${calls} calls`);
  });
});

/** A message of `type` with random values of each field's type (some fields left out). */
function randomMessage(
  type: protobuf.Type,
  random: () => number,
  pick: <T>(xs: readonly T[]) => T,
  strings: string[],
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    if (random() < 0.3) continue;
    const one = (): unknown => {
      const nested = field.resolvedType;
      if (nested instanceof protobuf.Type) {
        if (nested.fullName === ".google.protobuf.FieldMask")
          return pick(["", "name", "nope", "name,labels", "minDiskSize"]);
        if (nested.fullName === ".google.protobuf.Timestamp") return "2026-01-01T00:00:00Z";
        return depth > 3 ? {} : randomMessage(nested, random, pick, strings, depth + 1);
      }
      if (nested instanceof protobuf.Enum) return pick(Object.keys(nested.values));
      if (field.type === "bool") return random() < 0.5;
      if (field.type === "int64")
        return pick(["0", "1", "-1", "1000", "1001", "4194304", "9223372036854775807"]);
      if (field.type === "int32") return pick([0, 1, -1, 2147483647]);
      return pick(strings);
    };
    out[field.name] = field.map
      ? Object.fromEntries(
          Array.from({ length: Math.floor(random() * 3) }, () => [
            pick(strings) || "k",
            String(pick(strings)),
          ]),
        )
      : field.repeated
        ? Array.from({ length: Math.floor(random() * 3) }, one)
        : one();
  }
  return out;
}
