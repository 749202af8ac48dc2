import { type Kysely, PostgresAdapter } from "kysely";

/**
 * Events and audit (README "Events and audit"): the outbox every change writes its event to in
 * its own transaction (`seq` orders them; `published_at` is set once the event went out), webhook
 * subscriptions and their deliveries (one row per event and subscription, retried until delivered
 * or dead), the audit records, and named leases (one node publishes at a time).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const serial = (table: string) =>
    db.schema
      .createTable(table)
      .addColumn("seq", postgres ? "bigserial" : "integer", (c) =>
        postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
      );
  await serial("events")
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("resource_type", "text", (c) => c.notNull())
    .addColumn("resource_id", "text", (c) => c.notNull())
    .addColumn("image_id", "text")
    .addColumn("image_version", "bigint")
    .addColumn("folder_id", "text")
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("published_at", "bigint")
    .execute();
  await db.schema.createIndex("events_unpublished").on("events").columns(["published_at", "seq"]).execute();
  await db.schema.createIndex("events_by_image").on("events").columns(["image_id", "seq"]).execute();

  await db.schema
    .createTable("webhook_subscriptions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("folder_id", "text", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("secret", "text", (c) => c.notNull())
    .addColumn("types", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webhook_subscriptions_by_folder")
    .on("webhook_subscriptions")
    .column("folder_id")
    .execute();
  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("subscription_id", "text", (c) =>
      c.notNull().references("webhook_subscriptions.id").onDelete("cascade"),
    )
    .addColumn("event_seq", "bigint", (c) => c.notNull())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
    .addColumn("last_error", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_queue")
    .on("webhook_deliveries")
    .columns(["subscription_id", "status", "event_seq"])
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_by_status")
    .on("webhook_deliveries")
    .columns(["status", "next_attempt_at"])
    .execute();

  await serial("audit_records")
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("request_id", "text", (c) => c.notNull())
    .addColumn("subject", "text")
    .addColumn("project", "text")
    .addColumn("dialect", "text", (c) => c.notNull())
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("resource", "text")
    .addColumn("decision", "text", (c) => c.notNull())
    .addColumn("status", "integer", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("source", "text")
    .execute();
  await db.schema.createIndex("audit_records_by_time").on("audit_records").columns(["at", "seq"]).execute();

  await db.schema
    .createTable("leases")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("holder", "text", (c) => c.notNull())
    .addColumn("until", "bigint", (c) => c.notNull())
    .execute();
}
