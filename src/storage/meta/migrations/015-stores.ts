import type { Kysely } from "kysely";

/**
 * Several named stores (README "Stores, cache and regions"): each image records the stores
 * holding its data; rows from before keep null (their data is in the primary store), and the URLs
 * its data was read from and verified against (writable locations). And the
 * credential a glance-download import reads the other region with, kept only while it runs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("images").addColumn("stores", "text").execute();
  await db.schema.alterTable("images").addColumn("locations", "text").execute();
  await db.schema
    .createTable("operation_credentials")
    .addColumn("operation_id", "text", (c) => c.primaryKey().references("operations.id").onDelete("cascade"))
    .addColumn("credential", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
}
