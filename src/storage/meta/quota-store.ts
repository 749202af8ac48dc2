import { type ExpressionBuilder, sql } from "kysely";
import type { DataReservation, QuotaLimitRecord, QuotaStore } from "../../core/ports/catalog.js";
import { type QuotaResource, type QuotaUsage, isQuotaResource } from "../../core/quotas/quota.js";
import type { Db } from "./database.js";
import { liveNodeIds } from "./node-registry.js";
import type { Database, QuotaReservationsTable } from "./schema.js";
import type { SqlEngine } from "./sql-catalog.js";

/** The project id under which the defaults are kept. */
const DEFAULTS = "*";

/** Statuses of images receiving data (image_count_uploading): saving, staged for an import, importing. */
const RECEIVING = ["saving", "uploading", "importing"];

function toReservation(row: QuotaReservationsTable): DataReservation {
  return {
    imageId: row.image_id,
    projectId: row.project_id,
    bytes: Number(row.bytes),
    staged: row.staged === 1,
    nodeId: row.node_id,
    createdAt: Number(row.created_at),
  };
}

/** The `quota_limits` and `quota_reservations` tables, and usage summed from `images`. */
export class SqlQuotaStore implements QuotaStore {
  constructor(
    private readonly db: Db,
    private readonly engine: SqlEngine,
  ) {}

  async lockProject(projectId: string): Promise<void> {
    // Held until the transaction ends; SQLite has one writer and one transaction at a time already.
    if (this.engine === "postgres") {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`vitrine-quota:${projectId}`}, 0))`.execute(
        this.db,
      );
    }
  }

  async usage(projectId: string): Promise<QuotaUsage> {
    // One statement, so one snapshot: a commit that moves bytes from a reservation to its image
    // between two reads (PostgreSQL's READ COMMITTED) would otherwise be counted in neither.
    const images = (eb: ExpressionBuilder<Database, never>) =>
      eb.selectFrom("images").where("folder_id", "=", projectId);
    const reserved = (eb: ExpressionBuilder<Database, never>) =>
      eb.selectFrom("quota_reservations").where("project_id", "=", projectId);
    const row = await this.db
      .selectNoFrom((eb) => [
        // An image in the recycle bin is not counted; its bytes are, until it is purged.
        images(eb)
          .where("status", "<>", "binned")
          .select((e) => e.fn.countAll<number>().as("n"))
          .as("count"),
        // Data several images of the project share (made from one another) counts once: by blob.
        eb
          .selectFrom(
            images(eb)
              .where("status", "<>", "uploading")
              .where("blob_key", "is not", null)
              .groupBy("blob_key")
              .select(sql<number | null>`max(coalesce(size, 0))`.as("size"))
              .as("blobs"),
          )
          .select(sql<string | null>`sum(size)`.as("n"))
          .as("stored"),
        images(eb)
          .select(
            sql<string | null>`sum(case when status = 'uploading' then coalesce(size, 0) else 0 end)`.as("n"),
          )
          .as("staged"),
        images(eb)
          .select(
            sql<string | null>`sum(case when status in (${sql.join(RECEIVING)}) then 1 else 0 end)`.as("n"),
          )
          .as("receiving"),
        reserved(eb)
          .select(sql<string | null>`sum(case when staged = 1 then 0 else bytes end)`.as("n"))
          .as("reservedStored"),
        reserved(eb)
          .select(sql<string | null>`sum(case when staged = 1 then bytes else 0 end)`.as("n"))
          .as("reservedStaged"),
      ])
      .executeTakeFirstOrThrow();
    return {
      image_count_total: Number(row.count ?? 0),
      image_size_total: Number(row.stored ?? 0) + Number(row.reservedStored ?? 0),
      image_stage_total: Number(row.staged ?? 0) + Number(row.reservedStaged ?? 0),
      image_count_uploading: Number(row.receiving ?? 0),
    };
  }

  async holdsData(projectId: string, blobKey: string, except: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("images")
      .select("id")
      .where("folder_id", "=", projectId)
      .where("blob_key", "=", blobKey)
      .where("status", "<>", "uploading")
      .where("id", "<>", except)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async reserve(r: DataReservation): Promise<void> {
    const row = {
      image_id: r.imageId,
      project_id: r.projectId,
      bytes: r.bytes,
      staged: r.staged ? 1 : 0,
      node_id: r.nodeId,
      created_at: r.createdAt,
    };
    await this.db
      .insertInto("quota_reservations")
      .values(row)
      .onConflict((oc) =>
        oc.column("image_id").doUpdateSet({ bytes: r.bytes, staged: row.staged, node_id: r.nodeId }),
      )
      .execute();
  }

  async reservation(imageId: string): Promise<DataReservation | null> {
    const row = await this.db
      .selectFrom("quota_reservations")
      .selectAll()
      .where("image_id", "=", imageId)
      .executeTakeFirst();
    return row ? toReservation(row) : null;
  }

  async release(imageId: string, nodeId?: string): Promise<void> {
    let query = this.db.deleteFrom("quota_reservations").where("image_id", "=", imageId);
    if (nodeId !== undefined) query = query.where("node_id", "=", nodeId);
    await query.execute();
  }

  async abandoned(liveSince: number): Promise<DataReservation[]> {
    const rows = await this.db
      .selectFrom("quota_reservations")
      .selectAll()
      .where("node_id", "not in", liveNodeIds(this.db, liveSince))
      // A resumable upload's bytes stay held while it may be resumed, whichever node took them.
      .where("image_id", "not in", this.db.selectFrom("resumable_uploads").select("image_id"))
      .execute();
    return rows.map(toReservation);
  }

  async limits(projectId?: string): Promise<QuotaLimitRecord[]> {
    let query = this.db.selectFrom("quota_limits").selectAll();
    if (projectId !== undefined) query = query.where("project_id", "in", [DEFAULTS, projectId]);
    const rows = await query.orderBy("project_id").orderBy("resource").execute();
    return rows
      .filter((row) => isQuotaResource(row.resource))
      .map((row) => ({
        projectId: row.project_id === DEFAULTS ? null : row.project_id,
        resource: row.resource as QuotaResource,
        value: Number(row.value),
      }));
  }

  async setLimit(projectId: string | null, resource: QuotaResource, value: number | null): Promise<void> {
    const project = projectId ?? DEFAULTS;
    if (value === null) {
      await this.db
        .deleteFrom("quota_limits")
        .where("project_id", "=", project)
        .where("resource", "=", resource)
        .execute();
      return;
    }
    await this.db
      .insertInto("quota_limits")
      .values({ project_id: project, resource, value })
      .onConflict((oc) => oc.columns(["project_id", "resource"]).doUpdateSet({ value }))
      .execute();
  }

  async projects(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom("images")
      .select("folder_id")
      .groupBy("folder_id")
      .orderBy(sql`sum(coalesce(size, 0))`, "desc")
      .orderBy("folder_id")
      .limit(limit)
      .execute();
    return rows.map((r) => r.folder_id);
  }
}
