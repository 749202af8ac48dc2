import { alreadyExists } from "../../core/errors.js";
import type {
  EntryKind,
  MetadefEntry,
  MetadefNamespace,
  NamespaceVisibility,
  MetadefResourceType,
  ResourceTypeAssociation,
} from "../../core/metadefs/metadef.js";
import type { MetadefStore, NamespaceListQuery } from "../../core/ports/catalog.js";
import { type Db, isUniqueViolation } from "./database.js";
import type { MetadefEntriesTable, MetadefNamespacesTable, MetadefResourceTypesTable } from "./schema.js";

function toNamespace(row: MetadefNamespacesTable): MetadefNamespace {
  return {
    id: row.id,
    namespace: row.namespace,
    displayName: row.display_name,
    description: row.description,
    visibility: row.visibility as NamespaceVisibility,
    protected: Number(row.protected) === 1,
    owner: row.owner,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function namespaceRow(ns: MetadefNamespace): MetadefNamespacesTable {
  return {
    id: ns.id,
    namespace: ns.namespace,
    display_name: ns.displayName,
    description: ns.description,
    visibility: ns.visibility,
    protected: ns.protected ? 1 : 0,
    owner: ns.owner,
    created_at: ns.createdAt,
    updated_at: ns.updatedAt,
  };
}

function toResourceType(row: MetadefResourceTypesTable): MetadefResourceType {
  return {
    name: row.name,
    protected: Number(row.protected) === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toEntry(row: MetadefEntriesTable): MetadefEntry {
  return {
    kind: row.kind as EntryKind,
    name: row.name,
    body: JSON.parse(row.body) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Runs a write; a unique-index violation becomes ALREADY_EXISTS with `message`. */
async function unique<T>(message: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err)) throw alreadyExists(message);
    throw err;
  }
}

const SORT_COLUMNS = { created_at: "created_at", updated_at: "updated_at", namespace: "namespace" } as const;

export class SqlMetadefStore implements MetadefStore {
  constructor(private readonly db: Db) {}

  async insertNamespace(ns: MetadefNamespace): Promise<void> {
    await unique(`Metadata definition namespace=${ns.namespace} already exists.`, () =>
      this.db.insertInto("metadef_namespaces").values(namespaceRow(ns)).execute(),
    );
  }

  async findNamespace(name: string): Promise<MetadefNamespace | null> {
    const row = await this.db
      .selectFrom("metadef_namespaces")
      .selectAll()
      .where("namespace", "=", name)
      .executeTakeFirst();
    return row ? toNamespace(row) : null;
  }

  async listNamespaces(q: NamespaceListQuery): Promise<MetadefNamespace[]> {
    const column = SORT_COLUMNS[q.sortKey];
    const ascending = q.sortDir === "asc";
    let query = this.db.selectFrom("metadef_namespaces").selectAll();
    if (!q.viewer.isAdmin) {
      query = query.where((eb) =>
        eb.or([eb("visibility", "=", "public"), eb("owner", "=", q.viewer.projectId)]),
      );
    }
    if (q.visibility) query = query.where("visibility", "=", q.visibility);
    if (q.resourceTypes) {
      const types = q.resourceTypes;
      query = query.where("id", "in", (eb) =>
        eb.selectFrom("metadef_associations").select("namespace_id").where("resource_type", "in", types),
      );
    }
    if (q.after) {
      const after = namespaceRow(q.after);
      const value = after[column];
      // Names are unique: (sort value, name) orders every namespace.
      query = query.where((eb) =>
        eb.or([
          eb(column, ascending ? ">" : "<", value),
          eb.and([eb(column, "=", value), eb("namespace", ascending ? ">" : "<", after.namespace)]),
        ]),
      );
    }
    const dir = ascending ? "asc" : "desc";
    const rows = await query
      .orderBy(column, dir)
      .orderBy("namespace", dir)
      .limit(q.limit + 1)
      .execute();
    return rows.map(toNamespace);
  }

  async updateNamespace(next: MetadefNamespace): Promise<void> {
    const { id, ...row } = namespaceRow(next);
    await unique(
      `Invalid update. It would result in a duplicate metadata definition namespace with the same name of ${next.namespace}`,
      () => this.db.updateTable("metadef_namespaces").set(row).where("id", "=", id).execute(),
    );
  }

  async deleteNamespace(id: string): Promise<void> {
    // Foreign keys cascade, but explicit deletes keep it independent of the connection's pragma.
    await this.db.deleteFrom("metadef_entries").where("namespace_id", "=", id).execute();
    await this.db.deleteFrom("metadef_associations").where("namespace_id", "=", id).execute();
    await this.db.deleteFrom("metadef_namespaces").where("id", "=", id).execute();
  }

  async listEntries(namespaceId: string, kind: EntryKind): Promise<MetadefEntry[]> {
    const rows = await this.db
      .selectFrom("metadef_entries")
      .selectAll()
      .where("namespace_id", "=", namespaceId)
      .where("kind", "=", kind)
      .orderBy("created_at")
      .orderBy("name")
      .execute();
    return rows.map(toEntry);
  }

  async findEntry(namespaceId: string, kind: EntryKind, name: string): Promise<MetadefEntry | null> {
    const row = await this.db
      .selectFrom("metadef_entries")
      .selectAll()
      .where("namespace_id", "=", namespaceId)
      .where("kind", "=", kind)
      .where("name", "=", name)
      .executeTakeFirst();
    return row ? toEntry(row) : null;
  }

  async countEntries(namespaceId: string, kind: EntryKind): Promise<number> {
    const row = await this.db
      .selectFrom("metadef_entries")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("namespace_id", "=", namespaceId)
      .where("kind", "=", kind)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async insertEntry(namespaceId: string, entry: MetadefEntry): Promise<void> {
    await unique(duplicateEntry(entry), () =>
      this.db
        .insertInto("metadef_entries")
        .values({
          namespace_id: namespaceId,
          kind: entry.kind,
          name: entry.name,
          body: JSON.stringify(entry.body),
          created_at: entry.createdAt,
          updated_at: entry.updatedAt,
        })
        .execute(),
    );
  }

  async updateEntry(namespaceId: string, name: string, entry: MetadefEntry): Promise<void> {
    await unique(duplicateEntry(entry), () =>
      this.db
        .updateTable("metadef_entries")
        .set({ name: entry.name, body: JSON.stringify(entry.body), updated_at: entry.updatedAt })
        .where("namespace_id", "=", namespaceId)
        .where("kind", "=", entry.kind)
        .where("name", "=", name)
        .execute(),
    );
  }

  async deleteEntry(namespaceId: string, kind: EntryKind, name: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom("metadef_entries")
      .where("namespace_id", "=", namespaceId)
      .where("kind", "=", kind)
      .where("name", "=", name)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteEntries(namespaceId: string, kind: EntryKind): Promise<void> {
    await this.db
      .deleteFrom("metadef_entries")
      .where("namespace_id", "=", namespaceId)
      .where("kind", "=", kind)
      .execute();
  }

  async touchNamespace(namespaceId: string, now: number): Promise<void> {
    await this.db
      .updateTable("metadef_namespaces")
      .set({ updated_at: now })
      .where("id", "=", namespaceId)
      .execute();
  }

  async resourceTypes(): Promise<MetadefResourceType[]> {
    const rows = await this.db.selectFrom("metadef_resource_types").selectAll().orderBy("name").execute();
    return rows.map(toResourceType);
  }

  async findResourceType(name: string): Promise<MetadefResourceType | null> {
    const row = await this.db
      .selectFrom("metadef_resource_types")
      .selectAll()
      .where("name", "=", name)
      .executeTakeFirst();
    return row ? toResourceType(row) : null;
  }

  async insertResourceType(type: MetadefResourceType): Promise<void> {
    await this.db
      .insertInto("metadef_resource_types")
      .values({
        name: type.name,
        protected: type.protected ? 1 : 0,
        created_at: type.createdAt,
        updated_at: type.updatedAt,
      })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
  }

  async associations(namespaceId: string): Promise<ResourceTypeAssociation[]> {
    return (await this.associationsOf([namespaceId])).get(namespaceId) ?? [];
  }

  async associationsOf(namespaceIds: string[]): Promise<Map<string, ResourceTypeAssociation[]>> {
    const out = new Map<string, ResourceTypeAssociation[]>(namespaceIds.map((id) => [id, []]));
    if (namespaceIds.length === 0) return out;
    const rows = await this.db
      .selectFrom("metadef_associations")
      .selectAll()
      .where("namespace_id", "in", namespaceIds)
      .orderBy("created_at")
      .orderBy("resource_type")
      .execute();
    for (const r of rows) {
      out.get(r.namespace_id)?.push({
        name: r.resource_type,
        prefix: r.prefix,
        propertiesTarget: r.properties_target,
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
      });
    }
    return out;
  }

  async associate(namespaceId: string, a: ResourceTypeAssociation): Promise<void> {
    await unique(`The namespace is already associated with resource type ${a.name}.`, () =>
      this.db
        .insertInto("metadef_associations")
        .values({
          namespace_id: namespaceId,
          resource_type: a.name,
          prefix: a.prefix,
          properties_target: a.propertiesTarget,
          created_at: a.createdAt,
          updated_at: a.updatedAt,
        })
        .execute(),
    );
  }

  async dissociate(namespaceId: string, resourceType: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom("metadef_associations")
      .where("namespace_id", "=", namespaceId)
      .where("resource_type", "=", resourceType)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

const ENTRY_WORDS: Record<EntryKind, string> = { object: "object", property: "property", tag: "tag" };

function duplicateEntry(entry: MetadefEntry): string {
  return `A metadata definition ${ENTRY_WORDS[entry.kind]} with name=${entry.name} already exists in this namespace.`;
}
