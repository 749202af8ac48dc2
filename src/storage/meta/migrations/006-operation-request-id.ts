import type { Kysely } from "kysely";

// The id of the API request that started an operation: OpenStack's image tasks name it
// (`request_id`), so a client can tie a task to the import call it made.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("operations").addColumn("request_id", "text").execute();
}
