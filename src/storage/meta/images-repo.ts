import { type Selectable, type SqlBool, sql } from "kysely";
import type { Image, ImageKind, ImageStatus, OsType } from "../../core/image.js";
import type { Db } from "./database.js";
import type { ImagesTable } from "./schema.js";

type Row = Selectable<ImagesTable>;

function toImage(row: Row): Image {
  return {
    id: row.id,
    uuid: row.uuid,
    kind: row.kind as ImageKind,
    folderId: row.folder_id,
    name: row.name,
    description: row.description,
    labels: JSON.parse(row.labels) as Record<string, string>,
    family: row.family,
    minDiskSize: Number(row.min_disk_size),
    productIds: JSON.parse(row.product_ids) as string[],
    osType: row.os_type as OsType,
    pooled: row.pooled === 1,
    hardwareGeneration: row.hardware_generation ? JSON.parse(row.hardware_generation) : null,
    status: row.status as ImageStatus,
    visibility: row.visibility as Image["visibility"],
    protected: row.protected === 1,
    osHidden: row.os_hidden === 1,
    tags: JSON.parse(row.tags) as string[],
    properties: JSON.parse(row.properties) as Record<string, string>,
    diskFormat: row.disk_format,
    containerFormat: row.container_format,
    minRam: Number(row.min_ram),
    size: row.size === null ? null : Number(row.size),
    virtualSize: row.virtual_size === null ? null : Number(row.virtual_size),
    checksumMd5: row.checksum_md5,
    checksumSha512: row.checksum_sha512,
    blobKey: row.blob_key,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    version: row.version,
  };
}

function toRow(image: Image): Row {
  return {
    id: image.id,
    uuid: image.uuid,
    kind: image.kind,
    folder_id: image.folderId,
    name: image.name,
    description: image.description,
    labels: JSON.stringify(image.labels),
    family: image.family,
    min_disk_size: image.minDiskSize,
    product_ids: JSON.stringify(image.productIds),
    os_type: image.osType,
    pooled: image.pooled ? 1 : 0,
    hardware_generation: image.hardwareGeneration ? JSON.stringify(image.hardwareGeneration) : null,
    status: image.status,
    visibility: image.visibility,
    protected: image.protected ? 1 : 0,
    os_hidden: image.osHidden ? 1 : 0,
    tags: JSON.stringify(image.tags),
    properties: JSON.stringify(image.properties),
    disk_format: image.diskFormat,
    container_format: image.containerFormat,
    min_ram: image.minRam,
    size: image.size,
    virtual_size: image.virtualSize,
    checksum_md5: image.checksumMd5,
    checksum_sha512: image.checksumSha512,
    blob_key: image.blobKey,
    created_at: image.createdAt,
    updated_at: image.updatedAt,
    version: image.version,
  };
}

/** A list condition in core terms; dialects translate their filter syntax into these. */
export interface ImageCondition {
  field: "id" | "name" | "family" | "status";
  /** "contains": the field contains the (single) value as a substring. */
  op: "in" | "not in" | "contains";
  values: string[];
}

export type ImageOrderField = "id" | "created_at" | "name";

export interface ImageListQuery {
  kind: ImageKind;
  folderId: string;
  conditions: ImageCondition[];
  order: { field: ImageOrderField; dir: "asc" | "desc" };
  /** Keyset cursor: the sort value and id of the last row of the previous page. */
  after?: { value: string | number; id: string };
  limit: number;
}

export class ImagesRepo {
  async insert(db: Db, image: Image): Promise<void> {
    await db.insertInto("images").values(toRow(image)).execute();
  }

  async findById(db: Db, id: string): Promise<Image | null> {
    const row = await db.selectFrom("images").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toImage(row) : null;
  }

  async findByUuid(db: Db, uuid: string): Promise<Image | null> {
    const row = await db.selectFrom("images").selectAll().where("uuid", "=", uuid).executeTakeFirst();
    return row ? toImage(row) : null;
  }

  /**
   * Saves `image` only if nobody changed it since it was read (optimistic concurrency on
   * `version`). Returns the saved image, or null when the stored version moved on.
   */
  async update(db: Db, image: Image, now: number): Promise<Image | null> {
    const next: Image = { ...image, version: image.version + 1, updatedAt: now };
    const { id: _id, ...values } = toRow(next);
    const result = await db
      .updateTable("images")
      .set(values)
      .where("id", "=", image.id)
      .where("version", "=", image.version)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? next : null;
  }

  async delete(db: Db, id: string): Promise<void> {
    await db.deleteFrom("images").where("id", "=", id).execute();
  }

  async isNameTaken(
    db: Db,
    kind: ImageKind,
    folderId: string,
    name: string,
    exceptId?: string,
  ): Promise<boolean> {
    let q = db
      .selectFrom("images")
      .select("id")
      .where("kind", "=", kind)
      .where("folder_id", "=", folderId)
      .where("name", "=", name);
    if (exceptId) q = q.where("id", "!=", exceptId);
    return (await q.executeTakeFirst()) !== undefined;
  }

  async countBlobReferences(db: Db, blobKey: string): Promise<number> {
    const row = await db
      .selectFrom("images")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("blob_key", "=", blobKey)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The newest image of a family with one of `statuses`, or null. */
  async latestByFamily(
    db: Db,
    kind: ImageKind,
    folderId: string,
    family: string,
    statuses: ImageStatus[],
  ): Promise<Image | null> {
    const row = await db
      .selectFrom("images")
      .selectAll()
      .where("kind", "=", kind)
      .where("folder_id", "=", folderId)
      .where("family", "=", family)
      .where("status", "in", statuses)
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? toImage(row) : null;
  }

  /** One page in keyset order; asks for `limit + 1` rows so the caller knows whether more remain. */
  async list(db: Db, q: ImageListQuery): Promise<Image[]> {
    const { field, dir } = q.order;
    let query = db
      .selectFrom("images")
      .selectAll()
      .where("kind", "=", q.kind)
      .where("folder_id", "=", q.folderId);
    for (const c of q.conditions) {
      if (c.op === "contains") {
        const pattern = `%${(c.values[0] ?? "").replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
        query = query.where(sql<SqlBool>`${sql.ref(c.field)} like ${pattern} escape '\\'`);
      } else {
        query = query.where(c.field, c.op, c.values);
      }
    }
    const after = q.after;
    if (after) {
      const cmp = dir === "asc" ? ">" : "<";
      if (field === "id") {
        query = query.where("id", cmp, after.id);
      } else {
        // A row-value comparison lets the database seek the (field, id) index straight to the
        // cursor; the equivalent OR of two conditions makes SQLite scan from the start.
        query = query.where((eb) =>
          eb(eb.refTuple(field, "id"), cmp, eb.tuple(after.value as never, after.id)),
        );
      }
    }
    if (field !== "id") query = query.orderBy(field, dir);
    const rows = await query
      .orderBy("id", dir)
      .limit(q.limit + 1)
      .execute();
    return rows.map(toImage);
  }
}
