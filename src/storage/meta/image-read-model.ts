import { type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool, sql } from "kysely";
import type { ImageListQuery, ImageSearch, SearchScope, SearchSortKey } from "../../core/image-query.js";
import type { Image, ImageKind, ImageStatus } from "../../core/image.js";
import type { FolderSummary, ImageReadModel } from "../../core/ports/catalog.js";
import type { Db } from "./database.js";
import { toImage } from "./image-rows.js";
import type { Database } from "./schema.js";

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

/** When an image was last used, or created when it never was: "unused since" asks this. */
const LAST_USED = sql<number>`coalesce(last_used_at, created_at)`;

/** The image read model: folder lists and cross-folder searches in keyset order. */
export class SqlImageReadModel implements ImageReadModel {
  constructor(private readonly db: Db) {}

  /** The newest image of a family with one of `statuses`, or null. */
  async summarize(folderId: string | null, limit: number): Promise<FolderSummary[]> {
    let counts = this.db
      .selectFrom("images")
      .select([
        "folder_id",
        (eb) => eb.fn.countAll<number>().as("images"),
        (eb) => eb.fn.count<number>("blob_key").as("with_data"),
        (eb) =>
          eb.fn
            .coalesce(
              eb.fn.sum<number>(
                eb.case().when("blob_key", "is not", null).then(eb.ref("size")).else(0).end(),
              ),
              eb.lit(0),
            )
            .as("referenced"),
      ])
      // The recycle bin's images are deleted for the dialects (its own list shows them).
      .where("status", "<>", "binned")
      .groupBy("folder_id");
    if (folderId !== null) counts = counts.where("folder_id", "=", folderId);
    // One blob counts once per folder however many of its images name it.
    let blobs = this.db
      .selectFrom((eb) =>
        eb
          .selectFrom("images")
          .select(["folder_id", "blob_key", "size"])
          .distinct()
          .where("blob_key", "is not", null)
          .where("status", "<>", "binned")
          .as("b"),
      )
      .select(["b.folder_id", (eb) => eb.fn.coalesce(eb.fn.sum<number>("b.size"), eb.lit(0)).as("stored")])
      .groupBy("b.folder_id");
    if (folderId !== null) blobs = blobs.where("b.folder_id", "=", folderId);
    const stored = new Map((await blobs.execute()).map((r) => [r.folder_id, Number(r.stored)]));
    const rows = (await counts.execute()).map((r) => ({
      folderId: r.folder_id,
      images: Number(r.images),
      withData: Number(r.with_data),
      referencedBytes: Number(r.referenced),
      storedBytes: stored.get(r.folder_id) ?? 0,
    }));
    return rows
      .sort((a, b) => b.storedBytes - a.storedBytes || a.folderId.localeCompare(b.folderId))
      .slice(0, limit);
  }

  async latestByFamily(
    kind: ImageKind,
    folderId: string,
    family: string,
    statuses: readonly ImageStatus[],
  ): Promise<Image | null> {
    const row = await this.db
      .selectFrom("images")
      .selectAll()
      .where("kind", "=", kind)
      .where("folder_id", "=", folderId)
      .where("family", "=", family)
      .where("status", "in", [...statuses])
      .where("deprecation_state", "=", "ACTIVE")
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? toImage(row) : null;
  }

  /** One page in keyset order; asks for `limit + 1` rows so the caller knows whether more remain. */
  async list(q: ImageListQuery): Promise<Image[]> {
    const { field, dir } = q.order;
    let query = this.db
      .selectFrom("images")
      .selectAll()
      .where("kind", "=", q.kind)
      .where("folder_id", "=", q.folderId);
    for (const c of q.conditions) {
      if (c.field === "last_used") {
        query = query.where(LAST_USED, c.op, c.values[0]);
      } else if (c.op === "contains") {
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
  async search(q: ImageSearch): Promise<Image[]> {
    let query = this.matching(q).selectAll();
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

  async countMatches(q: ImageSearch, cap: number): Promise<number> {
    const capped = this.matching(q)
      .select(sql<number>`1`.as("one"))
      .limit(cap);
    const row = await this.db
      .selectFrom(capped.as("matched"))
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The images a search's scope, statuses, conditions, tags and properties let through. */
  private matching(q: ImageSearch) {
    let query = this.db
      .selectFrom("images")
      .where("status", "not in", q.hiddenStatuses.length > 0 ? [...q.hiddenStatuses] : [""])
      .where((eb) => scopeExpression(eb, q.scope));
    for (const c of q.conditions) {
      if (c.op === "contains") {
        // A substring in any case, the same on SQLite and PostgreSQL (whose LIKE minds case).
        const pattern = `%${String(c.values[0] ?? "")
          .toLowerCase()
          .replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
        query = query.where(sql<SqlBool>`lower(${sql.ref(c.column)}) like ${pattern} escape '\\'`);
      } else if (c.column === "last_used") {
        query = query.where(LAST_USED, c.op as "<", c.values[0] as number);
      } else {
        query =
          c.op === "in"
            ? query.where(c.column, "in", c.values)
            : query.where(c.column, c.op, c.values[0] as never);
      }
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
    return query;
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
