import path from "node:path";
import pino from "pino";
import { loadConfig } from "../../src/config.js";
import type { Core } from "../../src/core/core.js";
import type { Operation } from "../../src/core/operation.js";
import type { BlobStore } from "../../src/core/ports/blob-store.js";
import type { Catalog } from "../../src/core/ports/catalog.js";
import type { Principal } from "../../src/core/principal.js";
import { assemble } from "../../src/main.js";
import type { OperationEngine } from "../../src/operations/engine.js";
import { FsBlobStore } from "../../src/storage/blob/fs-blob-store.js";
import { openSqliteCatalog } from "../../src/storage/meta/open-catalog.js";
import { tempDir } from "./server.js";

/** The core with its real stores and workers in this process: SQLite in memory, blobs in a temp dir. */
export interface InProcess {
  core: Core;
  catalog: Catalog;
  blobs: BlobStore;
  engine: OperationEngine;
  dataDir: string;
  close(): Promise<void>;
}

export async function startInProcess(env: Record<string, string> = {}): Promise<InProcess> {
  const dataDir = tempDir("core");
  const config = loadConfig({ dataDir }, { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1", ...env });
  const catalog = await openSqliteCatalog(":memory:");
  const blobs = await new FsBlobStore(path.join(dataDir, "blobs")).init();
  const { core, engine } = assemble(
    { ...config, operations: { ...config.operations, pollMs: 20, leaseMs: 2000 } },
    catalog,
    blobs,
    pino({ level: "silent" }),
    "in-process",
  );
  engine.start();
  return {
    core,
    catalog,
    blobs,
    engine,
    dataDir,
    close: async () => {
      await engine.stop();
      await catalog.close();
    },
  };
}

/** Callers of the use cases: the service admin, and a folder editor/viewer. */
export const ADMIN: Principal = {
  subjectId: "admin",
  subjectType: "userAccount",
  isAdmin: true,
  projectId: "admin",
  folderRoles: {},
};

export function member(
  subjectId: string,
  folderId: string,
  role: "viewer" | "editor" | "admin" = "editor",
): Principal {
  return {
    subjectId,
    subjectType: "userAccount",
    isAdmin: false,
    projectId: folderId,
    folderRoles: { [folderId]: [role] },
  };
}

/** Waits until the operation is done and returns it. */
export async function settled(
  core: Core,
  principal: Principal,
  op: Operation,
  timeoutMs = 20_000,
): Promise<Operation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await core.operations.get(principal, op.id);
    if (current.done) return current;
    if (Date.now() > deadline) throw new Error(`operation ${op.id} did not finish`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
