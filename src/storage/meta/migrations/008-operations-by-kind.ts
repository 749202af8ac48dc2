import type { Kysely } from "kysely";

// OpenStack's task list reads every import across folders, newest first: one kind's operations in
// creation order.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex("operations_kind_created")
    .on("operations")
    .columns(["kind", "created_at", "id"])
    .execute();
}
