import { type Db, migrateToLatest, openPostgres, openSqlite } from "./database.js";
import { type ServiceCatalog, sqlCatalog } from "./sql-catalog.js";

/** The embedded catalog: a SQLite file (or `:memory:`), migrated to the latest schema. */
export function openSqliteCatalog(file: string): Promise<ServiceCatalog> {
  return migrated(openSqlite(file), "sqlite");
}

/** A PostgreSQL catalog (`postgres://...`), migrated to the latest schema. */
export function openPostgresCatalog(url: string): Promise<ServiceCatalog> {
  return migrated(openPostgres(url), "postgres");
}

async function migrated(db: Db, engine: "sqlite" | "postgres"): Promise<ServiceCatalog> {
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return sqlCatalog(db, engine);
}
