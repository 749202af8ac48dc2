import type { Kysely } from "kysely";

/** Conversion (README "Conversion and export"): a folder's own policy, and what an operation's progress counts. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("folder_settings").addColumn("conversion_target", "text").execute();
  await db.schema.alterTable("folder_settings").addColumn("conversion_keep", "text").execute();
  await db.schema.alterTable("operations").addColumn("progress_stage", "text").execute();
}
