import jsonpatch from "fast-json-patch";
import { VitrineError, invalidArgument } from "../../core/errors.js";
import type { ImageChange } from "../../core/image-change.js";
import { GIB } from "../../core/image-sizes.js";
import type { DeprecationInput } from "../../core/lifecycle/deprecate-image.js";
import {
  DEPRECATION_FIELDS,
  DERIVED_OS_FIELDS,
  EXTENSION_FIELDS,
  SYSTEM_EXTENSION_FIELDS,
  osFacts,
} from "./extension-fields.js";
import { WRITABLE_BASE_ATTRIBUTES } from "./schemas.js";
import { assertMatchesImageSchema, assertWritable } from "./validation.js";

type BaseAttribute = (typeof WRITABLE_BASE_ATTRIBUTES)[number];
const isBase = (name: string): name is BaseAttribute =>
  (WRITABLE_BASE_ATTRIBUTES as readonly string[]).includes(name);

type Op = { op: "add" | "replace" | "remove"; path: string; value?: unknown };

const EXTENSIONS = new Set<string>(EXTENSION_FIELDS);
const SYSTEM = new Set<string>(SYSTEM_EXTENSION_FIELDS);
const nameOf = (op: Op): string => jsonpatch.unescapePathComponent(op.path.slice(1));

export const touchesExtensionField = (op: Op): boolean => EXTENSIONS.has(nameOf(op));

const isLocationPath = (path: string): boolean => /^\/locations(\/(-|\d+))?$/.test(path);
export const isLocationOp = (op: Op): boolean => isLocationPath(op.path);

/** A location operation as the core takes it (Glance's forms: add /locations/-, replace /locations, remove /locations/N). */
export type LocationOp =
  | {
      op: "add";
      url: string;
      metadata: Record<string, unknown>;
      validation: { md5?: string; sha512?: string } | null;
    }
  | { op: "replace"; locations: { url: string; metadata: Record<string, unknown> }[] }
  | { op: "remove"; index: number };

export function locationOp(op: Op): LocationOp {
  const tail = op.path.slice("/locations".length);
  if (op.op === "remove" && /^\/\d+$/.test(tail)) return { op: "remove", index: Number(tail.slice(1)) };
  if (op.op === "replace" && tail === "") {
    if (!Array.isArray(op.value)) throw invalidArgument("replace /locations takes a list of locations.");
    return { op: "replace", locations: op.value.map(locationValue) };
  }
  if (op.op === "add" && (tail === "/-" || /^\/\d+$/.test(tail))) {
    const { url, metadata } = locationValue(op.value);
    const raw = (op.value as Record<string, unknown>).validation_data;
    return { op: "add", url, metadata, validation: raw === undefined ? null : validationData(raw) };
  }
  throw invalidArgument(`Invalid location operation: ${op.op} ${op.path}`);
}

function locationValue(value: unknown): { url: string; metadata: Record<string, unknown> } {
  const v = value as Record<string, unknown> | null;
  if (typeof v !== "object" || v === null || typeof v.url !== "string" || v.url.length > 2048) {
    throw invalidArgument("A location is an object with a url (a string) and metadata (an object).");
  }
  const metadata = v.metadata ?? {};
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw invalidArgument("A location's metadata must be an object.");
  }
  return { url: v.url, metadata: metadata as Record<string, unknown> };
}

/** Glance's validation_data: checksum (MD5) and os_hash_value, whose algorithm must be sha512 here. */
function validationData(raw: unknown): { md5?: string; sha512?: string } {
  const v = raw as Record<string, unknown> | null;
  if (typeof v !== "object" || v === null) throw invalidArgument("validation_data must be an object.");
  if (v.os_hash_algo !== undefined && v.os_hash_algo !== "sha512") {
    throw invalidArgument("validation_data: os_hash_algo must be sha512 (the algorithm this service uses).");
  }
  const text = (x: unknown, name: string) => {
    if (x === undefined) return undefined;
    if (typeof x !== "string") throw invalidArgument(`validation_data: ${name} must be a string.`);
    return x.toLowerCase();
  };
  const md5 = text(v.checksum, "checksum");
  const sha512 = text(v.os_hash_value, "os_hash_value");
  return { ...(md5 ? { md5 } : {}), ...(sha512 ? { sha512 } : {}) };
}

