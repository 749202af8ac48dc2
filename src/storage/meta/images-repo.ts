import {
  type Expression,
  type ExpressionBuilder,
  type RawBuilder,
  type Selectable,
  type SqlBool,
  sql,
} from "kysely";
import { VitrineError } from "../../core/errors.js";
import type { Image, ImageKind, ImageStatus, OsType } from "../../core/image.js";
import type { Db } from "./database.js";
import type { Database, ImagesTable } from "./schema.js";

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

/** A column the OpenStack list can filter on, with its comparison. */
export interface ColumnCondition {
  column:
    | "uuid"
    | "name"
    | "status"
    | "visibility"
    | "folder_id"
    | "disk_format"
    | "container_format"
    | "protected"
    | "os_hidden"
    | "size"
    | "created_at"
    | "updated_at";
  op: "in" | "=" | "!=" | ">" | ">=" | "<" | "<=";
  values: (string | number)[];
}

export type SearchSortKey =
  "name" | "status" | "container_format" | "disk_format" | "size" | "uuid" | "created_at" | "updated_at";

/**
 * Which images a caller may see in a cross-folder list (core/access.ts decides; this only says
 * it in SQL): everything, or images of `owners`, plus public/community ones, plus shared images
 * whose membership for one of `sharedWith.projects` is in one of `sharedWith.statuses`.
 */
export interface SearchScope {
  all: boolean;
  owners: string[];
  public: boolean;
  community: boolean;
  sharedWith: { projects: string[]; statuses: string[] } | null;
}

export interface ImageSearch {
  scope: SearchScope;
  conditions: ColumnCondition[];
  /** Every tag must be present. */
  tags: string[];
  /** Every property must have the value. */
  properties: { name: string; value: string }[];
  sort: { key: SearchSortKey; dir: "asc" | "desc" }[];
  /** The image the previous page ended with. */
  after?: Image;
  limit: number;
}

/** Sort keys as SQL expressions; nullable columns sort as if null were the lowest value. */
const SORT_EXPRESSIONS: Record<SearchSortKey, RawBuilder<unknown>> = {
  name: sql`name`,
  status: sql`status`,
  container_format: sql`coalesce(container_format, '')`,
  disk_format: sql`coalesce(disk_format, '')`,
  size: sql`coalesce(size, -1)`,
  uuid: sql`uuid`,
  created_at: sql`created_at`,
  updated_at: sql`updated_at`,
};

function sortValueOf(image: Image, key: SearchSortKey): string | number {
  switch (key) {
    case "name":
      return image.name;
    case "status":
      return image.status;
    case "container_format":
      return image.containerFormat ?? "";
    case "disk_format":
      return image.diskFormat ?? "";
    case "size":
      return image.size ?? -1;
    case "uuid":
      return image.uuid;
    case "created_at":
      return image.createdAt;
    case "updated_at":
      return image.updatedAt;
  }
}

/**
 * Rows after the cursor in a multi-key order: a single row-value comparison when all keys share
 * a direction (the database seeks its index), otherwise the equivalent expansion
 * (k1 > v1) OR (k1 = v1 AND k2 < v2) OR ...
 */
function afterCursor(
  keys: { expr: RawBuilder<unknown>; dir: "asc" | "desc"; value: unknown }[],
): RawBuilder<SqlBool> {
  const cmp = (dir: "asc" | "desc") => sql.raw(dir === "asc" ? ">" : "<");
  if (keys.every((k) => k.dir === keys[0]!.dir)) {
    return sql<SqlBool>`(${sql.join(keys.map((k) => k.expr))}) ${cmp(keys[0]!.dir)} (${sql.join(keys.map((k) => k.value))})`;
  }
  const branches = keys.map((k, i) => {
    const equal = keys.slice(0, i).map((p) => sql`${p.expr} = ${p.value}`);
    return sql`(${sql.join([...equal, sql`${k.expr} ${cmp(k.dir)} ${k.value}`], sql` and `)})`;
  });
  return sql<SqlBool>`(${sql.join(branches, sql` or `)})`;
}

export class ImagesRepo {
  async insert(db: Db, image: Image): Promise<void> {
    await db.insertInto("images").values(toRow(image)).execute();
    await this.syncSideTables(db, image);
  }

