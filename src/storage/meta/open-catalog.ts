import type { Catalog } from "../../core/ports/catalog.js";
import { type Db, migrateToLatest, openPostgres, openSqlite } from "./database.js";
import { sqlCatalog } from "./sql-catalog.js";

/** The embedded catalog: a SQLite file (or `:memory:`), migrated to the latest schema. */
export function openSqliteCatalog(file: string): Promise<Catalog> {
  return migrated(openSqlite(file), "sqlite");
}

/** A PostgreSQL catalog (`postgres://...`), migrated to the latest schema. */
export function openPostgresCatalog(url: string): Promise<Catalog> {
  return migrated(openPostgres(url), "postgres");
}

async function migrated(db: Db, dialect: "sqlite" | "postgres"): Promise<Catalog> {
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return sqlCatalog(db, dialect);
}
