import type { Kysely } from "kysely";

// How far a running import is: bytes read so far and, when the source said, of how many. Written
// by the worker about once a second, read by whoever follows the operation (any node).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("operations").addColumn("progress_bytes", "bigint").execute();
  await db.schema.alterTable("operations").addColumn("progress_total", "bigint").execute();
}
