import type { Image, ImageKind } from "../../core/image.js";
import type { RetentionAction, RetentionRule } from "../../core/lifecycle/lifecycle.js";
import type { LifecycleStore } from "../../core/ports/catalog.js";
import type { Db } from "./database.js";
import { toImage } from "./image-rows.js";
import type { RetentionRulesTable } from "./schema.js";

function toRule(row: RetentionRulesTable): RetentionRule {
  return {
    folderId: row.folder_id,
    family: row.family,
    keep: Number(row.keep),
    action: row.action as RetentionAction,
    afterSeconds: Number(row.after_seconds),
    createdAt: Number(row.created_at),
  };
}

/** `folder_settings`, `retention_rules`, and the lifecycle's reads of `images`. */
export class SqlLifecycleStore implements LifecycleStore {
  constructor(private readonly db: Db) {}

  async binRetention(folderId: string): Promise<number | null> {
    const row = await this.db
      .selectFrom("folder_settings")
      .select("bin_retention_seconds")
      .where("folder_id", "=", folderId)
      .executeTakeFirst();
    return row?.bin_retention_seconds == null ? null : Number(row.bin_retention_seconds);
  }

  async setBinRetention(folderId: string, seconds: number | null): Promise<void> {
    await this.db
      .insertInto("folder_settings")
      .values({ folder_id: folderId, bin_retention_seconds: seconds })
      .onConflict((oc) => oc.column("folder_id").doUpdateSet({ bin_retention_seconds: seconds }))
      .execute();
  }

  async rules(folderId: string): Promise<RetentionRule[]> {
    const rows = await this.db
      .selectFrom("retention_rules")
      .selectAll()
      .where("folder_id", "=", folderId)
      .orderBy("family")
      .execute();
    return rows.map(toRule);
  }

  async rule(folderId: string, family: string): Promise<RetentionRule | null> {
    const row = await this.db
      .selectFrom("retention_rules")
      .selectAll()
      .where("folder_id", "=", folderId)
      .where("family", "=", family)
      .executeTakeFirst();
    return row ? toRule(row) : null;
  }

  async putRule(rule: RetentionRule): Promise<void> {
    const values = {
      folder_id: rule.folderId,
      family: rule.family,
      keep: rule.keep,
      action: rule.action,
      after_seconds: rule.afterSeconds,
      created_at: rule.createdAt,
    };
    await this.db
      .insertInto("retention_rules")
      .values(values)
      .onConflict((oc) =>
        oc.columns(["folder_id", "family"]).doUpdateSet({
          keep: rule.keep,
          action: rule.action,
          after_seconds: rule.afterSeconds,
        }),
      )
      .execute();
  }

  async deleteRule(folderId: string, family: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom("retention_rules")
      .where("folder_id", "=", folderId)
      .where("family", "=", family)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async familyWithData(kind: ImageKind, folderId: string, family: string): Promise<Image[]> {
    const rows = await this.db
      .selectFrom("images")
      .selectAll()
      .where("kind", "=", kind)
      .where("folder_id", "=", folderId)
      .where("family", "=", family)
      .where("status", "in", ["active", "updating", "deactivated"])
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .execute();
    return rows.map(toImage);
  }

  async binned(folderId: string, limit: number, after?: { binnedAt: number; id: string }): Promise<Image[]> {
    let q = this.db
      .selectFrom("images")
      .selectAll()
      .where("folder_id", "=", folderId)
      .where("status", "=", "binned");
    if (after) {
      q = q.where((eb) => eb(eb.refTuple("binned_at", "id"), "<", eb.tuple(after.binnedAt, after.id)));
    }
    const rows = await q
      .orderBy("binned_at", "desc")
      .orderBy("id", "desc")
      .limit(limit + 1)
      .execute();
    return rows.map(toImage);
  }

  async recordUse(imageId: string, now: number): Promise<void> {
    await this.db
      .updateTable("images")
      .set((eb) => ({ last_used_at: now, use_count: eb("use_count", "+", 1) }))
      .where("id", "=", imageId)
      .execute();
  }
}
