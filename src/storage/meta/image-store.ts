import type { Image, ImageKind } from "../../core/image.js";
import type { ImageStore } from "../../core/ports/catalog.js";
import { sql } from "kysely";
import type { Db } from "./database.js";
import type { SqlEngine } from "./sql-catalog.js";
import { toImage, toRow } from "./image-rows.js";

/** The image write model: rows of `images`, with tags and properties mirrored into side tables. */
export class SqlImageStore implements ImageStore {
  constructor(
    private readonly db: Db,
    private readonly engine: SqlEngine,
  ) {}

  async insert(image: Image): Promise<void> {
    await this.db.insertInto("images").values(toRow(image)).execute();
    await this.syncSideTables(image);
  }

  /** Tags and properties also live as rows, so lists can filter on them through an index. */
  private async syncSideTables(image: Image): Promise<void> {
    await this.db.deleteFrom("image_tags").where("image_id", "=", image.id).execute();
    await this.db.deleteFrom("image_properties").where("image_id", "=", image.id).execute();
    if (image.tags.length > 0) {
      await this.db
        .insertInto("image_tags")
        .values(image.tags.map((tag) => ({ image_id: image.id, tag })))
        .execute();
    }
    const props = Object.entries(image.properties);
    if (props.length > 0) {
      await this.db
        .insertInto("image_properties")
        .values(props.map(([name, value]) => ({ image_id: image.id, name, value })))
        .execute();
    }
  }

  async findById(id: string): Promise<Image | null> {
    const row = await this.db.selectFrom("images").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toImage(row) : null;
  }

  async findByUuid(uuid: string): Promise<Image | null> {
    const row = await this.db.selectFrom("images").selectAll().where("uuid", "=", uuid).executeTakeFirst();
    return row ? toImage(row) : null;
  }

  async save(current: Image, next: Image, now: number): Promise<Image | null> {
    const saved: Image = { ...next, version: current.version + 1, updatedAt: now };
    // A use is recorded beside saves, not through them (recordUse): a save of an image read
    // before a download must not put its use count back.
    const { id: _id, last_used_at: _lastUsed, use_count: _uses, ...values } = toRow(saved);
    const result = await this.db
      .updateTable("images")
      .set(values)
      .where("id", "=", current.id)
      .where("status", "=", current.status)
      .where("version", "=", current.version)
      .returning(["last_used_at", "use_count"])
      .executeTakeFirst();
    if (!result) return null;
    await this.syncSideTables(saved);
    return {
      ...saved,
      lastUsedAt: result.last_used_at === null ? null : Number(result.last_used_at),
      useCount: Number(result.use_count),
    };
  }

  async delete(id: string): Promise<void> {
    // Child rows first: SQLite only cascades with foreign_keys on, PostgreSQL always; be explicit.
    await this.db.deleteFrom("image_tags").where("image_id", "=", id).execute();
    await this.db.deleteFrom("image_properties").where("image_id", "=", id).execute();
    await this.db.deleteFrom("image_members").where("image_id", "=", id).execute();
    await this.db.deleteFrom("uploads").where("image_id", "=", id).execute();
    await this.db.deleteFrom("quota_reservations").where("image_id", "=", id).execute();
    await this.db
      .deleteFrom("access_bindings")
      .where("resource_type", "=", "image")
      .where("resource_id", "=", id)
      .execute();
    await this.db.deleteFrom("images").where("id", "=", id).execute();
  }

  async isNameTaken(kind: ImageKind, folderId: string, name: string, exceptId?: string): Promise<boolean> {
    if (this.engine === "postgres") {
      // Read committed would let two transactions both see the name free; a transaction-scoped
      // advisory lock on the name serialises them. (SQLite has one writer: nothing to do.)
      await sql`select pg_advisory_xact_lock(hashtextextended(${`${kind}/${folderId}/${name}`}, 0))`.execute(
        this.db,
      );
    }
    let q = this.db
      .selectFrom("images")
      .select("id")
      .where("kind", "=", kind)
      .where("folder_id", "=", folderId)
      .where("name", "=", name)
      // An image in the recycle bin gives its name up (a restore asks for it back).
      .where("status", "<>", "binned");
    if (exceptId) q = q.where("id", "!=", exceptId);
    return (await q.executeTakeFirst()) !== undefined;
  }

  async findPooled(limit: number): Promise<Image[]> {
    const rows = await this.db
      .selectFrom("images")
      .selectAll()
      .where("pooled", "=", 1)
      .where("status", "=", "active")
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map(toImage);
  }

  async findByBlobKey(blobKey: string): Promise<Image[]> {
    const rows = await this.db.selectFrom("images").selectAll().where("blob_key", "=", blobKey).execute();
    return rows.map(toImage);
  }

  async countBlobReferences(blobKey: string): Promise<number> {
    const row = await this.db
      .selectFrom("images")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("blob_key", "=", blobKey)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async countByStatus(): Promise<{ kind: string; status: string; count: number }[]> {
    const rows = await this.db
      .selectFrom("images")
      .select(["kind", "status", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy(["kind", "status"])
      .execute();
    return rows.map((r) => ({ kind: r.kind, status: r.status, count: Number(r.n) }));
  }
}
