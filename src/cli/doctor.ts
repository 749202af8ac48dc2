import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Config } from "../config.js";
import type { MaintainedBlobStore } from "../storage/blob/blob-inventory.js";
import type { Db } from "../storage/meta/database.js";
import { releaseBlob } from "../core/image-data/release-blob.js";
import type { Catalog } from "../core/ports/catalog.js";
import {
  type ImageWithData,
  imagesWithData,
  keysInFlight,
  staleMarkedImages,
} from "../storage/meta/maintenance-queries.js";
import { sqlCatalog } from "../storage/meta/sql-catalog.js";
import { blobStoreFor, databaseFor, installationExists } from "../storage/stores-for-config.js";
import { UsageError } from "./client/exit-codes.js";
import { STAGING_PROPERTY } from "./client/staging.js";
import { byteProgress } from "./progress.js";

/** An orphan younger than this may be an ingest that committed its blob a moment before its image. */
export const ORPHAN_MIN_AGE_MS = 60 * 60 * 1000;

export interface Finding {
  kind: "missing" | "size-mismatch" | "corrupt" | "orphan" | "abandoned-upload" | "unfinished-upload";
  /** The images that name the blob (none for an orphan): their ids, and their OpenStack UUIDs. */
  images: string[];
  uuids: string[];
  blob: string;
  detail: string;
  /** For orphans, abandoned and unfinished uploads: whether --repair removed it. */
  removed?: boolean;
}

export interface DoctorReport {
  images: number;
  blobs: number;
  bytes: number;
  verified: boolean;
  findings: Finding[];
}

/**
 * Checks an installation against itself: every image that has data has its blob, of the size the
 * catalog recorded, and with `verify` the SHA-512 and MD5 recorded (each blob read once, shared
 * blobs too); every blob in the store belongs to an image or to work in flight. With `repair`,
 * orphans are removed when they are provably nobody's: not named by any image, operation or
 * upload when listed nor when re-read just before the delete, and older than an hour. Safe to
 * run while the service is running (it only reads, except for those removals).
 */
export async function runDoctor(
  config: Pick<Config, "dataDir" | "databaseUrl" | "s3" | "idleTimeoutMs">,
  opts: { verify: boolean; repair: boolean; showProgress: boolean },
): Promise<DoctorReport> {
  assertInstallation(config);
  // Only --repair writes (it removes what is provably nobody's).
  const { db, engine } = databaseFor(config, { readOnly: !opts.repair });
  try {
    const blobs = await blobStoreFor(config, { readOnly: true });
    const images = await imagesWithData(db);
    const byKey = new Map<string, ImageWithData[]>();
    for (const image of images) byKey.set(image.blobKey, [...(byKey.get(image.blobKey) ?? []), image]);
    const findings: Finding[] = [];
    let bytes = 0;
    const present: [string, ImageWithData[]][] = [];
    for (const [key, owners] of byKey) {
      const stat = await blobs.stat(key);
      const named = { images: owners.map((o) => o.id), uuids: owners.map((o) => o.uuid) };
      if (!stat) {
        findings.push({
          kind: "missing",
          ...named,
          blob: key,
          detail: "the blob is missing from the store",
        });
        continue;
      }
      bytes += stat.size;
      if (stat.size !== owners[0]!.size) {
        findings.push({
          kind: "size-mismatch",
          ...named,
          blob: key,
          detail: `the catalog records ${owners[0]!.size} bytes, the store holds ${stat.size}`,
        });
        continue;
      }
      present.push([key, owners]);
    }
    if (opts.verify) findings.push(...(await verifyDigests(blobs, present, opts.showProgress)));
    findings.push(...(await findOrphans(db, blobs, byKey, opts.repair)));
    findings.push(
      ...(await findAbandonedUploads(db, sqlCatalog(db, engine), blobs, config.idleTimeoutMs, opts.repair)),
    );
    findings.push(...(await findUnfinishedUploads(blobs, opts.repair)));
    return { images: images.length, blobs: byKey.size, bytes, verified: opts.verify, findings };
  } finally {
    await db.destroy();
  }
}

/** Reads every present blob once and compares its digests with what its images recorded. */
async function verifyDigests(
  blobs: MaintainedBlobStore,
  present: [string, ImageWithData[]][],
  showProgress: boolean,
): Promise<Finding[]> {
  const total = present.reduce((n, [, owners]) => n + owners[0]!.size, 0);
  const bar = byteProgress("verifying", total, showProgress);
  const findings: Finding[] = [];
  let done = 0;
  try {
    for (const [key, owners] of present) {
      const md5 = createHash("md5");
      const sha512 = createHash("sha512");
      await pipeline(
        await blobs.read(key),
        new Writable({
          write(chunk: Buffer, _enc, next) {
            md5.update(chunk);
            sha512.update(chunk);
            done += chunk.length;
            bar.update(done);
            next();
          },
        }),
      );
      const got = { md5: md5.digest("hex"), sha512: sha512.digest("hex") };
      const wrong = owners.filter(
        (o) => (o.sha512 !== null && o.sha512 !== got.sha512) || (o.md5 !== null && o.md5 !== got.md5),
      );
      if (wrong.length > 0) {
        findings.push({
          kind: "corrupt",
          images: wrong.map((o) => o.id),
          uuids: wrong.map((o) => o.uuid),
          blob: key,
          detail: `the bytes hash to SHA-512 ${got.sha512.slice(0, 16)}…, the catalog records ${String(wrong[0]!.sha512).slice(0, 16)}…`,
        });
      }
    }
  } finally {
    bar.stop();
  }
  return findings;
}

