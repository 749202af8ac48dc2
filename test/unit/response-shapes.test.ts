import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import Fastify from "fastify";
import protobuf from "protobufjs";
import { protoRoot } from "../../src/api/grpc/codec.js";
import { answers, useResponseShapes } from "../../src/api/http/response-shapes.js";
import { RESPONSES } from "../../src/api/yandex/responses.js";

type Schema = Record<string, any>;

const INT64 = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);
const INT32 = new Set(["int32", "uint32", "sint32", "fixed32", "sfixed32"]);

/**
 * Compares a declared proto3 JSON shape with the proto message it stands for: the same fields by
 * JSON name, each of the JSON type protojson gives it, nothing more. Returns the differences.
 */
function differences(schema: Schema, type: protobuf.Type, path: string): string[] {
  const found: string[] = [];
  if (schema.type !== "object" || schema.additionalProperties !== false) {
    return [`${path}: must be an object that allows no other fields`];
  }
  const declared: Record<string, Schema> = schema.properties ?? {};
  for (const name of Object.keys(declared)) {
    if (name !== "@type" && !type.fields[name])
      found.push(`${path}.${name}: not a field of ${type.fullName}`);
  }
  for (const field of type.fieldsArray) {
    const shape = declared[field.name];
    if (!shape) found.push(`${path}.${field.name}: field of ${type.fullName} not declared`);
    else found.push(...fieldDifferences(shape, field, `${path}.${field.name}`));
  }
  return found;
}

function fieldDifferences(shape: Schema, field: protobuf.Field, path: string): string[] {
  if (field instanceof protobuf.MapField) {
    if (shape.type !== "object" || !shape.patternProperties) return [`${path}: a map must be a record`];
    const [value] = Object.values(shape.patternProperties) as Schema[];
    return valueDifferences(value!, field.type, field.resolvedType, `${path}{}`);
  }
  if (field.repeated) {
    if (shape.type !== "array") return [`${path}: repeated field must be an array`];
    return valueDifferences(shape.items, field.type, field.resolvedType, `${path}[]`);
  }
  return valueDifferences(shape, field.type, field.resolvedType, path);
}

function valueDifferences(
  shape: Schema,
  typeName: string,
  resolved: protobuf.Type | protobuf.Enum | null,
  path: string,
): string[] {
  if (resolved instanceof protobuf.Enum) {
    const names: unknown[] = (shape.anyOf ?? [shape]).map((s: Schema) => s.const);
    const unknown = names.filter((n) => typeof n !== "string" || !(n in resolved.values));
    return unknown.length ? [`${path}: ${unknown.join(", ")} not values of ${resolved.fullName}`] : [];
  }
  if (resolved instanceof protobuf.Type) {
    const name = resolved.fullName.slice(1);
    if (name === "google.protobuf.Timestamp")
      return shape.type === "string" ? [] : [`${path}: Timestamp is a string`];
    if (name === "google.protobuf.Any") return anyDifferences(shape, path);
    return differences(shape, resolved, path);
  }
  const json =
    INT64.has(typeName) || typeName === "string" || typeName === "bytes"
      ? "string"
      : typeName === "bool"
        ? "boolean"
        : INT32.has(typeName)
          ? "integer"
          : "number";
  const ok = shape.type === json || (json === "number" && shape.type === "integer");
  return ok ? [] : [`${path}: ${typeName} is ${json} in proto3 JSON, declared ${String(shape.type)}`];
}

/** google.protobuf.Any: each message it may hold is declared with its "@type", and checked against that type. */
function anyDifferences(shape: Schema, path: string): string[] {
  const members: Schema[] = shape.anyOf ?? [shape];
  return members.flatMap((member) => {
    const typeUrl: unknown = member.properties?.["@type"]?.const;
    if (typeof typeUrl !== "string") return [`${path}: an Any must name its @type`];
    const name = typeUrl.replace("type.googleapis.com/", "");
    const type = protoRoot().lookupType(name);
    if (name.startsWith("google.protobuf.")) {
      // Well-known types travel under "value".
      const keys = Object.keys(member.properties).sort();
      return keys.join() === "@type,value" ? [] : [`${path}<${name}>: a well-known type travels under value`];
    }
    return differences(member, type, `${path}<${name}>`);
  });
}

describe("declared response shapes", () => {
  it("every RPC of every served service declares its answer", () => {
    for (const [service, methods] of Object.entries(RESPONSES)) {
      const rpcs = protoRoot()
        .lookupService(service)
        .methodsArray.map((m) => m.name);
      assert.deepEqual(Object.keys(methods).sort(), [...rpcs].sort(), service);
    }
  });

  it("match the proto messages gRPC sends, field by field (REST and gRPC cannot drift apart)", () => {
    const found: string[] = [];
    for (const [service, methods] of Object.entries(RESPONSES)) {
      for (const rpc of protoRoot().lookupService(service).methodsArray) {
        const shape = (methods as Record<string, Schema>)[rpc.name]!;
        found.push(...differences(shape, rpc.resolvedResponseType!, `${service}.${rpc.name}`));
      }
    }
    assert.deepEqual(found, []);
  });

  it("the comparison finds a field gRPC would drop and a type it would refuse", () => {
    const image = protoRoot().lookupType("yandex.cloud.baremetal.v1alpha.Image");
    const shape = RESPONSES["yandex.cloud.baremetal.v1alpha.ImageService"].Get as Schema;
    const extra = { ...shape, properties: { ...shape.properties, size: Type.String() } };
    assert.match(differences(extra, image, "Image").join(), /size: not a field/);
    const wrong = { ...shape, properties: { ...shape.properties, createdAt: Type.Integer() } };
    assert.match(differences(wrong, image, "Image").join(), /createdAt: Timestamp is a string/);
    const { checksum: _checksum, ...fewer } = shape.properties;
    assert.match(
      differences({ ...shape, properties: fewer }, image, "Image").join(),
      /checksum: field .* not declared/,
    );
  });
});

describe("checking answers against their declared shapes", () => {
  const Shape = Type.Object({ name: Type.String() }, { additionalProperties: false });

  async function appWith(check: boolean, answer: unknown) {
    const app = Fastify();
    useResponseShapes(app, check);
    app.get("/thing", { schema: { response: answers({ 200: Shape }) } }, async () => answer);
    await app.ready();
    return app;
  }

  it("fails an answer that leaves its shape, naming the route and the field", async () => {
    const app = await appWith(true, { name: "a", extra: 1 });
    const res = await app.inject({ method: "GET", url: "/thing" });
    assert.equal(res.statusCode, 500);
    assert.match(
      res.json().message,
      /GET \/thing does not match its declared shape: \/ must NOT have additional properties/,
    );
    const good = await appWith(true, { name: "a" });
    assert.equal((await good.inject({ method: "GET", url: "/thing" })).body, '{"name":"a"}');
  });

  it("never changes an answer when off (the declaration describes, it does not filter)", async () => {
    const app = await appWith(false, { name: "a", extra: 1 });
    assert.equal((await app.inject({ method: "GET", url: "/thing" })).body, '{"name":"a","extra":1}');
  });

  it("refuses a route that declares nothing, unless it says why its body is not JSON", async () => {
    const app = Fastify();
    useResponseShapes(app, true);
    app.get("/bytes", { config: { bodyNotJson: "a stream" } }, async () => "x");
    assert.throws(
      () => app.get("/undeclared", async () => ({})),
      /GET \/undeclared declares no response shape/,
    );
  });
});
