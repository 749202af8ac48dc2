import { randomUUID } from "node:crypto";
import type { EventActor, EventRecord, NewEvent } from "../../core/events/event.js";
import type { EventLog } from "../../core/ports/catalog.js";
import { currentActor } from "../../observability/request-context.js";
import type { Db } from "./database.js";
import type { EventsTable } from "./schema.js";

type Row = Omit<EventsTable, "seq"> & { seq: number };

function toEvent(row: Row): EventRecord {
  return {
    seq: Number(row.seq),
    id: row.id,
    type: row.type as EventRecord["type"],
    resourceType: row.resource_type as EventRecord["resourceType"],
    resourceId: row.resource_id,
    imageId: row.image_id,
    imageVersion: row.image_version === null ? null : Number(row.image_version),
    folderId: row.folder_id,
    data: JSON.parse(row.data) as EventRecord["data"],
    actor: JSON.parse(row.actor) as EventActor,
    createdAt: Number(row.created_at),
  };
}

/**
 * The outbox on the catalog's database (README "Events and audit"): appended to in the
 * transaction of the change, read in order by the node holding the publisher's lease.
 */
export class SqlEventLog implements EventLog {
  constructor(private readonly db: Db) {}

  async append(event: NewEvent): Promise<void> {
    await this.db
      .insertInto("events")
      .values({
        id: randomUUID(),
        type: event.type,
        resource_type: event.resourceType,
        resource_id: event.resourceId,
        image_id: event.imageId,
        image_version: event.imageVersion,
        folder_id: event.folderId,
        data: JSON.stringify(event.data),
        actor: JSON.stringify(currentActor()),
        created_at: Date.now(),
        published_at: null,
      })
      .execute();
  }

  async ofImage(imageId: string, limit: number): Promise<EventRecord[]> {
    const rows = await this.db
      .selectFrom("events")
      .selectAll()
      .where("image_id", "=", imageId)
      .orderBy("seq")
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }

  /**
   * Events not yet published, in the order they were written. An event of a transaction still
   * open when this reads is picked up by a later read: events are marked one by one, not up to
   * a cursor, so none is skipped (and one image's events commit in order: its saves are serial).
   */
  async unpublished(limit: number): Promise<EventRecord[]> {
    const rows = await this.db
      .selectFrom("events")
      .selectAll()
      .where("published_at", "is", null)
      .orderBy("seq")
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }

  async markPublished(seqs: number[], now: number): Promise<void> {
    if (seqs.length === 0) return;
    await this.db.updateTable("events").set({ published_at: now }).where("seq", "in", seqs).execute();
  }

  /** How many events wait to be published (the metrics' backlog). */
  async backlog(): Promise<number> {
    const row = await this.db
      .selectFrom("events")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("published_at", "is", null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Removes events published before `before`; returns how many. */
  async purgePublished(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom("events")
      .where("published_at", "is not", null)
      .where("published_at", "<", before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** Named leases: one holder at a time for a duty every node could do (the outbox's publisher). */
export class SqlLeases {
  constructor(private readonly db: Db) {}

  /** Takes or keeps the lease `name` for `holder` until `until`; false when another holds it. */
  async acquire(name: string, holder: string, now: number, until: number): Promise<boolean> {
    await this.db
      .insertInto("leases")
      .values({ name, holder, until })
      .onConflict((oc) =>
        oc
          .column("name")
          .doUpdateSet({ holder, until })
          .where((eb) => eb.or([eb("leases.holder", "=", holder), eb("leases.until", "<", now)])),
      )
      .execute();
    const row = await this.db
      .selectFrom("leases")
      .select("holder")
      .where("name", "=", name)
      .executeTakeFirst();
    return row?.holder === holder;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db.deleteFrom("leases").where("name", "=", name).where("holder", "=", holder).execute();
  }
}
