import type { ConversionPolicy } from "../../core/conversion/conversion-policy.js";
import type { DiskFormat } from "../../core/disk-format.js";
import type { FolderSettingsStore } from "../../core/ports/catalog.js";
import type { Db } from "./database.js";

/** `folder_settings`' conversion columns (the recycle bin's are the lifecycle store's). */
export class SqlFolderSettingsStore implements FolderSettingsStore {
  constructor(private readonly db: Db) {}

  async conversion(folderId: string): Promise<ConversionPolicy | null> {
    const row = await this.db
      .selectFrom("folder_settings")
      .select(["conversion_target", "conversion_keep"])
      .where("folder_id", "=", folderId)
      .executeTakeFirst();
    if (!row || row.conversion_target === null) return null;
    return {
      target: row.conversion_target === "none" ? null : (row.conversion_target as DiskFormat),
      keep: (row.conversion_keep ?? "").split(",").filter(Boolean) as DiskFormat[],
    };
  }

  async setConversion(folderId: string, policy: ConversionPolicy | null): Promise<void> {
    const values = {
      conversion_target: policy === null ? null : (policy.target ?? "none"),
      conversion_keep: policy === null ? null : policy.keep.join(","),
    };
    await this.db
      .insertInto("folder_settings")
      .values({ folder_id: folderId, bin_retention_seconds: null, ...values })
      .onConflict((oc) => oc.column("folder_id").doUpdateSet(values))
      .execute();
  }
}
