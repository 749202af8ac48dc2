import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

/**
 * Messages on the wire ↔ the proto3 JSON documents the REST dialects read and write. A gRPC
 * request is decoded into the same document a REST body would be (camelCase names, int64 and
 * enums as strings, Timestamps as RFC 3339, FieldMasks as "a,b"), handed to the same methods, and
 * their JSON answer is encoded back: one set of rules and renderers for both transports.
 */

/** The project's own protocol definitions (proto/, beside src/ and dist/). */
export const PROTO_DIR = fileURLToPath(new URL("../../../proto/", import.meta.url));

const FILES = [
  "yandex/cloud/compute/v1/image_service.proto",
  "yandex/cloud/baremetal/v1alpha/image_service.proto",
  "yandex/cloud/operation/operation_service.proto",
  "google/rpc/error_details.proto",
  // Delete's response type, named by the Any it travels in.
  "google/protobuf/empty.proto",
];

const JSON_FORM: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, json: true };

/** The calls a wrapper's converters are bound to: the type's generated converters. */
type Converters = protobuf.Type & {
  fromObject(object: Record<string, unknown>): protobuf.Message;
  toObject(message: protobuf.Message, options?: protobuf.IConversionOptions): Record<string, unknown>;
};

// Timestamps read as RFC 3339 strings (nanoseconds kept) and FieldMasks as one comma-separated
// string of camelCase paths, as protojson renders them (writing goes through objectForm below).
protobuf.wrappers[".google.protobuf.Timestamp"] = {
  fromObject(this: Converters, object: Record<string, unknown>) {
    return this.fromObject(object);
  },
  toObject(this: Converters, message: protobuf.Message, options?: protobuf.IConversionOptions) {
    if (!options?.json) return this.toObject(message, options);
    const { seconds = 0, nanos = 0 } = message as unknown as { seconds?: number | string; nanos?: number };
    const iso = new Date(Number(seconds) * 1000).toISOString().replace(/\.000Z$/, "Z");
    // protojson's digits: 0, 3, 6 or 9 (as REST renders, e.g. ".310Z" for 310 ms).
    const digits = String(nanos).padStart(9, "0");
    const fraction = !nanos ? "" : `.${digits.slice(0, nanos % 1e6 === 0 ? 3 : nanos % 1e3 === 0 ? 6 : 9)}`;
    return (fraction ? iso.replace(/Z$/, `${fraction}Z`) : iso) as unknown as Record<string, unknown>;
  },
} as protobuf.IWrapper;

const camel = (path: string): string => path.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
protobuf.wrappers[".google.protobuf.FieldMask"] = {
  fromObject(this: Converters, object: Record<string, unknown>) {
    return this.fromObject(object);
  },
  toObject(this: Converters, message: protobuf.Message, options?: protobuf.IConversionOptions) {
    if (!options?.json) return this.toObject(message, options);
    const { paths = [] } = message as unknown as { paths?: string[] };
    return paths.map(camel).join(",") as unknown as Record<string, unknown>;
  },
} as protobuf.IWrapper;

let root: protobuf.Root | null = null;

/** The definitions, loaded once. */
export function protoRoot(): protobuf.Root {
  if (root) return root;
  const loaded = new protobuf.Root();
  // Imports name files from proto/'s root; google/protobuf/* come with protobufjs.
  loaded.resolvePath = (_origin, target) => (target.startsWith("/") ? target : `${PROTO_DIR}${target}`);
  loaded.loadSync(FILES, { keepCase: false });
  loaded.resolveAll();
  root = loaded;
  return root;
}

export interface MessageCodec {
  /** Wire bytes → the message as a proto3 JSON document. */
  decode(bytes: Buffer): Record<string, unknown>;
  /** A proto3 JSON document → wire bytes (fields the message lacks are left out). */
  encode(document: Record<string, unknown>): Buffer;
}

export function codecFor(typeName: string): MessageCodec {
  const type = protoRoot().lookupType(typeName);
  return {
    decode: (bytes) => type.toObject(type.decode(bytes), JSON_FORM),
    encode: (document) => Buffer.from(type.encode(type.fromObject(objectForm(type, document))).finish()),
  };
}

/**
 * protobufjs's converters take a nested message only as an object; the JSON forms of Timestamp
 * and FieldMask are strings. This turns them into their object forms wherever `type` has them
 * (in nested messages, repeated fields, map values and the messages Any fields carry).
 */
function objectForm(type: protobuf.Type, document: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...document };
  if (type.fullName === ".google.protobuf.Any") {
    const url = document["@type"];
    const inner = typeof url === "string" ? type.lookup(url.slice(url.lastIndexOf("/") + 1)) : null;
    return inner instanceof protobuf.Type ? { ...objectForm(inner, document), "@type": url } : out;
  }
  for (const field of messageFields(type)) {
    const value = out[field.name];
    const nested = field.resolvedType as protobuf.Type;
    if (value === undefined || value === null) continue;
    const convert = (v: unknown) => messageObject(nested, v);
    if (field.map) {
      out[field.name] = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, convert(v)]));
    } else if (field.repeated && Array.isArray(value)) {
      out[field.name] = value.map(convert);
    } else {
      out[field.name] = convert(value);
    }
  }
  return out;
}

/** A type's fields that hold messages, found once per type (a list converts a hundred images). */
const messageFieldsOf = new WeakMap<protobuf.Type, protobuf.Field[]>();

function messageFields(type: protobuf.Type): protobuf.Field[] {
  let fields = messageFieldsOf.get(type);
  if (!fields) {
    fields = type.fieldsArray.filter((f) => f.resolvedType instanceof protobuf.Type);
    messageFieldsOf.set(type, fields);
  }
  return fields;
}

function messageObject(type: protobuf.Type, value: unknown): unknown {
  if (typeof value === "string") {
    if (type.fullName === ".google.protobuf.Timestamp") return parseTimestamp(value);
    if (type.fullName === ".google.protobuf.FieldMask") return { paths: value.split(",").filter(Boolean) };
  }
  return typeof value === "object" && value !== null
    ? objectForm(type, value as Record<string, unknown>)
    : value;
}

function parseTimestamp(text: string): { seconds: number; nanos: number } {
  const m = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new TypeError(`invalid timestamp ${text}`);
  return { seconds: Math.floor(ms / 1000), nanos: Number((m[2] ?? "").padEnd(9, "0")) };
}
