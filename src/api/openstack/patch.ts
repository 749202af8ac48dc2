import jsonpatch from "fast-json-patch";
import { VitrineError, invalidArgument } from "../../core/errors.js";
import type { Image } from "../../core/image.js";
import type { ImageFields } from "../../core/image-change.js";
import { GIB } from "../../core/image-sizes.js";
import { DERIVED_OS_FIELDS, osFacts } from "./extension-fields.js";
import { WRITABLE_BASE_ATTRIBUTES } from "./schemas.js";
import { assertMatchesImageSchema, assertWritable } from "./validation.js";

type BaseAttribute = (typeof WRITABLE_BASE_ATTRIBUTES)[number];
const isBase = (name: string): name is BaseAttribute =>
  (WRITABLE_BASE_ATTRIBUTES as readonly string[]).includes(name);

type Op = { op: "add" | "replace" | "remove"; path: string; value?: unknown };

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
    if (!/^\/[^/]+$/.test(path)) throw invalidArgument(`Invalid JSON pointer for this resource: '${path}'`);
    if (op !== "remove" && !("value" in o))
      throw invalidArgument(`Operation "${op}" requires a member named "value".`);
    return op === "remove" ? { op, path } : { op, path, value: o.value };
  });
}

/**
 * Applies the operations to the image's patchable view (base attributes + custom properties)
 * with a JSON-Patch library, Glance's rules on top: read-only and reserved attributes are 403,
 * base attributes cannot be removed, replacing or removing a missing property is 409, and the
 * result must match the image schema. A changed __os_version re-derives its OS fields unless
 * the same patch sets them.
 */
export function applyPatch(image: Image, ops: Op[]): Partial<ImageFields> {
  const doc: Record<string, unknown> = { ...image.properties, ...baseView(image) };
  const touched = new Set<string>();
  for (const op of ops) {
    const name = jsonpatch.unescapePathComponent(op.path.slice(1));
    assertWritable(name, { allowId: false });
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
    if (op.op !== "add" && !(name in doc)) {
      throw new VitrineError("FAILED_PRECONDITION", `Property ${name} does not exist.`).because(
        "STATUS_CONFLICT",
      );
    }
    jsonpatch.applyOperation(
      doc,
      { ...op, path: `/${jsonpatch.escapePathComponent(name)}` } as never,
      false,
      true,
    );
    touched.add(name);
  }
  if (touched.has("__os_version") && typeof doc.__os_version === "string") {
    const facts = osFacts(doc.__os_version);
    for (const f of DERIVED_OS_FIELDS) if (!touched.has(f)) doc[f] = facts[f];
  }
  assertMatchesImageSchema(doc);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc)) if (!isBase(k)) properties[k] = v as string;
  const patch: Partial<ImageFields> = { properties };
  // Only what the patch names changes: a Compute image's byte-exact minDiskSize survives a rename.
  if (touched.has("name")) patch.name = (doc.name as string | null) ?? "";
  if (touched.has("visibility")) patch.visibility = doc.visibility as Image["visibility"];
  if (touched.has("protected")) patch.protected = doc.protected as boolean;
  if (touched.has("os_hidden")) patch.osHidden = doc.os_hidden as boolean;
  if (touched.has("tags")) patch.tags = [...new Set(doc.tags as string[])];
  if (touched.has("container_format")) patch.containerFormat = doc.container_format as string | null;
  if (touched.has("disk_format")) patch.diskFormat = doc.disk_format as string | null;
  if (touched.has("min_ram")) patch.minRam = doc.min_ram as number;
  if (touched.has("min_disk")) patch.minDiskSize = (doc.min_disk as number) * GIB;
  return patch;
}

function baseView(image: Image): Record<BaseAttribute, unknown> {
  return {
    name: image.name === "" ? null : image.name,
    visibility: image.visibility,
    protected: image.protected,
    os_hidden: image.osHidden,
    tags: image.tags,
    container_format: image.containerFormat,
    disk_format: image.diskFormat,
    min_ram: image.minRam,
    min_disk: Math.ceil(image.minDiskSize / GIB),
  };
}