async function referencedNames(
  db: Db,
  blobs: MaintainedBlobStore,
  imageKeys: Iterable<string>,
): Promise<Set<string>> {
  return new Set([...imageKeys, ...(await keysInFlight(db))].map((k) => blobs.inventoryName(k)));
}

async function findOrphans(
  db: Db,
  blobs: MaintainedBlobStore,
  byKey: Map<string, ImageWithData[]>,
  repair: boolean,
): Promise<Finding[]> {
  const referenced = await referencedNames(db, blobs, byKey.keys());
  const orphans: { name: string; size: number; modifiedAt: number }[] = [];
  for await (const blob of blobs.inventory()) if (!referenced.has(blob.name)) orphans.push(blob);
  if (orphans.length === 0) return [];
  // Re-read just before deciding: an image made meanwhile may have come to name one of them.
  const stillNobodys = repair
    ? await referencedNames(
        db,
        blobs,
        (await imagesWithData(db)).map((i) => i.blobKey),
      )
    : null;
  const findings: Finding[] = [];
  for (const orphan of orphans) {
    const ageMs = Date.now() - orphan.modifiedAt;
    let removed = false;
    if (stillNobodys && !stillNobodys.has(orphan.name) && ageMs >= ORPHAN_MIN_AGE_MS) {
      await blobs.deleteByInventoryName(orphan.name);
      removed = true;
    }
    findings.push({
      kind: "orphan",
      images: [],
      uuids: [],
      blob: orphan.name,
      detail: `${orphan.size} bytes no image names, written ${Math.round(ageMs / 60000)} min ago${
        removed ? "; removed" : repair && ageMs < ORPHAN_MIN_AGE_MS ? "; kept: younger than an hour" : ""
      }`,
      removed,
    });
  }
  return findings;
}

/**
 * A check never creates anything: without the embedded database file there is no installation
 * here (opening it would create an empty one), so say so instead of reporting on nothing.
 */
function assertInstallation(config: Pick<Config, "dataDir" | "databaseUrl">): void {
  if (installationExists(config)) return;
  throw new UsageError(
    `no Vitrine installation found in ${config.dataDir} (it has no vitrine.sqlite); ` +
      "name one with --data-dir, or --database for PostgreSQL",
  );
}

/**
 * The hidden images `vitrine image create --file` uploads into live as long as the command; one
 * untouched for longer than the idle timeout, receiving nothing and used by no running operation,
 * was left by a client that was killed. --repair removes it (and its bytes, when no other image
 * shares them).
 */
async function findAbandonedUploads(
  db: Db,
  catalog: Catalog,
  blobs: MaintainedBlobStore,
  idleTimeoutMs: number,
  repair: boolean,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const row of await staleMarkedImages(db, STAGING_PROPERTY, Date.now() - idleTimeoutMs)) {
    let removed = false;
    if (repair) {
      removed = await catalog.transaction(async (tx) => {
        const current = await tx.images.findById(row.id);
        if (!current || current.updatedAt !== row.updatedAt) return false;
        await tx.images.delete(row.id);
        return true;
      });
      if (removed && row.blobKey) await releaseBlob({ catalog, blobs }, row.blobKey);
    }
    findings.push({
      kind: "abandoned-upload",
      images: [row.id],
      uuids: [row.uuid],
      blob: row.blobKey ?? "-",
      detail: `a hidden upload image of the vitrine CLI (${row.status}), untouched for ${Math.round(
        (Date.now() - row.updatedAt) / 60000,
      )} min${removed ? "; removed" : ""}`,
      removed,
    });
  }
  return findings;
}

/**
 * Uploads the store holds open that no live writer claims (S3 multipart uploads of a process
 * killed before it recorded them): the store keeps and bills them until they are aborted. One
 * younger than an hour may be a writer a moment from recording it; --repair aborts the older.
 */
async function findUnfinishedUploads(blobs: MaintainedBlobStore, repair: boolean): Promise<Finding[]> {
  const findings: Finding[] = [];
  for await (const upload of blobs.unfinishedUploads()) {
    if (upload.claimed) continue;
    const ageMs = Date.now() - upload.startedAt;
    const old = ageMs >= ORPHAN_MIN_AGE_MS;
    if (repair && old) await blobs.abortUnfinished(upload.name);
    findings.push({
      kind: "unfinished-upload",
      images: [],
      uuids: [],
      blob: upload.name,
      detail: `an upload the store keeps open that no writer claims, started ${Math.round(ageMs / 60000)} min ago${
        repair && old ? "; aborted" : repair ? "; kept: younger than an hour" : ""
      }`,
      removed: repair && old,
    });
  }
  return findings;
}
