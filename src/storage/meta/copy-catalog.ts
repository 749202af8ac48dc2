import { type RawBuilder, sql } from "kysely";
import type { Db } from "./database.js";
import type { SqlEngine } from "./sql-catalog.js";

/** Every table of the catalog with its primary key, parents before children. */
const TABLES: readonly { name: string; key: readonly string[] }[] = [
  { name: "subjects", key: ["id"] },
  { name: "tokens", key: ["id"] },
  { name: "images", key: ["id"] },
  { name: "image_tags", key: ["image_id", "tag"] },
  { name: "image_properties", key: ["image_id", "name"] },
  { name: "image_members", key: ["image_id", "member_id"] },
  { name: "access_bindings", key: ["resource_type", "resource_id", "subject_id", "role"] },
  { name: "operations", key: ["id"] },
  // Uploads interrupted before the copy: the target's first node finds their node gone and puts
  // their images back to queued, as on the source.
  { name: "uploads", key: ["image_id"] },
  // Resumable uploads go on against the target (their data is in the blob store, not the catalog).
  { name: "resumable_uploads", key: ["id"] },
  { name: "import_checkpoints", key: ["operation_id"] },
  // Not operation_credentials: a caller's token is not copied to another installation (an import
  // cut by the copy fails there, asking for it again).
  { name: "quota_limits", key: ["project_id", "resource"] },
  { name: "folder_settings", key: ["folder_id"] },
  { name: "retention_rules", key: ["folder_id", "family"] },
  // Bytes held by transfers cut by the copy: released on the target as their node is gone.
  { name: "quota_reservations", key: ["image_id"] },
  // Events and audit (README "Events and audit"): the history goes along; events not yet
  // published, and deliveries not yet made, are made from the target (at least once).
  { name: "events", key: ["seq"] },
  { name: "webhook_subscriptions", key: ["id"] },
  { name: "webhook_deliveries", key: ["id"] },
  { name: "audit_records", key: ["seq"] },
];

const BATCH = 200;

/**
 * Copies every row of one catalog into another (both migrated to the latest schema), table by
 * table in primary-key order. A row already in the target is left as it is, so an interrupted
 * copy is finished by running it again. Returns the rows written per table.
 */
export async function copyCatalog(
  from: Db,
  to: Db,
  target: SqlEngine,
  onBatch: (table: string, rows: number) => void = () => {},
): Promise<Record<string, number>> {
  const written: Record<string, number> = {};
  for (const table of TABLES) {
    let count = 0;
    const keys = table.key.map((k) => sql.ref(k));
    let after: unknown[] | null = null;
    for (;;) {
      const where: RawBuilder<unknown> =
        after === null ? sql`` : sql`where (${sql.join(keys)}) > (${sql.join(after)})`;
      const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table.name)} ${where}
        order by ${sql.join(keys)} limit ${BATCH}`.execute(from);
      if (rows.length === 0) break;
      const columns = Object.keys(rows[0]!);
      const inserted =
        await sql`insert into ${sql.table(table.name)} (${sql.join(columns.map((c) => sql.ref(c)))})
        values ${sql.join(rows.map((r) => sql`(${sql.join(columns.map((c) => r[c]))})`))}
        on conflict do nothing`.execute(to);
      count += Number(inserted.numAffectedRows ?? 0);
      onBatch(table.name, rows.length);
      const last = rows[rows.length - 1]!;
      after = table.key.map((k) => last[k]);
    }
    written[table.name] = count;
  }
  if (target === "postgres") {
    // Token ids, event and audit sequence numbers were copied as they were: move the sequences past them.
    for (const [table, column] of [
      ["tokens", "id"],
      ["events", "seq"],
      ["audit_records", "seq"],
    ] as const) {
      await sql`select setval(pg_get_serial_sequence(${table}, ${column}), coalesce((select max(${sql.ref(column)}) from ${sql.table(table)}), 0) + 1, false)`.execute(
        to,
      );
    }
  }
  return written;
}

/** The blobs a catalog's images hold, each with the size and SHA-512 its images recorded. */
export async function blobsOf(db: Db): Promise<{ key: string; size: number; sha512: string }[]> {
  const rows = await db
    .selectFrom("images")
    .select(["blob_key", "size", "checksum_sha512"])
    .where("blob_key", "is not", null)
    .where("checksum_sha512", "is not", null)
    .groupBy(["blob_key", "size", "checksum_sha512"])
    .orderBy("blob_key")
    .execute();
  return rows.map((r) => ({ key: r.blob_key!, size: Number(r.size ?? 0), sha512: r.checksum_sha512! }));
}
