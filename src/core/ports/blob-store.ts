import type { Readable, Writable } from "node:stream";

/**
 * Where image bytes live. Shaped by the hardest backend (S3): a write becomes
 * visible only when committed, reads may be ranged, delete is idempotent.
 */
export interface BlobStore {
  /**
   * Starts writing `key`. Nothing is visible under `key` until `commit()`; `abort()` (or a crash)
   * leaves nothing behind but pending data tagged `tag`, which `discardPending(tag)` removes.
   */
  createWriter(key: string, tag: string): Promise<BlobWriter>;
  /** Streams a committed blob, or the inclusive byte range [start, end] of it. */
  read(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Size of a committed blob, or null when absent. */
  stat(key: string): Promise<{ size: number } | null>;
  /** Removes a committed blob; removing an absent one is not an error. */
  delete(key: string): Promise<void>;
  /** Removes uncommitted data left by writers tagged `tag` (an interrupted ingest). */
  discardPending(tag: string): Promise<void>;
  /** Tags of all uncommitted data present (for garbage collection at start-up). */
  listPendingTags(): Promise<string[]>;
  /** Throws when the store cannot be reached (readiness probe). */
  ping(): Promise<void>;
  /**
   * Names where the bytes live, the same on every node that shares the store (an S3 bucket and
   * prefix; a directory's own id, kept inside it, so one shared directory has one identity
   * wherever it is mounted): nodes of one catalog with different identities miss each other's bytes.
   */
  identity(): string;
  /**
   * Where one committed blob lives, as a URL an operator can follow (`file:///...`,
   * `s3://bucket/key`): never credentials.
   */
  locationOf(key: string): string;
  /**
   * Every committed blob, as the store names it (`vitrine doctor` compares it with the catalog).
   * A directory names files by a hash of the key, so names are compared through `inventoryName`.
   */
  inventory(): AsyncIterable<StoredBlob>;
  /** The name `inventory` gives the blob committed under `key`. */
  inventoryName(key: string): string;
  /** Removes a committed blob by its inventory name (an orphan that no key names any more). */
  deleteByInventoryName(name: string): Promise<void>;
  /**
   * Uploads the store holds open without a committed blob (S3's multipart uploads, which it keeps
   * and bills until aborted): `vitrine doctor` reports those no live writer claims. A directory
   * has none (its pending files are the start-up sweep's).
   */
  unfinishedUploads(): AsyncIterable<UnfinishedUpload>;
  /** Aborts one, by the name `unfinishedUploads` gave it. */
  abortUnfinished(name: string): Promise<void>;
}

/** An upload the store holds open. */
export interface UnfinishedUpload {
  name: string;
  /** When it started (ms since the epoch). */
  startedAt: number;
  /** Whether a writer's pending marker names it (it may be live, or its work's to clean up). */
  claimed: boolean;
}

/** A committed blob as the store lists it. */
export interface StoredBlob {
  name: string;
  size: number;
  /** When it was last written (ms since the epoch). */
  modifiedAt: number;
}

export interface BlobWriter {
  /** Write the bytes here; end it before `commit()`. */
  readonly stream: Writable;
  /** Makes the written bytes durable and visible under the key. */
  commit(): Promise<void>;
  /** Drops whatever was written. Safe to call more than once, or after a failed commit. */
  abort(): Promise<void>;
}

/**
 * Pending data is tagged by who writes it, so that garbage collection can tell whose it is:
 *
 *   <operation id>        an operation's ingest (create from URI/disk/snapshot, web-download);
 *                         the blob it commits is keyed by the operation id too, so a resumed
 *                         attempt overwrites its own earlier blob instead of orphaning it
 *   upload-<image id>     a direct upload or stage streamed by an API request; the blob it
 *                         commits gets a fresh key
 *
 * Committed blobs are keyed independently of any dialect; images share a blob when one was made
 * from another (content stays until no image names it).
 */
export type PendingWriter = { type: "operation"; operationId: string } | { type: "upload"; imageId: string };

const UPLOAD_PREFIX = "upload-";

export function pendingTag(writer: PendingWriter): string {
  return writer.type === "upload" ? `${UPLOAD_PREFIX}${writer.imageId}` : writer.operationId;
}

export function pendingWriterOf(tag: string): PendingWriter {
  return tag.startsWith(UPLOAD_PREFIX)
    ? { type: "upload", imageId: tag.slice(UPLOAD_PREFIX.length) }
    : { type: "operation", operationId: tag };
}
