import { type Db, migrateToLatest, openPostgres, openSqlite } from "./database.js";
import { type CatalogOptions, type ServiceCatalog, sqlCatalog } from "./sql-catalog.js";

/** The embedded catalog: a SQLite file (or `:memory:`), migrated to the latest schema. */
export function openSqliteCatalog(file: string, options: CatalogOptions = {}): Promise<ServiceCatalog> {
  return migrated(openSqlite(file), "sqlite", options);
}

/** A PostgreSQL catalog (`postgres://...`), migrated to the latest schema. */
export function openPostgresCatalog(url: string, options: CatalogOptions = {}): Promise<ServiceCatalog> {
  return migrated(openPostgres(url), "postgres", options);
}

async function migrated(
  db: Db,
  engine: "sqlite" | "postgres",
  options: CatalogOptions,
): Promise<ServiceCatalog> {
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return sqlCatalog(db, engine, options);
}
