import { type Kysely, sql } from "kysely";

// Image access bindings name subjects this service may not hold a row for (`system` groups,
// Keystone users), so a binding carries its subject's type itself.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("access_bindings")
    .addColumn("subject_type", "text", (c) => c.notNull().defaultTo("userAccount"))
    .execute();
  await sql`update access_bindings set subject_type = (select type from subjects where subjects.id = access_bindings.subject_id)
            where exists (select 1 from subjects where subjects.id = access_bindings.subject_id)`.execute(db);
  await db.schema
    .createIndex("access_bindings_resource")
    .on("access_bindings")
    .columns(["resource_type", "resource_id"])
    .execute();
}
