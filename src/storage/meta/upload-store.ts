import type { UploadRecord, UploadStore } from "../../core/ports/catalog.js";
import type { Db } from "./database.js";
import { liveNodeIds } from "./node-registry.js";
import type { UploadsTable } from "./schema.js";

function toUpload(row: UploadsTable): UploadRecord {
  return {
    imageId: row.image_id,
    nodeId: row.node_id,
    blobKey: row.blob_key,
    startedAt: Number(row.started_at),
  };
}

/** The `uploads` table. */
export class SqlUploadStore implements UploadStore {
  constructor(private readonly db: Db) {}

  async begin(upload: UploadRecord): Promise<void> {
    await this.db
      .insertInto("uploads")
      .values({
        image_id: upload.imageId,
        node_id: upload.nodeId,
        blob_key: upload.blobKey,
        started_at: upload.startedAt,
      })
      .execute();
  }

  async find(imageId: string): Promise<UploadRecord | null> {
    const row = await this.db
      .selectFrom("uploads")
      .selectAll()
      .where("image_id", "=", imageId)
      .executeTakeFirst();
    return row ? toUpload(row) : null;
  }

  async end(imageId: string): Promise<void> {
    await this.db.deleteFrom("uploads").where("image_id", "=", imageId).execute();
  }

  async abandoned(liveSince: number): Promise<UploadRecord[]> {
    const rows = await this.db
      .selectFrom("uploads")
      .selectAll()
      .where("node_id", "not in", liveNodeIds(this.db, liveSince))
      .orderBy("started_at")
      .execute();
    return rows.map(toUpload);
  }
}
