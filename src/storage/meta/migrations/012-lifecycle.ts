import type { Kysely } from "kysely";

// Lifecycle (core/lifecycle): an image's deprecation (state, replacement, the times it is due to
// become deprecated, obsolete or deleted), its stay in the recycle bin, and its last use; the
// operations a scheduled transition runs as wait for their time (`not_before`); per-folder
// settings (the bin's retention) and retention rules per folder and family.
export async function up(db: Kysely<unknown>): Promise<void> {
  const images = [
    ["deprecation_state", "text", "ACTIVE"],
    ["replacement_id", "text", null],
    ["replacement_uuid", "text", null],
    ["deprecate_at", "bigint", null],
    ["obsolete_at", "bigint", null],
    ["delete_at", "bigint", null],
    ["binned_at", "bigint", null],
    ["purge_at", "bigint", null],
    ["restore_status", "text", null],
    ["last_used_at", "bigint", null],
    ["use_count", "bigint", 0],
  ] as const;
  for (const [name, type, fallback] of images) {
    await db.schema
      .alterTable("images")
      .addColumn(name, type, (c) => (fallback === null ? c : c.notNull().defaultTo(fallback)))
      .execute();
  }
  await db.schema.alterTable("operations").addColumn("not_before", "bigint").execute();
  // Workers look for due scheduled work apart from the rest: many waiting transitions must not be
  // walked past at every poll.
  await db.schema
    .createIndex("operations_scheduled")
    .on("operations")
    .columns(["done", "not_before"])
    .execute();
  await db.schema
    .createTable("folder_settings")
    .addColumn("folder_id", "text", (c) => c.primaryKey())
    .addColumn("bin_retention_seconds", "bigint")
    .execute();
  await db.schema
    .createTable("retention_rules")
    .addColumn("folder_id", "text", (c) => c.notNull())
    .addColumn("family", "text", (c) => c.notNull())
    .addColumn("keep", "integer", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("after_seconds", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("retention_rules_pk", ["folder_id", "family"])
    .execute();
  await db.schema
    .createIndex("images_last_used")
    .on("images")
    .columns(["folder_id", "last_used_at"])
    .execute();
}
