import type { Kysely } from "kysely";

// Uploads streaming into an image (OpenStack PUT file/stage), with the node that serves each and
// the blob key it will commit: when that node is gone, another node puts the image back to
// `queued` and frees what the upload left (core/image-data/recover-abandoned-uploads.ts).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("uploads")
    .addColumn("image_id", "text", (c) => c.primaryKey().references("images.id").onDelete("cascade"))
    .addColumn("node_id", "text", (c) => c.notNull())
    .addColumn("blob_key", "text", (c) => c.notNull())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .execute();
}
