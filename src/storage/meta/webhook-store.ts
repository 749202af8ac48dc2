import { newResourceId } from "../../core/ids.js";
import type { WebhookDelivery, WebhookSubscription } from "../../core/events/webhook.js";
import type { WebhookStore } from "../../core/ports/catalog.js";
import type { Db } from "./database.js";
import type { WebhookDeliveriesTable, WebhookSubscriptionsTable } from "./schema.js";

function toSubscription(row: WebhookSubscriptionsTable): WebhookSubscription {
  return {
    id: row.id,
    folderId: row.folder_id,
    url: row.url,
    secret: row.secret,
    types: JSON.parse(row.types) as string[],
    description: row.description,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
  };
}

function toDelivery(row: WebhookDeliveriesTable): WebhookDelivery {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    eventSeq: Number(row.event_seq),
    event: JSON.parse(row.event) as Record<string, unknown>,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}

/** Webhook subscriptions and their delivery queue (one row per event and subscription). */
export class SqlWebhookStore implements WebhookStore {
  constructor(private readonly db: Db) {}

  async insert(sub: WebhookSubscription): Promise<void> {
    await this.db
      .insertInto("webhook_subscriptions")
      .values({
        id: sub.id,
        folder_id: sub.folderId,
        url: sub.url,
        secret: sub.secret,
        types: JSON.stringify(sub.types),
        description: sub.description,
        created_by: sub.createdBy,
        created_at: sub.createdAt,
      })
      .execute();
  }

  async find(id: string): Promise<WebhookSubscription | null> {
    const row = await this.db
      .selectFrom("webhook_subscriptions")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toSubscription(row) : null;
  }

  async list(folderId: string): Promise<WebhookSubscription[]> {
    const rows = await this.db
      .selectFrom("webhook_subscriptions")
      .selectAll()
      .where("folder_id", "=", folderId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toSubscription);
  }

  /** Every subscription of the folders named (the publisher routes a batch of events at once). */
  async ofFolders(folderIds: string[]): Promise<WebhookSubscription[]> {
    if (folderIds.length === 0) return [];
    const rows = await this.db
      .selectFrom("webhook_subscriptions")
      .selectAll()
      .where("folder_id", "in", folderIds)
      .execute();
    return rows.map(toSubscription);
  }

  async delete(id: string): Promise<boolean> {
    await this.db.deleteFrom("webhook_deliveries").where("subscription_id", "=", id).execute();
    const result = await this.db.deleteFrom("webhook_subscriptions").where("id", "=", id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deliveries(
    subscriptionId: string,
    status: WebhookDelivery["status"] | null,
    limit: number,
    beforeSeq?: number,
  ): Promise<WebhookDelivery[]> {
    let q = this.db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("subscription_id", "=", subscriptionId)
      .orderBy("event_seq", "desc")
      .limit(limit + 1);
    if (status !== null) q = q.where("status", "=", status);
    if (beforeSeq !== undefined) q = q.where("event_seq", "<", beforeSeq);
    return (await q.execute()).map(toDelivery);
  }

  async redeliver(subscriptionId: string, deliveryId: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable("webhook_deliveries")
      .set({ status: "pending", attempts: 0, next_attempt_at: now, finished_at: null })
      .where("id", "=", deliveryId)
      .where("subscription_id", "=", subscriptionId)
      .where("status", "=", "dead")
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Queues one delivery per (event, subscription); the CloudEvent is kept with it. */
  async enqueue(
    items: { subscriptionId: string; eventSeq: number; event: object }[],
    now: number,
  ): Promise<void> {
    if (items.length === 0) return;
    await this.db
      .insertInto("webhook_deliveries")
      .values(
        items.map((i) => ({
          id: newResourceId(),
          subscription_id: i.subscriptionId,
          event_seq: i.eventSeq,
          event: JSON.stringify(i.event),
          status: "pending" as const,
          attempts: 0,
          next_attempt_at: now,
          last_error: null,
          created_at: now,
          finished_at: null,
        })),
      )
      .execute();
  }

  /**
   * The subscriptions whose queue's head is due: their oldest pending delivery's time has come (a
   * later one waits behind it, so a subscriber gets a folder's events in order).
   */
  async dueSubscriptions(now: number, limit: number): Promise<string[]> {
    const heads = this.db
      .selectFrom("webhook_deliveries")
      .select(["subscription_id", (eb) => eb.fn.min("event_seq").as("seq")])
      .where("status", "=", "pending")
      .groupBy("subscription_id")
      .as("heads");
    const rows = await this.db
      .selectFrom("webhook_deliveries as d")
      .innerJoin(heads, (j) =>
        j.onRef("heads.subscription_id", "=", "d.subscription_id").onRef("heads.seq", "=", "d.event_seq"),
      )
      .select("d.subscription_id")
      .where("d.status", "=", "pending")
      .where("d.next_attempt_at", "<=", now)
      .limit(limit)
      .execute();
    return rows.map((r) => r.subscription_id);
  }

  /** One subscription's oldest pending delivery, if it is due. */
  async dueHead(
    subscriptionId: string,
    now: number,
  ): Promise<(WebhookDelivery & { url: string; secret: string }) | null> {
    const row = await this.db
      .selectFrom("webhook_deliveries as d")
      .innerJoin("webhook_subscriptions as s", "s.id", "d.subscription_id")
      .selectAll("d")
      .select(["s.url", "s.secret"])
      .where("d.subscription_id", "=", subscriptionId)
      .where("d.status", "=", "pending")
      .orderBy("d.event_seq")
      .limit(1)
      .executeTakeFirst();
    if (!row || Number(row.next_attempt_at) > now) return null;
    return { ...toDelivery(row), url: row.url, secret: row.secret };
  }

  async delivered(id: string, now: number, attempts: number): Promise<void> {
    await this.db
      .updateTable("webhook_deliveries")
      .set({ status: "delivered", attempts, finished_at: now, last_error: null })
      .where("id", "=", id)
      .execute();
  }

  async failed(
    id: string,
    attempts: number,
    error: string,
    nextAttemptAt: number | null,
    now: number,
  ): Promise<void> {
    await this.db
      .updateTable("webhook_deliveries")
      .set(
        nextAttemptAt === null
          ? { status: "dead", attempts, last_error: error, finished_at: now }
          : { attempts, last_error: error, next_attempt_at: nextAttemptAt },
      )
      .where("id", "=", id)
      .execute();
  }

  /** Deliveries by status (the metrics' gauge). */
  async counts(): Promise<Record<WebhookDelivery["status"], number>> {
    const rows = await this.db
      .selectFrom("webhook_deliveries")
      .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("status")
      .execute();
    const counts = { pending: 0, delivered: 0, dead: 0 };
    for (const r of rows) counts[r.status] = Number(r.n);
    return counts;
  }

  /** Removes deliveries that ended (delivered or dead) before `before`. */
  async purgeFinished(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom("webhook_deliveries")
      .where("finished_at", "is not", null)
      .where("finished_at", "<", before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
