import { type TSchema, Type } from "@sinclair/typebox";
import { METADEF_SCHEMA_DOCUMENTS } from "./metadef-schemas.js";
import { IMAGES_SCHEMA, IMAGE_SCHEMA, MEMBERS_SCHEMA, MEMBER_SCHEMA } from "./schemas.js";
import { TASK_SCHEMA, TASKS_SCHEMA } from "./task-schemas.js";

/**
 * What the OpenStack routes answer. Images, members, tasks and metadefs are declared by the very
 * schemas served under /v2/schemas (glanceclient validates what it reads against them), so an
 * answer that leaves its served schema fails the tests; the rest are Glance's discovery and info
 * documents, in TypeBox.
 */
const Link = Type.Object({ rel: Type.String(), href: Type.String() }, { additionalProperties: false });
const Version = Type.Object(
  {
    id: Type.String({ pattern: "^v2\\.[0-9]+$" }),
    status: Type.Union([Type.Literal("CURRENT"), Type.Literal("SUPPORTED")]),
    links: Type.Array(Link),
  },
  { additionalProperties: false },
);
const Store = Type.Object(
  { id: Type.String(), default: Type.Optional(Type.Literal("true")) },
  { additionalProperties: false },
);
const StoreDetail = Type.Object(
  {
    id: Type.String(),
    default: Type.Boolean(),
    type: Type.String(),
    weight: Type.Integer(),
    properties: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);

/** A JSON schema document as /v2/schemas serves it: named, with properties. */
const SchemaDocument = Type.Object(
  { name: Type.String(), properties: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: true },
);

const metadef = (name: string): unknown => {
  const schema = METADEF_SCHEMA_DOCUMENTS[name];
  if (!schema) throw new Error(`no metadef schema ${name}`);
  return schema;
};

const Permission = Type.Object(
  { allowed: Type.Boolean(), reason: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export const OPENSTACK_ANSWERS = {
  imageActions: Type.Object(
    {
      actions: Type.Object(
        Object.fromEntries(
          ["update", "delete", "share", "addMembers", "deactivate", "reactivate", "download", "use"].map(
            (name) => [name, Permission],
          ),
        ),
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
  versions: Type.Object({ versions: Type.Array(Version) }, { additionalProperties: false }),
  version: Type.Object({ version: Version }, { additionalProperties: false }),
  schema: SchemaDocument,
  importInfo: Type.Object(
    {
      "import-methods": Type.Object(
        { description: Type.String(), type: Type.Literal("array"), value: Type.Array(Type.String()) },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
  stores: Type.Object({ stores: Type.Array(Store) }, { additionalProperties: false }),
  storesDetail: Type.Object({ stores: Type.Array(StoreDetail) }, { additionalProperties: false }),
  usage: Type.Object(
    {
      usage: Type.Record(
        Type.String(),
        Type.Object({ limit: Type.Integer(), usage: Type.Integer() }, { additionalProperties: false }),
      ),
    },
    { additionalProperties: false },
  ),
  image: IMAGE_SCHEMA,
  images: IMAGES_SCHEMA,
  member: MEMBER_SCHEMA,
  members: MEMBERS_SCHEMA,
  locations: Type.Array(
    Type.Object(
      { url: Type.String(), metadata: Type.Record(Type.String(), Type.Unknown()) },
      { additionalProperties: false },
    ),
  ),
  cache: Type.Object(
    {
      cached_images: Type.Array(
        Type.Object(
          {
            image_id: Type.String(),
            hits: Type.Integer(),
            last_accessed: Type.Number(),
            last_modified: Type.Number(),
            size: Type.Integer(),
          },
          { additionalProperties: false },
        ),
      ),
      queued_images: Type.Array(Type.String()),
    },
    { additionalProperties: false },
  ),
  task: TASK_SCHEMA,
  tasks: TASKS_SCHEMA,
  imageTasks: Type.Object(
    { tasks: Type.Array(TASK_SCHEMA as unknown as TSchema) },
    { additionalProperties: false },
  ),
  namespace: metadef("namespace"),
  namespaces: metadef("namespaces"),
  object: metadef("object"),
  objects: metadef("objects"),
  property: metadef("property"),
  properties: metadef("properties"),
  tag: metadef("tag"),
  tags: metadef("tags"),
  association: metadef("resource_type"),
  associations: metadef("resource_types"),
  resourceTypes: Type.Object(
    {
      resource_types: Type.Array(
        Type.Object(
          { name: Type.String(), created_at: Type.String(), updated_at: Type.String() },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
};
