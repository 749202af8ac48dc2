import fs from "node:fs";
import path from "node:path";
import type { BlobStore } from "../../src/core/ports/blob-store.js";
import type { Catalog } from "../../src/core/ports/catalog.js";
import { FsBlobStore } from "../../src/storage/blob/fs-blob-store.js";
import { openSqliteCatalog } from "../../src/storage/meta/open-catalog.js";
import { tempDir } from "../helpers/server.js";

/**
 * Every implementation of a port, bound to its contract suite: a new backend is added here and
 * is done when its contract passes.
 */
export interface Backend<T> {
  name: string;
  open(): Promise<{ store: T; close(): Promise<void> }>;
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

export const CATALOGS: Backend<Catalog>[] = [
  {
    name: "SQLite (in memory)",
    open: async () => {
      const catalog = await openSqliteCatalog(":memory:");
      return { store: catalog, close: () => catalog.close() };
    },
  },
];
