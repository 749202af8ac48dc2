import type { Kysely } from "kysely";

/**
 * Several named stores (README "Stores, cache and regions"): each image records the stores
 * holding its data. Rows from before keep null: their data is in the primary store.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("images").addColumn("stores", "text").execute();
}
