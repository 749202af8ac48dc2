import fs from "node:fs";
import path from "node:path";
import type { BlobStore } from "../../src/core/ports/blob-store.js";
import type { Catalog } from "../../src/core/ports/catalog.js";
import { FsBlobStore } from "../../src/storage/blob/fs-blob-store.js";
import { openPostgresCatalog, openSqliteCatalog } from "../../src/storage/meta/open-catalog.js";
import { type PostgresServer, startPostgres } from "../helpers/postgres.js";
import { tempDir } from "../helpers/server.js";

/**
 * Every implementation of a port, bound to its contract suite: a new backend is added here and
 * is done when its contract passes.
 */
export interface Backend<T> {
  name: string;
  open(): Promise<{ store: T; close(): Promise<void> }>;
  /** Stops whatever server the backend started for the suite. */
  shutdown?(): Promise<void>;
}

export const BLOB_STORES: Backend<BlobStore>[] = [
  {
    name: "filesystem",
    open: async () => {
      const dir = tempDir("blobs");
      return {
        store: await new FsBlobStore(path.join(dir, "blobs")).init(),
        close: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];

let postgres: Promise<PostgresServer> | null = null;

export const CATALOGS: Backend<Catalog>[] = [
  {
    name: "SQLite (in memory)",
    open: async () => {
      const catalog = await openSqliteCatalog(":memory:");
      return { store: catalog, close: () => catalog.close() };
    },
  },
  {
    // A private cluster started once for the suite; every test gets a fresh database.
    name: "PostgreSQL",
    open: async () => {
      const server = await (postgres ??= startPostgres());
      const url = await server.createDatabase();
      const catalog = await openPostgresCatalog(url);
      return {
        store: catalog,
        close: async () => {
          await catalog.close();
          server.dropDatabase(url);
        },
      };
    },
    shutdown: async () => {
      if (postgres) (await postgres).stop();
      postgres = null;
    },
  },
];
