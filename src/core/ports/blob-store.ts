import type { Readable, Writable } from "node:stream";

/**
 * Where image bytes live, as the core and the workers use them. Shaped by the hardest backend
 * (S3): a write becomes visible only when committed, reads may be ranged, delete is idempotent.
 * Small roles, each stated once (as distribution splits BlobStatter, BlobProvider, BlobIngester):
 * a use case names the ones it needs. What only maintenance tools use (the inventory `vitrine
 * doctor` walks) is declared beside them, in storage/blob/blob-inventory.ts.
 */

/** Reads committed blobs. */
export interface BlobReader {
  /** Streams a committed blob, or the inclusive byte range [start, end] of it. */
  read(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Size of a committed blob, or null when absent. */
  stat(key: string): Promise<{ size: number } | null>;
  /**
   * Where one committed blob lives, as a URL an operator can follow (`file:///...`,
   * `s3://bucket/key`): never credentials.
   */
  locationOf(key: string): string;
  /**
   * The local file of a committed blob, in stores that keep blobs as files (a conversion reads it
   * in place instead of copying it to scratch space first); absent in the others.
   */
  localPath?(key: string): string;
}

/** Writes new blobs. */
export interface BlobIngester {
  /**
   * Starts writing `key`. Nothing is visible under `key` until `commit()`; `abort()` (or a crash)
   * leaves nothing behind but pending data tagged `tag`, which `discardPending(tag)` removes.
   */
  createWriter(key: string, tag: string): Promise<BlobWriter>;
}

/**
 * Appends to a pending blob across requests and processes (a resumable upload): what a `sync()`
 * returned survives a crash, and an appender resumed from it goes on from there.
 */
export interface BlobAppending {
  /**
   * Starts a pending blob tagged `tag` (removed by `discardPending(tag)` like a writer's), to
   * commit under `key`; `expectedBytes` (the upload's announced length) sizes its parts.
   */
  createAppender(key: string, tag: string, expectedBytes: number): Promise<BlobAppender>;
  /** Goes on from a checkpoint a `sync()` returned; what was appended after it is dropped. */
  resumeAppender(checkpoint: AppenderCheckpoint): Promise<BlobAppender>;
}

/** A durable point of an appended blob: its length, and what its store needs to go on (JSON). */
export interface AppenderCheckpoint {
  offset: number;
  store: Record<string, unknown>;
}

export interface BlobAppender {
  /** Bytes appended so far, durable or not. */
  readonly offset: number;
  /** Checkpoints cost least at multiples of this (an S3 part); any offset works at a request's end. */
  readonly checkpointBytes: number;
  append(chunk: Buffer): Promise<void>;
  /**
   * Makes everything appended so far durable and returns its checkpoint. At a multiple of
   * `checkpointBytes` appends may go on meanwhile; elsewhere, wait for it first.
   */
  sync(): Promise<AppenderCheckpoint>;
  /** Makes the whole blob visible under its key. */
  commit(): Promise<void>;
  /** Lets go of files and buffers; the durable data stays for a later resume. */
  close(): Promise<void>;
}

/** Removes blobs and the pending data of interrupted writers. */
export interface BlobDeleter {
  /** Removes a committed blob; removing an absent one is not an error. */
  delete(key: string): Promise<void>;
  /** Removes uncommitted data left by writers tagged `tag` (an interrupted ingest). */
  discardPending(tag: string): Promise<void>;
  /** Tags of all uncommitted data present (for garbage collection at start-up). */
  listPendingTags(): Promise<string[]>;
}

/** Which store this is, and whether it answers. */
export interface BlobStoreIdentity {
  /** Throws when the store cannot be reached (readiness probe). */
  ping(): Promise<void>;
  /**
   * Names where the bytes live, the same on every node that shares the store (an S3 bucket and
   * prefix; a directory's own id, kept inside it, so one shared directory has one identity
   * wherever it is mounted): nodes of one catalog with different identities miss each other's bytes.
   */
  identity(): string;
}

/** Every role a store plays for the service (the inventory is the maintenance tools'). */
export type BlobStore = BlobReader & BlobIngester & BlobAppending & BlobDeleter & BlobStoreIdentity;

/** One of the installation's named stores, as an API lists it. */
export interface StoreInfo {
  id: string;
  kind: "file" | "s3";
  /** Where it is, for operators ("directory /srv/a", "S3 bucket b"). */
  description: string;
  isDefault: boolean;
}

/**
 * The installation's named stores (README "Stores, cache and regions"): new data goes to the
 * default one unless a request names another; an image's data may be in several.
 */
export interface ImageStores {
  /** Holds the data of images that name no store (stored before there were several). */
  readonly primary: string;
  /** Where new data goes unless a request names a store. */
  readonly defaultStore: string;
  list(): StoreInfo[];
  /** One store's roles, or null when none has that id. */
  get(id: string): BlobStore | null;
}

/**
 * This node's local copy of data read from remote stores (README "Stores, cache and regions"),
 * keyed by blob: bounded in size, least recently used out first, a copy listed only once whole
 * and matching the image's size and SHA-512.
 */
export interface ImageCache {
  /** The cached blob (or an inclusive range of it), or null when this node holds none. */
  read(key: string, range?: { start: number; end: number }): Promise<Readable | null>;
  /** `source` passed through, keeping a copy as it flows (kept only if whole and matching). */
  fill(key: string, source: Readable, expected: { sha512: string; size: number }): Readable;
  /** Whether a whole copy is held. */
  has(key: string): Promise<boolean>;
  /** The keys held, with their sizes and when each was last read (ms since the epoch). */
  entries(): Promise<{ key: string; size: number; lastUsedAt: number; hits: number }[]>;
  /** Drops one copy (absent: nothing to do), and the key from the pre-fetch queue. */
  remove(key: string): Promise<void>;
  /** Queues a pre-fetch: `open` is read to its end through `fill` in the background. */
  prefetch(key: string, open: () => Promise<Readable>, expected: { sha512: string; size: number }): void;
  /** The keys queued for pre-fetch and not cached yet. */
  queued(): string[];
  /** Forgets the pre-fetch queue (running ones finish). */
  clearQueue(): void;
}

/** What the use cases use of the store: reading, deleting, and its readiness. */
export type CoreBlobs = BlobReader & BlobDeleter & Pick<BlobStoreIdentity, "ping">;

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
 *   resumable-<upload id> a resumable upload's appended data, kept while its row exists
 *
 * Committed blobs are keyed independently of any dialect; images share a blob when one was made
 * from another (content stays until no image names it).
 */
export type PendingWriter =
  | { type: "operation"; operationId: string }
  | { type: "upload"; imageId: string }
  | { type: "resumable"; uploadId: string };

const UPLOAD_PREFIX = "upload-";
const RESUMABLE_PREFIX = "resumable-";

export function pendingTag(writer: PendingWriter): string {
  switch (writer.type) {
    case "upload":
      return `${UPLOAD_PREFIX}${writer.imageId}`;
    case "resumable":
      return `${RESUMABLE_PREFIX}${writer.uploadId}`;
    case "operation":
      return writer.operationId;
  }
}

export function pendingWriterOf(tag: string): PendingWriter {
  if (tag.startsWith(UPLOAD_PREFIX)) return { type: "upload", imageId: tag.slice(UPLOAD_PREFIX.length) };
  if (tag.startsWith(RESUMABLE_PREFIX))
    return { type: "resumable", uploadId: tag.slice(RESUMABLE_PREFIX.length) };
  return { type: "operation", operationId: tag };
}
