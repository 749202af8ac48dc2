import type { Kysely } from "kysely";

// Quotas (core/quotas): the limits admins set (project '*' holds the defaults) and the bytes held
// for data on its way in, released when it is committed or given up (with its image, or when the
// node streaming it is gone). A project's usage is summed from its images by status.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("quota_limits")
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("value", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("quota_limits_pk", ["project_id", "resource"])
    .execute();
  await db.schema
    .createTable("quota_reservations")
    .addColumn("image_id", "text", (c) => c.primaryKey().references("images.id").onDelete("cascade"))
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("bytes", "bigint", (c) => c.notNull())
    .addColumn("staged", "integer", (c) => c.notNull())
    .addColumn("node_id", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("quota_reservations_project")
    .on("quota_reservations")
    .column("project_id")
    .execute();
  await db.schema.createIndex("images_folder_status").on("images").columns(["folder_id", "status"]).execute();
}
