import type { Kysely } from "kysely";

// The OpenStack dialect's relations: who an image is shared with, and tags and properties as rows
// so lists can filter on them with an index (the JSON columns on `images` stay the read path).
// Access bindings give non-admin subjects roles on folders; tokens carry the project they are
// scoped to (OpenStack's current project, where creates land).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("image_members")
    .addColumn("image_id", "text", (c) => c.notNull().references("images.id").onDelete("cascade"))
    .addColumn("member_id", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("image_members_pk", ["image_id", "member_id"])
    .execute();
  await db.schema
    .createIndex("image_members_member")
    .on("image_members")
    .columns(["member_id", "status"])
    .execute();

  await db.schema
    .createTable("image_tags")
    .addColumn("image_id", "text", (c) => c.notNull().references("images.id").onDelete("cascade"))
    .addColumn("tag", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("image_tags_pk", ["image_id", "tag"])
    .execute();
  await db.schema.createIndex("image_tags_tag").on("image_tags").columns(["tag", "image_id"]).execute();

  await db.schema
    .createTable("image_properties")
    .addColumn("image_id", "text", (c) => c.notNull().references("images.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("image_properties_pk", ["image_id", "name"])
    .execute();
  await db.schema
    .createIndex("image_properties_value")
    .on("image_properties")
    .columns(["name", "value", "image_id"])
    .execute();

  // OpenStack lists across folders (own + public + shared): these keep its default orders seekable.
  await db.schema.createIndex("images_created").on("images").columns(["created_at", "id"]).execute();
  await db.schema.createIndex("images_name").on("images").columns(["name", "id"]).execute();
  await db.schema
    .createIndex("images_visibility")
    .on("images")
    .columns(["visibility", "created_at"])
    .execute();

  await db.schema
    .createTable("access_bindings")
    .addColumn("resource_type", "text", (c) => c.notNull())
    .addColumn("resource_id", "text", (c) => c.notNull())
    .addColumn("subject_id", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("access_bindings_pk", ["resource_type", "resource_id", "subject_id", "role"])
    .execute();
  await db.schema.createIndex("access_bindings_subject").on("access_bindings").column("subject_id").execute();

  await db.schema.alterTable("tokens").addColumn("project_id", "text").execute();
}
