import type { Readable, Writable } from "node:stream";

/**
 * Where image bytes live. Shaped by the hardest backend (S3, see STYLE.md §2): a write becomes
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
}

export interface BlobWriter {
  /** Write the bytes here; end it before `commit()`. */
  readonly stream: Writable;
  /** Makes the written bytes durable and visible under the key. */
  commit(): Promise<void>;
  /** Drops whatever was written. Safe to call more than once, or after a failed commit. */
  abort(): Promise<void>;
}
