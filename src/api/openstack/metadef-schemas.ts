/**
 * The metadata-definition documents, as JSON schemas: served at /v2/schemas/metadefs/{name}
 * (clients such as Horizon read them) and used to validate what clients send, so what we say and
 * what we enforce cannot drift apart. `readOnly` fields are the service's; a client may send them
 * back (a document it read) and they are ignored.
 */

const TIMESTAMPS = {
  created_at: { type: "string", readOnly: true, description: "When it was created", format: "date-time" },
  updated_at: { type: "string", readOnly: true, description: "When it last changed", format: "date-time" },
} as const;

const LINKS = [
  { rel: "first", href: "{first}" },
  { rel: "next", href: "{next}" },
  { rel: "describedby", href: "{schema}" },
];

const PROPERTY_TYPES = ["array", "boolean", "integer", "number", "object", "string", null];

const NON_NEGATIVE = { type: "integer", minimum: 0 } as const;

/** A property definition: a JSON schema for one value of a resource's property. */
const PROPERTY_FIELDS = {
  name: {
    type: "string",
    maxLength: 80,
    description: "The property's name (without any resource type prefix)",
  },
  title: { type: "string", description: "A label for people" },
  description: { type: "string", description: "What the property means and does" },
  operators: {
    type: "array",
    description: "Operators a value may carry (e.g. `<or>`) for services that match on it",
    items: { type: "string" },
  },
  type: { type: ["string", "null"], enum: PROPERTY_TYPES, description: "The JSON type of the value" },
  default: { description: "The value when none is given" },
  readonly: { type: "boolean", description: "Set by a service, not by users" },
  minimum: { type: "number" },
  maximum: { type: "number" },
  minLength: NON_NEGATIVE,
  maxLength: NON_NEGATIVE,
  pattern: { type: "string", format: "regex" },
  enum: { type: "array", description: "The values allowed" },
  items: {
    type: "object",
    description: "For arrays: what each item must be",
    properties: {
      type: { type: "string", enum: PROPERTY_TYPES.filter((t) => t !== null) },
      enum: { type: "array" },
    },
    additionalProperties: false,
  },
  minItems: NON_NEGATIVE,
  maxItems: NON_NEGATIVE,
  uniqueItems: { type: "boolean", default: false },
  additionalItems: { type: "boolean" },
} as const;

const PROPERTY_DEFINITION = {
  type: "object",
  required: ["title", "type"],
  properties: PROPERTY_FIELDS,
  additionalProperties: false,
} as const;

const PROPERTY_MAP = {
  type: "object",
  description: "Property definitions by name",
  additionalProperties: PROPERTY_DEFINITION,
} as const;

const OBJECT_FIELDS = {
  name: { type: "string", maxLength: 80, description: "The object's name, unique in its namespace" },
  description: { type: "string", description: "What the object groups" },
  required: { type: "array", items: { type: "string" }, description: "Properties that must be set together" },
  properties: PROPERTY_MAP,
  schema: { type: "string", readOnly: true },
  self: { type: "string", readOnly: true },
  ...TIMESTAMPS,
} as const;

const TAG_FIELDS = {
  name: { type: "string", maxLength: 255, description: "The tag, unique in its namespace" },
  ...TIMESTAMPS,
} as const;

const ASSOCIATION_FIELDS = {
  name: {
    type: "string",
    maxLength: 80,
    description: "The resource type, e.g. OS::Glance::Image, OS::Cinder::Volume, OS::Nova::Flavor",
  },
  prefix: {
    type: "string",
    maxLength: 80,
    description: "What the namespace's property names are prefixed with on this resource type (e.g. hw_)",
  },
  properties_target: {
    type: "string",
    maxLength: 80,
    description:
      "Which of the resource's property sets the properties go to (e.g. a volume's image metadata)",
  },
  ...TIMESTAMPS,
} as const;

export const METADEF_SCHEMAS = {
  namespace: {
    name: "namespace",
    type: "object",
    required: ["namespace"],
    properties: {
      namespace: { type: "string", maxLength: 80, description: "The namespace's unique name" },
      display_name: { type: "string", maxLength: 80, description: "A name for people" },
      description: { type: "string", maxLength: 500, description: "What the namespace describes" },
      visibility: {
        type: "string",
        enum: ["public", "private"],
        description: "public: seen by every project; private: by its owner's (default)",
      },
      protected: { type: "boolean", description: "A protected namespace cannot be deleted" },
      owner: { type: "string", maxLength: 255, description: "The project that owns it" },
      schema: { type: "string", readOnly: true },
      self: { type: "string", readOnly: true },
      resource_type_associations: {
        type: "array",
        items: {
          type: "object",
          required: ["name"],
          properties: ASSOCIATION_FIELDS,
          additionalProperties: false,
        },
      },
      properties: PROPERTY_MAP,
      objects: {
        type: "array",
        items: { type: "object", required: ["name"], properties: OBJECT_FIELDS, additionalProperties: false },
      },
      tags: {
        type: "array",
        items: { type: "object", required: ["name"], properties: TAG_FIELDS, additionalProperties: false },
      },
      ...TIMESTAMPS,
    },
    additionalProperties: false,
  },
  object: {
    name: "object",
    type: "object",
    required: ["name"],
    properties: OBJECT_FIELDS,
    additionalProperties: false,
  },
  property: {
    name: "property",
    type: "object",
    required: ["name", "title", "type"],
    properties: PROPERTY_FIELDS,
    additionalProperties: false,
  },
  tag: {
    name: "tag",
    type: "object",
    required: ["name"],
    properties: TAG_FIELDS,
    additionalProperties: false,
  },
  resource_type: {
    name: "resource_type_association",
    type: "object",
    required: ["name"],
    properties: ASSOCIATION_FIELDS,
    additionalProperties: false,
  },
} as const;

function collection(name: string, member: keyof typeof METADEF_SCHEMAS, asMap = false) {
  const item = METADEF_SCHEMAS[member];
  return {
    name,
    type: "object",
    properties: {
      [name]: asMap
        ? { type: "object", additionalProperties: PROPERTY_DEFINITION }
        : { type: "array", items: item },
      first: { type: "string" },
      next: { type: "string" },
      schema: { type: "string" },
    },
    links: LINKS,
  };
}

/** Every document under /v2/schemas/metadefs/, by the name in its path. */
export const METADEF_SCHEMA_DOCUMENTS: Record<string, object> = {
  namespace: METADEF_SCHEMAS.namespace,
  namespaces: collection("namespaces", "namespace"),
  object: METADEF_SCHEMAS.object,
  objects: collection("objects", "object"),
  property: METADEF_SCHEMAS.property,
  properties: collection("properties", "property", true),
  tag: METADEF_SCHEMAS.tag,
  tags: collection("tags", "tag"),
  resource_type: METADEF_SCHEMAS.resource_type,
  resource_types: {
    name: "resource_type_associations",
    type: "object",
    properties: {
      resource_type_associations: { type: "array", items: METADEF_SCHEMAS.resource_type },
    },
    links: LINKS,
  },
};
