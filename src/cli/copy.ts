import { byteProgress } from "./progress.js";
import type { Config } from "../config.js";
import { internal } from "../core/errors.js";
import { COPY_TAG, copyBlob } from "../storage/blob/copy-blob.js";
import { blobsOf, copyCatalog } from "../storage/meta/copy-catalog.js";
import { migrateToLatest } from "../storage/meta/database.js";
import { blobStoreFor, databaseFor, installationExists } from "../storage/stores-for-config.js";
import { UsageError } from "./client/exit-codes.js";

type Stores = Pick<Config, "dataDir" | "databaseUrl" | "s3">;

export interface CopySummary {
  blobsCopied: number;
  blobsPresent: number;
  bytesCopied: number;
  rows: Record<string, number>;
}

/**
 * Copies an installation — every blob, verified against its SHA-512, then every catalog row — from
 * one configuration to another, leaving the source as it is. Blobs go first, so the target's
 * catalog never names bytes it lacks; whatever a run already copied is kept, so running it again
 * after an interruption finishes the job without copying anything twice. Stop the service first.
 */
export async function copyInstallation(
  source: Stores,
  target: Stores,
  showProgress: boolean,
): Promise<CopySummary> {
  if (describe(source) === describe(target))
    throw internal("the source and the target are the same installation");
  if (!installationExists(source)) {
    throw new UsageError(
      `no Vitrine installation found in ${source.dataDir} (it has no vitrine.sqlite): nothing to copy`,
    );
  }
  // The source is only read: no file, directory or spool is made in it, and it may be read-only.
  const from = databaseFor(source, { readOnly: true });
  const to = databaseFor(target);
  try {
    await migrateToLatest(to.db);
    const [fromBlobs, toBlobs] = await Promise.all([
      blobStoreFor(source, { readOnly: true }),
      blobStoreFor(target),
    ]);
    await toBlobs.discardPending(COPY_TAG); // what an interrupted run was writing
    const blobs = await blobsOf(from.db);
    const total = blobs.reduce((n, b) => n + b.size, 0);
    const bar = byteProgress("image bytes", total, showProgress);
    const summary: CopySummary = { blobsCopied: 0, blobsPresent: 0, bytesCopied: 0, rows: {} };
    let done = 0;
    for (const blob of blobs) {
      const outcome = await copyBlob(fromBlobs, toBlobs, blob, (n) => {
        summary.bytesCopied += n;
        bar.update(done + summary.bytesCopied);
      });
      if (outcome === "copied") summary.blobsCopied += 1;
      else {
        summary.blobsPresent += 1;
        done += blob.size;
      }
      bar.update(done + summary.bytesCopied);
    }
    bar.stop();
    summary.rows = await copyCatalog(from.db, to.db, to.engine);
    return summary;
  } finally {
    await Promise.all([from.db.destroy(), to.db.destroy()]);
  }
}

function describe(s: Stores): string {
  return JSON.stringify([
    s.databaseUrl ?? s.dataDir,
    s.s3 ? `${s.s3.endpoint}/${s.s3.bucket}/${s.s3.prefix}` : s.dataDir,
  ]);
}
