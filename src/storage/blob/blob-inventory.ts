import type { BlobStore } from "../../core/ports/blob-store.js";

/**
 * What maintenance tools (`vitrine doctor`) see of a blob store beyond what the service uses:
 * every committed blob as the store names it, and the uploads it holds open.
 */
export interface BlobInventory {
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

/** A store as the maintenance tools open it: everything the service uses, and its inventory. */
export type MaintainedBlobStore = BlobStore & BlobInventory;

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
