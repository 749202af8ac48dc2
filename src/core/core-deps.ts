import type { LimitSource } from "./ports/limit-source.js";
import type { FormatPolicy } from "./format-policy.js";
import type { CoreBlobs, ImageCache, ImageStores } from "./ports/blob-store.js";
import type { Catalog } from "./ports/catalog.js";
import type { ConversionPolicy } from "./conversion/conversion-policy.js";
import type { ImageConverter } from "./ports/converter.js";
import type { Decompress, Ingest, ResumableIngest, SourceOpener, UrlGuard } from "./ports/ingest.js";
import type { OperationQueue } from "./ports/operation-queue.js";

/** What the use cases are built on: the ports (implemented outside the core) and the policies. */
export interface CoreDeps {
  catalog: Catalog;
  /** Every store at once (writes go to the default one, reads try each): for data not yet an image's. */
  blobs: CoreBlobs;
  /** The named stores, one by one (README "Stores, cache and regions"). */
  stores: ImageStores;
  /** This node's cache of data read from remote stores (null: none). */
  cache: ImageCache | null;
  queue: OperationQueue;
  ingest: Ingest;
  /** A resumable upload's ingest, over requests and nodes (README "Resumable transfers"). */
  resumableIngest: ResumableIngest;
  /** How long a resumable upload nobody appends to is kept before it is given up. */
  resumableExpiryMs: number;
  /** Opens what a create reads (URLs, disks, snapshots). */
  sources: SourceOpener;
  urls: UrlGuard;
  /** Whether images show their locations and clients may add some (Glance's show_multiple_locations). */
  writableLocations: boolean;
  /** Whether imports from other regions' image services (glance-download) can be made (Keystone mode). */
  remoteImports: boolean;
  formats: FormatPolicy;
  /** The largest image accepted, in bytes. */
  maxImageBytes: number;
  /**
   * Whether subjects may be named that this service holds no row for (Keystone users). Without an
   * external identity source an unknown subject is a typo, refused rather than bound to nothing.
   */
  externalSubjects: boolean;
  /** Where each project's quota limits come from (the catalog, or Keystone's unified limits). */
  limits: LimitSource;
  /** This node's id (NodeRecord.id): uploads it streams are recorded under it. */
  nodeId: string;
  /**
   * How long a deleted image stays in the recycle bin, unless its folder says otherwise (0: deleted
   * at once, the seeds' behaviour).
   */
  binRetentionSeconds: number;
  /** Decompresses sources that arrive compressed (gzip, xz, zstd, bzip2). */
  decompress: Decompress;
  /** Converts stored data to another format (qemu-img). */
  converter: ImageConverter;
  /** What data that arrives is converted to, unless its folder says otherwise (none by default). */
  conversion: ConversionPolicy;
}
