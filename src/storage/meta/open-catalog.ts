import type { Catalog } from "../../core/ports/catalog.js";
import { migrateToLatest, openSqlite } from "./database.js";
import { sqlCatalog } from "./sql-catalog.js";

/** The embedded catalog: a SQLite file, migrated to the latest schema. */
export async function openSqliteCatalog(file: string): Promise<Catalog> {
  const db = openSqlite(file);
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return sqlCatalog(db);
}
