import { Ajv, type ValidateFunction } from "ajv";
import type { FastifyRequest } from "fastify";
import type { NamespaceInput } from "../../core/metadefs/namespaces.js";
import { objectBody, requireMediaType } from "./conventions.js";
import { METADEF_SCHEMAS } from "./metadef-schemas.js";
import { assertMatchesSchema } from "./validation.js";

/** Metadata definition documents as requests bring them: checked against their served schemas. */

// Formats (date-time, regex) describe; the service neither needs nor trusts them.
const ajv = new Ajv({ strict: false, validateFormats: false });
const validators = Object.fromEntries(
  Object.entries(METADEF_SCHEMAS).map(([key, schema]) => [key, ajv.compile(schema)]),
) as Record<keyof typeof METADEF_SCHEMAS, ValidateFunction>;

/** Fields the service sets on every document; sent back by a client, they are ignored. */
const SERVICE_FIELDS = ["created_at", "updated_at", "schema", "self"];

/** A document read from a JSON request body and checked against its schema. */
export function metadefDocument(
  req: FastifyRequest,
  schema: keyof typeof METADEF_SCHEMAS,
): Record<string, unknown> {
  requireMediaType(req, ["application/json"]);
  const doc = objectBody(req.body);
  assertMatchesSchema(METADEF_SCHEMAS[schema].name, validators[schema], doc);
  return doc;
}

/** An entry's stored body: its document without its name and the service's fields. */
export function bodyOf(doc: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(doc).filter(([k]) => k !== "name" && !SERVICE_FIELDS.includes(k)));
}

/** A namespace document as the core takes it. */
export function namespaceInput(doc: Record<string, unknown>): NamespaceInput {
  return {
    namespace: doc.namespace as string,
    displayName: (doc.display_name as string | undefined) ?? null,
    description: (doc.description as string | undefined) ?? null,
    visibility: doc.visibility as NamespaceInput["visibility"],
    protected: doc.protected as boolean | undefined,
    owner: doc.owner as string | undefined,
  };
}
