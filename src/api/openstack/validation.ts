import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { invalidArgument, permissionDenied } from "../../core/errors.js";
import { ORIGINAL_PROPERTIES } from "../../core/conversion/convert-data.js";
import { SYSTEM_EXTENSION_FIELDS } from "./extension-fields.js";
import { IMAGE_SCHEMA, type ImageDocument, READ_ONLY_ATTRIBUTES } from "./schemas.js";

const ajv = new Ajv({ strict: false, allErrors: false });
const validateImage = ajv.compile({ type: "object", ...IMAGE_SCHEMA });

const READ_ONLY = new Set<string>([...READ_ONLY_ATTRIBUTES, ...SYSTEM_EXTENSION_FIELDS]);
const RECORDED = new Set<string>(Object.values(ORIGINAL_PROPERTIES));

/** Refuses attributes a client may not set: the service's own (403 read-only), os_glance_* and the recorded original of converted data (403 reserved). */
export function assertWritable(attribute: string, { allowId }: { allowId: boolean }): void {
  assertPlainName(attribute);
  if (READ_ONLY.has(attribute) || (attribute === "id" && !allowId)) {
    throw permissionDenied(`Attribute '${attribute}' is read-only.`).because("READ_ONLY_ATTRIBUTE");
  }
  // What the service recorded of converted data's original (README "Conversion and export") is
  // kept as true as Glance keeps its os_glance_* properties.
  if (attribute.startsWith("os_glance") || RECORDED.has(attribute)) {
    throw permissionDenied(`Attribute '${attribute}' is reserved.`).because("RESERVED_ATTRIBUTE");
  }
}

/** Names that would reach the prototype of the objects properties live in; no image needs them. */
const PROTOTYPE_NAMES = new Set(["__proto__", "constructor", "prototype"]);

function assertPlainName(name: string): void {
  if (PROTOTYPE_NAMES.has(name)) throw invalidArgument(`Property name '${name}' is not allowed.`);
}

/** Validates an image document (a create body, or an image after a patch) against the image schema. */
export function assertMatchesImageSchema(doc: Record<string, unknown>): asserts doc is ImageDocument {
  for (const key of Object.keys(doc)) {
    assertPlainName(key);
    if (key.length > 255) {
      throw invalidArgument(
        `Provided object does not match schema 'image': property name ${key.slice(0, 40)}... is too long`,
      );
    }
  }
  assertMatchesSchema("image", validateImage, doc);
}

/** Refuses a document its schema does not accept, in Glance's words, naming the first problem. */
export function assertMatchesSchema(
  schemaName: string,
  validate: ValidateFunction,
  doc: Record<string, unknown>,
): void {
  if (validate(doc)) return;
  const e = validate.errors![0]!;
  throw invalidArgument(`Provided object does not match schema '${schemaName}': ${describe(e, doc)}`, [
    { field: fieldOf(e) || "body", description: e.message ?? "is invalid" },
  ]);
}

function fieldOf(e: ErrorObject): string {
  return e.instancePath
    .split("/")
    .filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join("");
}

function describe(e: ErrorObject, doc: Record<string, unknown>): string {
  const field = fieldOf(e);
  const value = JSON.stringify(
    e.instancePath
      .split("/")
      .filter(Boolean)
      .reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], doc),
  );
  switch (e.keyword) {
    case "enum":
      return `${field}: ${value} is not one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "type":
      return `${field}: ${value} is not of type ${JSON.stringify(e.params.type)}`;
    case "maxLength":
      return `${field}: ${value} is too long (at most ${String(e.params.limit)} characters)`;
    case "minLength":
      return `${field}: ${value} is too short (at least ${String(e.params.limit)} character)`;
    case "maximum":
    case "minimum":
      return `${field}: ${value} is out of range (${e.message ?? ""})`;
    case "required":
      return `'${String(e.params.missingProperty)}' is a required property${field ? ` of ${field}` : ""}`;
    case "additionalProperties":
      return `Additional properties are not allowed ('${String(e.params.additionalProperty)}' was unexpected)${field ? ` in ${field}` : ""}`;
    default:
      return `${field || "body"}: ${e.message ?? "is invalid"}`;
  }
}
