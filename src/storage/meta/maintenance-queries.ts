import { convertedBlobKey } from "../../core/conversion/convert-data.js";
import type { OperationKind } from "../../core/operation.js";
import type { Db } from "./database.js";
import { decodeTask } from "./operation-tasks.js";

/**
 * The catalog as `vitrine doctor` reads it: what images hold, what work in flight may commit, the
 * hidden upload images a client left. Plain reads of the tables (the service may be running);
 * stored operations are read through the one task decoder the workers use.
 */

/** An image that names a blob, with what the catalog recorded of it. */
export interface ImageWithData {
  id: string;
  uuid: string;
  status: string;
  blobKey: string;
  size: number;
  md5: string | null;
  sha512: string | null;
}

export async function imagesWithData(db: Db): Promise<ImageWithData[]> {
  const rows = await db
    .selectFrom("images")
    .select(["id", "uuid", "status", "blob_key", "size", "checksum_md5", "checksum_sha512"])
    .where("blob_key", "is not", null)
    .orderBy("blob_key")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    uuid: r.uuid,
    status: r.status,
    blobKey: r.blob_key!,
    size: Number(r.size ?? 0),
    md5: r.checksum_md5,
    sha512: r.checksum_sha512,
  }));
}

/**
 * Blob keys that work in flight may commit before an image names them: unfinished operations'
 * (their own id, and staged data they import) and uploads'.
 */
export async function keysInFlight(db: Db): Promise<string[]> {
  const ops = await db
    .selectFrom("operations")
    .select(["id", "kind", "payload"])
    .where("done", "=", 0)
    .execute();
  const uploads = await db.selectFrom("uploads").select("blob_key").execute();
  const staged = ops.flatMap((o) => {
    const task = decodeTask(o.kind as OperationKind, o.payload);
    return task.type === "create" && task.source.type === "staged" ? [task.source.blobKey] : [];
  });
  return [
    ...ops.flatMap((o) => [o.id, convertedBlobKey(o.id)]),
    ...staged,
    ...uploads.map((u) => u.blob_key),
  ];
}

/** A hidden upload image of the CLI, as stored. */
export interface StaleMarkedImage {
  id: string;
  uuid: string;
  status: string;
  blobKey: string | null;
  updatedAt: number;
}

/**
 * Images carrying `property`, unchanged since before `cutoff`, receiving no data and used by no
 * unfinished operation (neither as its image nor named in its task).
 */
export async function staleMarkedImages(
  db: Db,
  property: string,
  cutoff: number,
): Promise<StaleMarkedImage[]> {
  const rows = await db
    .selectFrom("images")
    .innerJoin("image_properties", "image_properties.image_id", "images.id")
    .select(["images.id", "images.uuid", "images.status", "images.blob_key", "images.updated_at"])
    .where("image_properties.name", "=", property)
    .where("images.updated_at", "<", cutoff)
    .where("images.status", "not in", ["saving", "uploading", "importing", "deleting"])
    .execute();
  const stale: StaleMarkedImage[] = [];
  for (const row of rows) {
    const inUse = await db
      .selectFrom("operations")
      .select("id")
      .where("done", "=", 0)
      .where((eb) => eb.or([eb("resource_id", "=", row.id), eb("payload", "like", `%${row.id}%`)]))
      .executeTakeFirst();
    if (!inUse)
      stale.push({
        id: row.id,
        uuid: row.uuid,
        status: row.status,
        blobKey: row.blob_key,
        updatedAt: Number(row.updated_at),
      });
  }
  return stale;
}
