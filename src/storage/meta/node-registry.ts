import type { NodeRecord, NodeRegistry } from "../../deployment/node-registry.js";
import type { Db } from "./database.js";

/**
 * The ids of the nodes seen since `liveSince`, as a subquery: work recorded under any other node
 * id (an upload, a quota reservation) belongs to a node that is gone.
 */
export const liveNodeIds = (db: Db, liveSince: number) =>
  db.selectFrom("nodes").select("id").where("seen_at", ">=", liveSince);

/** The `nodes` table. */
export class SqlNodeRegistry implements NodeRegistry {
  constructor(private readonly db: Db) {}

  async register(node: NodeRecord): Promise<void> {
    const row = {
      id: node.id,
      hostname: node.hostname,
      machine_id: node.machineId,
      pid: node.pid,
      role: node.role,
      blob_store: node.blobStore,
      started_at: node.startedAt,
      seen_at: node.seenAt,
    };
    await this.db
      .insertInto("nodes")
      .values(row)
      .onConflict((oc) => oc.column("id").doUpdateSet(row))
      .execute();
  }

  async heartbeat(id: string, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable("nodes")
      .set({ seen_at: now })
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom("nodes").where("id", "=", id).execute();
  }

  async seenSince(since: number): Promise<NodeRecord[]> {
    await this.db.deleteFrom("nodes").where("seen_at", "<", since).execute();
    const rows = await this.db
      .selectFrom("nodes")
      .selectAll()
      .where("seen_at", ">=", since)
      .orderBy("started_at")
      .orderBy("id")
      .execute();
    return rows.map((r) => ({
      id: r.id,
      hostname: r.hostname,
      machineId: r.machine_id,
      pid: r.pid,
      role: r.role,
      blobStore: r.blob_store,
      startedAt: r.started_at,
      seenAt: r.seen_at,
    }));
  }
}