/**
 * Whether an operation on an extension field changes nothing, judged against the image as the
 * caller sees it (`shown`). Every extension field always has a value, so removing one is a no-op
 * (openstacksdk's update_image sends a remove for every property it was not given); setting a
 * server-computed one to the value it has is a no-op too (a client sending back what it read).
 */
export function isExtensionNoop(op: Op, shown: Record<string, unknown>): boolean {
  const name = nameOf(op);
  if (!EXTENSIONS.has(name)) return false;
  return op.op === "remove" || (SYSTEM.has(name) && op.value === shown[name]);
}

/**
 * Reads a patch body in either media type: v2.1 is RFC 6902 (`{op, path, value}`); v2.0 names
 * the op as the key (`{"replace": "/name", "value": ...}`). Only add, remove and replace exist,
 * and only on top-level attributes (`/name`, `/tags`, `/my_property`).
 */
export function parsePatch(body: unknown, mediaType: string): Op[] {
  if (!Array.isArray(body)) {
    throw invalidArgument("Request body must be a JSON array of operation objects.");
  }
  return body.map((raw: unknown) => {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw invalidArgument("Operations must be JSON objects.");
    }
    const o = raw as Record<string, unknown>;
    let op: unknown;
    let path: unknown;
    if (mediaType.endsWith("v2.0-json-patch")) {
      op = ["add", "remove", "replace"].find((k) => k in o);
      path = op ? o[op as string] : undefined;
      if (!op)
        throw invalidArgument('Operation objects must contain exactly one of "add", "remove", "replace".');
    } else {
      op = o.op;
      path = o.path;
    }
    if (op !== "add" && op !== "remove" && op !== "replace") {
      throw invalidArgument(
        `Invalid operation: \`${String(op)}\`. It must be one of the following: add, remove, replace.`,
      );
    }
    if (typeof path !== "string") throw invalidArgument("Unable to find `path` in the operation.");
    // Locations (`/locations`, `/locations/-`, `/locations/N`) are the locations route's.
    if (!/^\/[^/]+$/.test(path) && !isLocationPath(path))
      throw invalidArgument(`Invalid JSON pointer for this resource: '${path}'`);
    if (op !== "remove" && !("value" in o))
      throw invalidArgument(`Operation "${op}" requires a member named "value".`);
    return op === "remove" ? { op, path } : { op, path, value: o.value };
  });
}

/**
 * Turns the operations into the change they declare, Glance's rules on top: read-only and
 * reserved attributes are 403, base attributes cannot be removed, replacing or removing a
 * property that does not exist is 409 (the core checks that against the image as stored), and
 * every value set must match the image schema. A changed __os_version re-derives its OS fields
 * unless the same patch sets them. Operations apply in order: a property added and then
 * replaced or removed by the same patch needs no earlier existence.
 */