  /** Tags and properties also live as rows, so lists can filter on them through an index. */
  private async syncSideTables(db: Db, image: Image): Promise<void> {
    await db.deleteFrom("image_tags").where("image_id", "=", image.id).execute();
    await db.deleteFrom("image_properties").where("image_id", "=", image.id).execute();
    if (image.tags.length > 0) {
      await db
        .insertInto("image_tags")
        .values(image.tags.map((tag) => ({ image_id: image.id, tag })))
        .execute();
    }
    const props = Object.entries(image.properties);
    if (props.length > 0) {
      await db
        .insertInto("image_properties")
        .values(props.map(([name, value]) => ({ image_id: image.id, name, value })))
        .execute();
    }
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
    if (Number(result.numUpdatedRows) !== 1) return null;
    await this.syncSideTables(db, next);
    return next;
  }

  /**
   * `update`, failing with ABORTED when someone changed the image since it was read; `label` is
   * how the caller's dialect names the image in that message.
   */
  async updateOrAbort(db: Db, image: Image, now: number, label = image.id): Promise<Image> {
    const saved = await this.update(db, image, now);
    if (!saved) throw new VitrineError("ABORTED", `Image ${label} was changed concurrently; retry`);
    return saved;
  }

  async delete(db: Db, id: string): Promise<void> {
    // Child rows first: SQLite only cascades with foreign_keys on, PostgreSQL always; be explicit.
    await db.deleteFrom("image_tags").where("image_id", "=", id).execute();
    await db.deleteFrom("image_properties").where("image_id", "=", id).execute();
    await db.deleteFrom("image_members").where("image_id", "=", id).execute();
    await db
      .deleteFrom("access_bindings")
      .where("resource_type", "=", "image")
      .where("resource_id", "=", id)
      .execute();
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

  /** One page of a cross-folder search (the OpenStack list), in keyset order; `limit + 1` rows. */
  async search(db: Db, q: ImageSearch): Promise<Image[]> {
    let query = db
      .selectFrom("images")
      .selectAll()
      .where("status", "!=", "deleting")
      .where((eb) => scopeExpression(eb, q.scope));
    for (const c of q.conditions) {
      query =
        c.op === "in"
          ? query.where(c.column, "in", c.values)
          : query.where(c.column, c.op, c.values[0] as never);
    }
    for (const tag of q.tags) {
      query = query.where((eb) =>
        eb.exists(
          eb
            .selectFrom("image_tags")
            .select("image_tags.image_id")
            .whereRef("image_tags.image_id", "=", "images.id")
            .where("image_tags.tag", "=", tag),
        ),
      );
    }
    for (const p of q.properties) {
      query = query.where((eb) =>
        eb.exists(
          eb
            .selectFrom("image_properties")
            .select("image_properties.image_id")
            .whereRef("image_properties.image_id", "=", "images.id")
            .where("image_properties.name", "=", p.name)
            .where("image_properties.value", "=", p.value),
        ),
      );
    }
    const lastDir = q.sort[q.sort.length - 1]?.dir ?? "desc";
    const keys = [
      ...q.sort.map((k) => ({ ...k, expr: SORT_EXPRESSIONS[k.key] })),
      { key: "id" as const, dir: lastDir, expr: sql`id` },
    ];
    const after = q.after;
    if (after) {
      query = query.where(
        afterCursor(
          keys.map((k) => ({
            expr: k.expr,
            dir: k.dir,
            value: k.key === "id" ? after.id : sortValueOf(after, k.key),
          })),
        ),
      );
    }
    for (const k of keys) query = query.orderBy(k.expr, k.dir);
    const rows = await query.limit(q.limit + 1).execute();
    return rows.map(toImage);
  }
}

function scopeExpression(eb: ExpressionBuilder<Database, "images">, scope: SearchScope): Expression<SqlBool> {
  if (scope.all) return sql<SqlBool>`1 = 1`;
  const branches: Expression<SqlBool>[] = [];
  if (scope.owners.length > 0) branches.push(eb("folder_id", "in", scope.owners));
  if (scope.public) branches.push(eb("visibility", "=", "public"));
  if (scope.community) branches.push(eb("visibility", "=", "community"));
  const shared = scope.sharedWith;
  if (shared && shared.projects.length > 0 && shared.statuses.length > 0) {
    branches.push(
      eb.and([
        eb("visibility", "=", "shared"),
        eb.exists(
          eb
            .selectFrom("image_members")
            .select("image_members.image_id")
            .whereRef("image_members.image_id", "=", "images.id")
            .where("image_members.member_id", "in", shared.projects)
            .where("image_members.status", "in", shared.statuses),
        ),
      ]),
    );
  }
  return branches.length > 0 ? eb.or(branches) : sql<SqlBool>`1 = 0`;
}
