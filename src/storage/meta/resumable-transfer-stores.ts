import type { DiskFormat } from "../../core/disk-format.js";
import type {
  ImportCheckpointRecord,
  ImportCheckpointStore,
  OperationCredentialStore,
  ResumableUploadRecord,
  ResumableUploadStore,
  UploadLease,
} from "../../core/ports/catalog.js";
import type { Db } from "./database.js";
import { liveNodeIds } from "./node-registry.js";
import type { ResumableUploadsTable } from "./schema.js";

function toRecord(row: ResumableUploadsTable): ResumableUploadRecord {
  return {
    id: row.id,
    imageId: row.image_id,
    mode: row.mode === "stage" ? "stage" : "file",
    ownerProject: row.owner_project,
    ownerSubject: row.owner_subject,
    length: Number(row.length),
    offset: Number(row.offset),
    blobKey: row.blob_key,
    allowedFormats: JSON.parse(row.allowed_formats) as DiskFormat[],
    label: row.label,
    checkpoint: row.checkpoint,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    expiresAt: Number(row.expires_at),
  };
}

/** The `resumable_uploads` table. */
export class SqlResumableUploadStore implements ResumableUploadStore {
  constructor(private readonly db: Db) {}

  async create(r: ResumableUploadRecord): Promise<void> {
    await this.db
      .insertInto("resumable_uploads")
      .values({
        id: r.id,
        image_id: r.imageId,
        mode: r.mode,
        owner_project: r.ownerProject,
        owner_subject: r.ownerSubject,
        length: r.length,
        offset: r.offset,
        blob_key: r.blobKey,
        allowed_formats: JSON.stringify(r.allowedFormats),
        label: r.label,
        checkpoint: r.checkpoint,
        lease_holder: null,
        lease_node: null,
        lease_until: null,
        created_at: r.createdAt,
        updated_at: r.updatedAt,
        expires_at: r.expiresAt,
      })
      .execute();
  }

  async start(id: string, checkpoint: string): Promise<void> {
    await this.db
      .updateTable("resumable_uploads")
      .set({ checkpoint })
      .where("id", "=", id)
      .where("checkpoint", "=", "")
      .execute();
  }

  async find(id: string): Promise<ResumableUploadRecord | null> {
    const row = await this.db
      .selectFrom("resumable_uploads")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async lease(id: string, lease: UploadLease, now: number, liveSince: number): Promise<boolean> {
    const res = await this.db
      .updateTable("resumable_uploads")
      .set({ lease_holder: lease.holder, lease_node: lease.nodeId, lease_until: lease.until })
      .where("id", "=", id)
      .where((eb) =>
        eb.or([
          eb("lease_holder", "is", null),
          eb("lease_until", "<", now),
          eb("lease_node", "=", lease.nodeId),
          eb("lease_node", "not in", liveNodeIds(this.db, liveSince)),
        ]),
      )
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async checkpoint(
    id: string,
    holder: string,
    at: { offset: number; checkpoint: string; now: number; expiresAt: number; leaseUntil: number },
  ): Promise<boolean> {
    const res = await this.db
      .updateTable("resumable_uploads")
      .set({
        offset: at.offset,
        checkpoint: at.checkpoint,
        updated_at: at.now,
        expires_at: at.expiresAt,
        lease_until: at.leaseUntil,
      })
      .where("id", "=", id)
      .where("lease_holder", "=", holder)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async renew(id: string, holder: string, until: number): Promise<boolean> {
    const res = await this.db
      .updateTable("resumable_uploads")
      .set({ lease_until: until })
      .where("id", "=", id)
      .where("lease_holder", "=", holder)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async release(id: string, holder: string): Promise<void> {
    await this.db
      .updateTable("resumable_uploads")
      .set({ lease_holder: null, lease_node: null, lease_until: null })
      .where("id", "=", id)
      .where("lease_holder", "=", holder)
      .execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom("resumable_uploads").where("id", "=", id).execute();
  }

  async expired(now: number): Promise<ResumableUploadRecord[]> {
    const rows = await this.db
      .selectFrom("resumable_uploads")
      .selectAll()
      .where("expires_at", "<", now)
      .where((eb) => eb.or([eb("lease_holder", "is", null), eb("lease_until", "<", now)]))
      .orderBy("expires_at")
      .execute();
    return rows.map(toRecord);
  }
}

/** The `import_checkpoints` table. */
export class SqlImportCheckpointStore implements ImportCheckpointStore {
  constructor(private readonly db: Db) {}

  async find(operationId: string): Promise<ImportCheckpointRecord | null> {
    const row = await this.db
      .selectFrom("import_checkpoints")
      .selectAll()
      .where("operation_id", "=", operationId)
      .executeTakeFirst();
    return row
      ? {
          operationId: row.operation_id,
          offset: Number(row.offset),
          length: Number(row.length),
          validator: row.validator,
          checkpoint: row.checkpoint,
          updatedAt: Number(row.updated_at),
        }
      : null;
  }

  async save(r: ImportCheckpointRecord): Promise<void> {
    const row = {
      operation_id: r.operationId,
      offset: r.offset,
      length: r.length,
      validator: r.validator,
      checkpoint: r.checkpoint,
      updated_at: r.updatedAt,
    };
    await this.db
      .insertInto("import_checkpoints")
      .values(row)
      .onConflict((oc) => oc.column("operation_id").doUpdateSet(row))
      .execute();
  }

  async remove(operationId: string): Promise<void> {
    await this.db.deleteFrom("import_checkpoints").where("operation_id", "=", operationId).execute();
  }
}

export class SqlOperationCredentialStore implements OperationCredentialStore {
  constructor(private readonly db: Db) {}

  async find(operationId: string): Promise<string | null> {
    const row = await this.db
      .selectFrom("operation_credentials")
      .select("credential")
      .where("operation_id", "=", operationId)
      .executeTakeFirst();
    return row?.credential ?? null;
  }

  async save(operationId: string, credential: string): Promise<void> {
    const row = { operation_id: operationId, credential, created_at: Date.now() };
    await this.db
      .insertInto("operation_credentials")
      .values(row)
      .onConflict((oc) => oc.column("operation_id").doUpdateSet(row))
      .execute();
  }

  async remove(operationId: string): Promise<void> {
    await this.db.deleteFrom("operation_credentials").where("operation_id", "=", operationId).execute();
  }
}
