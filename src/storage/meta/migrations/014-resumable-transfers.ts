import type { Kysely } from "kysely";

/**
 * Resumable transfers (README "Resumable transfers"): one row per upload in progress, with the
 * offset durably stored and the checkpoint to go on from (the blob store's, the hashes' and the
 * inspection's state there), and the lease of the request appending to it now; and the same
 * checkpoint for a URL import, with the version of the source it read.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("resumable_uploads")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("image_id", "text", (c) => c.notNull().unique().references("images.id").onDelete("cascade"))
    .addColumn("mode", "text", (c) => c.notNull())
    .addColumn("owner_project", "text", (c) => c.notNull())
    .addColumn("owner_subject", "text", (c) => c.notNull())
    .addColumn("length", "bigint", (c) => c.notNull())
    .addColumn("offset", "bigint", (c) => c.notNull())
    .addColumn("blob_key", "text", (c) => c.notNull())
    .addColumn("allowed_formats", "text", (c) => c.notNull())
    .addColumn("label", "text", (c) => c.notNull())
    .addColumn("checkpoint", "text", (c) => c.notNull())
    .addColumn("lease_holder", "text")
    .addColumn("lease_node", "text")
    .addColumn("lease_until", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("resumable_uploads_by_expiry")
    .on("resumable_uploads")
    .column("expires_at")
    .execute();
  await db.schema
    .createTable("import_checkpoints")
    .addColumn("operation_id", "text", (c) => c.primaryKey().references("operations.id").onDelete("cascade"))
    .addColumn("offset", "bigint", (c) => c.notNull())
    .addColumn("length", "bigint", (c) => c.notNull())
    .addColumn("validator", "text", (c) => c.notNull())
    .addColumn("checkpoint", "text", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}
