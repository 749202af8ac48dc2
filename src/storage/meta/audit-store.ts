import type { AuditQuery, AuditRecord } from "../../core/events/audit.js";
import type { AuditStore } from "../../core/ports/catalog.js";
import type { Db } from "./database.js";

/** Audit records (README "Events and audit"), kept for the configured retention. */
export class SqlAuditStore implements AuditStore {
  constructor(private readonly db: Db) {}

  async insertMany(records: Omit<AuditRecord, "seq">[]): Promise<void> {
    if (records.length === 0) return;
    await this.db
      .insertInto("audit_records")
      .values(
        records.map((r) => ({
          at: r.at,
          request_id: r.requestId,
          subject: r.subject,
          project: r.project,
          dialect: r.dialect,
          method: r.method,
          action: r.action,
          resource: r.resource,
          decision: r.decision,
          status: r.status,
          reason: r.reason,
          source: r.source,
        })),
      )
      .execute();
  }

  async list(query: AuditQuery): Promise<AuditRecord[]> {
    let q = this.db
      .selectFrom("audit_records")
      .selectAll()
      .where("at", ">=", query.since)
      .where("at", "<", query.until)
      .orderBy("seq")
      .limit(query.limit + 1);
    if (query.subject !== undefined) q = q.where("subject", "=", query.subject);
    if (query.decision !== undefined) q = q.where("decision", "=", query.decision);
    if (query.afterSeq !== undefined) q = q.where("seq", ">", query.afterSeq);
    const rows = await q.execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: Number(r.at),
      requestId: r.request_id,
      subject: r.subject,
      project: r.project,
      dialect: r.dialect,
      method: r.method,
      action: r.action,
      resource: r.resource,
      decision: r.decision as AuditRecord["decision"],
      status: Number(r.status),
      reason: r.reason,
      source: r.source,
    }));
  }

  /** Removes records older than `before`; returns how many. */
  async purge(before: number): Promise<number> {
    const result = await this.db.deleteFrom("audit_records").where("at", "<", before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