export function patchToChange(ops: Op[]): ImageChange {
  let owner: string | null = null;
  const values: Record<string, unknown> = {};
  const removed = new Set<string>();
  const mustExist = new Set<string>();
  const touched = new Set<string>();
  let deprecation: DeprecationInput | undefined;
  for (const op of ops) {
    const name = jsonpatch.unescapePathComponent(op.path.slice(1));
    assertWritable(name, { allowId: false });
    if (DEPRECATION.has(name)) {
      if (op.op !== "remove") deprecation = { ...deprecation, ...deprecationField(name, op.value) };
      continue;
    }
    if (name === "owner" && op.op !== "remove") {
      // An admin may give an image to another project (the core checks who asks).
      if (typeof op.value !== "string" || op.value.length === 0 || op.value.length > 255) {
        throw invalidArgument(
          "Provided object does not match schema 'image': owner must be a string of 1 to 255 characters",
        );
      }
      owner = op.value;
      continue;
    }
    if (name === "owner" || name === "id") {
      throw new VitrineError("PERMISSION_DENIED", `Attribute '${name}' is read-only.`).because(
        "READ_ONLY_ATTRIBUTE",
      );
    }
    if (op.op === "remove" && isBase(name)) {
      throw new VitrineError(
        "PERMISSION_DENIED",
        `Attribute '${name}' is a base attribute and cannot be removed.`,
      ).because("READ_ONLY_ATTRIBUTE");
    }
    touched.add(name);
    // Extension fields always exist (stored, derived or computed): nothing to check.
    if (!isBase(name) && !EXTENSIONS.has(name) && op.op !== "add" && !Object.hasOwn(values, name)) {
      if (removed.has(name)) {
        throw new VitrineError("FAILED_PRECONDITION", `Property ${name} does not exist.`).because(
          "PROPERTY_MISSING",
          {
            name,
          },
        );
      }
      mustExist.add(name);
    }
    if (op.op === "remove") {
      delete values[name];
      removed.add(name);
    } else {
      values[name] = op.value;
      removed.delete(name);
    }
  }
  if (typeof values.__os_version === "string") {
    const facts = osFacts(values.__os_version);
    for (const f of DERIVED_OS_FIELDS) if (!touched.has(f)) values[f] = facts[f];
  }
  assertMatchesImageSchema(values);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (!isBase(k) && typeof v === "string") properties[k] = v;
  // Only what the patch names changes: a Compute image's byte-exact minDiskSize survives a rename.
  const set: ImageChange["set"] = {};
  if (touched.has("name")) set.name = values.name ?? "";
  if (values.visibility !== undefined) set.visibility = values.visibility;
  if (values.protected !== undefined) set.protected = values.protected;
  if (values.os_hidden !== undefined) set.osHidden = values.os_hidden;
  if (values.tags !== undefined) set.tags = [...new Set(values.tags)];
  if (touched.has("container_format")) set.containerFormat = values.container_format ?? null;
  if (touched.has("disk_format")) set.diskFormat = values.disk_format ?? null;
  if (values.min_ram !== undefined) set.minRam = values.min_ram;
  if (values.min_disk !== undefined) set.minDiskSize = values.min_disk * GIB;
  if (owner !== null) set.folderId = owner;
  return {
    set,
    properties: { set: properties, remove: [...removed], mustExist: [...mustExist] },
    ...(deprecation ? { deprecation } : {}),
  };
}

const DEPRECATION = new Set<string>(DEPRECATION_FIELDS);
const STATES = ["ACTIVE", "DEPRECATED", "OBSOLETE"] as const;

/** One deprecation property as the core's deprecation change (an empty time clears it). */
function deprecationField(name: string, value: unknown): DeprecationInput {
  const bad = (what: string) =>
    invalidArgument(`Provided object does not match schema 'image': ${name} ${what}`);
  if (typeof value !== "string") throw bad("must be a string");
  if (name === "deprecation_state") {
    const state = STATES.find((s) => s === value.toUpperCase());
    if (!state) throw bad(`must be one of ${STATES.join(", ")}`);
    return { state };
  }
  if (name === "deprecation_replacement") return { replacement: value === "" ? null : { uuid: value } };
  const at = value === "" ? null : Date.parse(value);
  if (at !== null && (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}T/.test(value))) {
    throw bad("must be an ISO 8601 time such as 2027-01-31T00:00:00Z, or empty");
  }
  if (name === "deprecation_deprecate_at") return { deprecateAt: at };
  if (name === "deprecation_obsolete_at") return { obsoleteAt: at };
  return { deleteAt: at };
}
