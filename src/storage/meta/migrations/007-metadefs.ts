import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { STANDARD_METADEFS } from "../../../core/metadefs/standard-definitions.js";

// Metadata definitions (OpenStack's /v2/metadefs): namespaces; their objects, properties and tags
// as named entries with a JSON body; resource types and which namespaces apply to them. The
// standard definitions are loaded once, here: an operator who deletes one keeps it deleted.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("metadef_namespaces")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("namespace", "text", (c) => c.notNull().unique())
    .addColumn("display_name", "text")
    .addColumn("description", "text")
    .addColumn("visibility", "text", (c) => c.notNull())
    .addColumn("protected", "integer", (c) => c.notNull())
    .addColumn("owner", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("metadef_namespaces_created")
    .on("metadef_namespaces")
    .columns(["created_at", "namespace"])
    .execute();

  await db.schema
    .createTable("metadef_entries")
    .addColumn("namespace_id", "text", (c) =>
      c.notNull().references("metadef_namespaces.id").onDelete("cascade"),
    )
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("metadef_entries_pk", ["namespace_id", "kind", "name"])
    .execute();

  await db.schema
    .createTable("metadef_resource_types")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("protected", "integer", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("metadef_associations")
    .addColumn("namespace_id", "text", (c) =>
      c.notNull().references("metadef_namespaces.id").onDelete("cascade"),
    )
    .addColumn("resource_type", "text", (c) => c.notNull().references("metadef_resource_types.name"))
    .addColumn("prefix", "text")
    .addColumn("properties_target", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("metadef_associations_pk", ["namespace_id", "resource_type"])
    .execute();
  await db.schema
    .createIndex("metadef_associations_type")
    .on("metadef_associations")
    .columns(["resource_type", "namespace_id"])
    .execute();

  await loadStandardDefinitions(db as Kysely<StandardTables>);
}

interface StandardTables {
  metadef_namespaces: {
    id: string;
    namespace: string;
    display_name: string;
    description: string;
    visibility: string;
    protected: number;
    owner: null;
    created_at: number;
    updated_at: number;
  };
  metadef_entries: {
    namespace_id: string;
    kind: string;
    name: string;
    body: string;
    created_at: number;
    updated_at: number;
  };
  metadef_resource_types: { name: string; protected: number; created_at: number; updated_at: number };
  metadef_associations: {
    namespace_id: string;
    resource_type: string;
    prefix: string | null;
    properties_target: string | null;
    created_at: number;
    updated_at: number;
  };
}

async function loadStandardDefinitions(db: Kysely<StandardTables>): Promise<void> {
  const now = Date.now();
  const stamp = { created_at: now, updated_at: now };
  await db
    .insertInto("metadef_resource_types")
    .values(STANDARD_METADEFS.resourceTypes.map((name) => ({ name, protected: 1, ...stamp })))
    .execute();
  for (const ns of STANDARD_METADEFS.namespaces) {
    const id = randomUUID();
    await db
      .insertInto("metadef_namespaces")
      .values({
        id,
        namespace: ns.namespace,
        display_name: ns.display_name,
        description: ns.description,
        visibility: "public",
        protected: 1,
        owner: null,
        ...stamp,
      })
      .execute();
    for (const a of ns.resource_type_associations) {
      await db
        .insertInto("metadef_associations")
        .values({
          namespace_id: id,
          resource_type: a.name,
          prefix: a.prefix ?? null,
          properties_target: a.properties_target ?? null,
          ...stamp,
        })
        .execute();
    }
    const entries = [
      ...Object.entries(ns.properties ?? {}).map(([name, body]) => ({ kind: "property", name, body })),
      ...(ns.objects ?? []).map(({ name, ...body }) => ({ kind: "object", name, body })),
    ];
    if (entries.length === 0) continue;
    await db
      .insertInto("metadef_entries")
      .values(
        entries.map((e) => ({
          namespace_id: id,
          kind: e.kind,
          name: e.name,
          body: JSON.stringify(e.body),
          ...stamp,
        })),
      )
      .execute();
  }
}
