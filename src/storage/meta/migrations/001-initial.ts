import { type Kysely, PostgresAdapter, sql } from "kysely";

// Written against Kysely's schema builder with portable column types, so it runs unchanged on
// SQLite and PostgreSQL. `bigint` is a 64-bit integer on both.
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable("images")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("uuid", "text", (c) => c.notNull().unique())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("folder_id", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("labels", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("family", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("min_disk_size", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("product_ids", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("os_type", "text", (c) => c.notNull().defaultTo("LINUX"))
    .addColumn("pooled", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("hardware_generation", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("visibility", "text", (c) => c.notNull().defaultTo("private"))
    .addColumn("protected", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("os_hidden", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("tags", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("properties", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("disk_format", "text")
    .addColumn("container_format", "text")
    .addColumn("min_ram", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("size", "bigint")
    .addColumn("virtual_size", "bigint")
    .addColumn("checksum_md5", "text")
    .addColumn("checksum_sha512", "text")
    .addColumn("blob_key", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
    .execute();
  // Keyset pagination reads these indexes in order: a page costs the same at any depth.
  await db.schema.createIndex("images_folder_id").on("images").columns(["kind", "folder_id", "id"]).execute();
  await db.schema
    .createIndex("images_folder_created")
    .on("images")
    .columns(["kind", "folder_id", "created_at", "id"])
    .execute();
  await db.schema
    .createIndex("images_folder_name")
    .on("images")
    .columns(["kind", "folder_id", "name", "id"])
    .execute();
  await db.schema
    .createIndex("images_folder_family")
    .on("images")
    .columns(["kind", "folder_id", "family", "created_at"])
    .execute();
  await db.schema.createIndex("images_blob_key").on("images").column("blob_key").execute();

  await db.schema
    .createTable("operations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("resource_kind", "text", (c) => c.notNull())
    .addColumn("resource_id", "text", (c) => c.notNull())
    .addColumn("folder_id", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("modified_at", "bigint", (c) => c.notNull())
    .addColumn("done", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("error", "text")
    .addColumn("response", "text")
    .addColumn("payload", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("cancel_requested", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("lease_owner", "text")
    .addColumn("lease_expires_at", "bigint")
    .addColumn("idempotency_key", "text")
    .execute();
  await db.schema
    .createIndex("operations_resource")
    .on("operations")
    .columns(["resource_id", "created_at", "id"])
    .execute();
  await db.schema
    .createIndex("operations_pending")
    .on("operations")
    .columns(["done", "created_at"])
    .execute();
  await db.schema
    .createIndex("operations_idempotency")
    .on("operations")
    .columns(["created_by", "idempotency_key"])
    .unique()
    .where(sql.ref("idempotency_key"), "is not", null)
    .execute();

  await db.schema
    .createTable("subjects")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("is_admin", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("tokens")
    // SQLite's autoincrement is PostgreSQL's serial (the DDL SQLite runs is unchanged).
    .addColumn("id", postgres ? "serial" : "integer", (c) =>
      postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn("subject_id", "text", (c) => c.notNull().references("subjects.id"))
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint")
    .addColumn("revoked_at", "bigint")
    .execute();
}
