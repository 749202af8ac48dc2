import type { Kysely } from "kysely";

// A folder's operations newest first (the console's view of running and failed work).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex("operations_folder_created")
    .on("operations")
    .columns(["folder_id", "created_at", "id"])
    .execute();
}
