import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config.js";
import type { MaintainedBlobStore } from "./blob/blob-inventory.js";
import { FsBlobStore } from "./blob/fs-blob-store.js";
import { S3BlobStore, s3Client } from "./blob/s3-blob-store.js";
import type { BlobStore } from "../core/ports/blob-store.js";
import { type NamedStore, StoreSet } from "./blob/store-set.js";
import { type Db, openPostgres, openSqlite } from "./meta/database.js";
import { openPostgresCatalog, openSqliteCatalog } from "./meta/open-catalog.js";
import type { ServiceCatalog, SqlEngine } from "./meta/sql-catalog.js";

type StoreConfig = Pick<Config, "dataDir" | "databaseUrl" | "s3">;
type CatalogConfig = StoreConfig & Partial<Pick<Config, "events">>;

export const sqliteFile = (config: Pick<Config, "dataDir">) => path.join(config.dataDir, "vitrine.sqlite");

/** The catalog a configuration names (PostgreSQL, or the data directory's SQLite), migrated. */
export function catalogFor(config: CatalogConfig): Promise<ServiceCatalog> {
  const options = { events: config.events?.enabled ?? true };
  return config.databaseUrl
    ? openPostgresCatalog(config.databaseUrl, options)
    : openSqliteCatalog(sqliteFile(config), options);
}

/**
 * The catalog's database itself, not migrated (for copying an installation as it is). `readOnly`:
 * an installation only read (copy's source, doctor without --repair) — nothing is created or
 * written, and a read-only data directory is fine.
 */
export function databaseFor(
  config: StoreConfig,
  { readOnly = false }: { readOnly?: boolean } = {},
): { db: Db; engine: SqlEngine } {
  return config.databaseUrl
    ? { db: openPostgres(config.databaseUrl), engine: "postgres" }
    : { db: openSqlite(sqliteFile(config), { readOnly }), engine: "sqlite" };
}

/** Whether the configuration names an installation (its database exists; PostgreSQL is assumed to). */
export function installationExists(config: Pick<Config, "dataDir" | "databaseUrl">): boolean {
  return config.databaseUrl !== null || fs.existsSync(sqliteFile(config));
}

/**
 * The blob store a configuration names (an S3 bucket, or the data directory). `readOnly`: for
 * tools that only read and delete (doctor, copy's source), which write no parts, so no spool
 * directory is made or swept.
 */
export async function blobStoreFor(
  config: StoreConfig,
  { readOnly = false }: { readOnly?: boolean } = {},
): Promise<MaintainedBlobStore> {
  if (config.s3) {
    const store = new S3BlobStore(s3Client(config.s3), {
      bucket: config.s3.bucket,
      prefix: config.s3.prefix,
      spoolDir: path.join(config.dataDir, "s3-spool"),
    });
    return readOnly ? store : await store.init();
  }
  const store = new FsBlobStore(path.join(config.dataDir, "blobs"));
  return readOnly ? await store.open() : await store.init();
}

/**
 * Every named store of a configuration (README "Stores, cache and regions"): the installation's
 * own (`blobStoreFor`) under VITRINE_STORE_ID, then VITRINE_STORES's; `wrap` dresses each one
 * (the metrics' counting).
 */
export async function storeSetFor(
  config: Pick<Config, "dataDir" | "databaseUrl" | "s3" | "stores">,
  wrap: (store: BlobStore) => BlobStore = (store) => store,
): Promise<StoreSet> {
  const { stores } = config;
  const describe = (id: string, kind: "file" | "s3", description: string) => ({
    id,
    kind,
    description,
    isDefault: id === stores.defaultId,
  });
  const named: NamedStore[] = [
    {
      info: config.s3
        ? describe(
            stores.primaryId,
            "s3",
            `S3 bucket ${config.s3.bucket}${config.s3.prefix ? `/${config.s3.prefix}` : ""}`,
          )
        : describe(
            stores.primaryId,
            "file",
            `the data directory's blobs (${path.join(config.dataDir, "blobs")})`,
          ),
      store: wrap(await blobStoreFor(config)),
    },
  ];
  for (const more of stores.more) {
    if (more.kind === "file") {
      named.push({
        info: describe(more.id, "file", `directory ${more.dir}`),
        store: wrap(await new FsBlobStore(more.dir).init()),
      });
    } else {
      const store = new S3BlobStore(s3Client(more.s3), {
        bucket: more.s3.bucket,
        prefix: more.s3.prefix,
        spoolDir: path.join(config.dataDir, `s3-spool-${more.id}`),
      });
      named.push({
        info: describe(
          more.id,
          "s3",
          `S3 bucket ${more.s3.bucket}${more.s3.prefix ? `/${more.s3.prefix}` : ""}`,
        ),
        store: wrap(await store.init()),
      });
    }
  }
  return new StoreSet(named, stores.primaryId);
}
