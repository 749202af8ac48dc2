import type { Readable } from "node:stream";
import type { DiskFormat, FormatVerdict } from "../disk-format.js";
import type { StoredData } from "../image.js";
import type { RemoteImageSource } from "../operation.js";

export interface IngestRequest {
  source: Readable;
  /** The blob key to commit under. */
  key: string;
  /** The named store to commit to (README "Stores, cache and regions"); the default one when absent. */
  store?: string;
  /** Tags pending data so an interrupted ingest can be cleaned up (see ports/blob-store.ts). */
  tag: string;
  signal: AbortSignal;
  maxBytes: number;
  /** The largest virtual size the inspector accepts. */
  maxVirtualSize: number;
  /** Format inspection; off only to measure its cost (bench/ingest-inspection.ts). */
  inspect?: boolean;
  /** Formats this ingest path accepts; anything else is refused before commit. */
  allowedFormats: readonly DiskFormat[];
  /** How the source is named in error messages ("uri", "disk d1", ...). */
  sourceLabel: string;
  /** Where the data comes from, for the metrics. */
  sourceKind: "upload" | "stage" | "uri" | "disk" | "snapshot" | "conversion";
  /** Told the running byte count as data flows (for an operation's progress). */
  onBytes?: (bytesRead: number) => void;
}

export interface IngestResult extends StoredData, FormatVerdict {}

/**
 * The one path every image byte takes (src/ingest): measure size, MD5, SHA-512 and the format
 * verdict while writing to the blob store, and commit only data that passed.
 */
export type Ingest = (request: IngestRequest) => Promise<IngestResult>;

/**
 * A resumable upload's ingest (src/ingest/resumable-ingest.ts): the same measurements and checks
 * as `Ingest`, on data that arrives over several requests, possibly on several nodes. A
 * checkpoint (an opaque string the catalog keeps) holds what the next request goes on from.
 */
export interface ResumableIngest {
  /** Starts the pending data of an upload of `length` bytes; its first checkpoint (offset 0). */
  begin(key: string, tag: string, length: number): Promise<string>;
  /**
   * Appends `source` to the data at `checkpoint`. Each durable point is handed to `onCheckpoint`,
   * which throws when the upload was taken over or ended (the append stops and fails with that
   * error). When the data reaches `length` it is checked like an ingest's and committed: `stored`
   * is set.
   */
  append(request: AppendRequest): Promise<AppendResult>;
  /** Whether data starting with `head` is compressed (such data is decompressed in a second pass). */
  isCompressed(head: Buffer): boolean;
}

export interface AppendRequest {
  checkpoint: string;
  source: Readable;
  signal: AbortSignal;
  length: number;
  maxVirtualSize: number;
  allowedFormats: readonly DiskFormat[];
  sourceLabel: string;
  onCheckpoint: (offset: number, checkpoint: string) => Promise<void>;
  /** Told the offset as data flows (an operation's progress). */
  onBytes?: (offset: number) => void;
}

export interface AppendResult {
  /** The offset durably stored when the request ended. */
  offset: number;
  /**
   * The data, committed, once complete. Compressed data (by signature) is committed as it came,
   * unchecked: the caller decompresses and ingests it again, as one-go uploads are.
   */
  stored: (Omit<IngestResult, "key"> & { compression: Compression | null }) | null;
}

/** Checks a URL a create or import would fetch, before anything is queued (SSRF allow-list). */
export interface UrlGuard {
  /** Throws INVALID_ARGUMENT naming `field` when the URL may not be fetched. */
  check(uri: string, field?: string): void;
}

/** An opened source of image data, and its length when the source announces one. */
export interface SourceData {
  stream: Readable;
  /** The whole source's length (not only what this stream carries when it starts further on). */
  length: number | null;
  /** What the source's image service says of it (a glance-download's source). */
  remote?: RemoteImageFacts;
  /** Where in the source the stream starts: 0, or the offset a resumed read asked for. */
  start?: number;
  /**
   * What names this version of the source (a URL's strong ETag, else its Last-Modified), when
   * the source also serves byte ranges: a read resumed with it gets the same bytes or none.
   */
  validator?: string | null;
}

/** Where an interrupted read goes on from: the source's offset, for the version `validator` names. */
export interface ResumeFrom {
  offset: number;
  validator: string;
}

/** A source a create reads through the ingest pipeline (an image source is shared, never read). */
export type ReadableSource =
  | { type: "uri"; uri: string }
  | { type: "disk" | "snapshot"; id: string }
  /** Another region's image, read with the caller's credential. */
  | (RemoteImageSource & { credential: string });

/** What another region's image service says of the image a glance-download reads. */
export interface RemoteImageFacts {
  diskFormat: string | null;
  containerFormat: string | null;
  /** The properties a copy takes over (Glance's defaults: hw_*, trait:*, os_distro, os_secure_boot, os_type). */
  properties: Record<string, string>;
  size: number | null;
  md5: string | null;
  sha512: string | null;
}

/**
 * Opens what an image is created from: a URL (every hop under the import allow-list), a disk or a
 * snapshot (src/ingest/sources; a cloud plugs its own volumes in).
 */
export interface SourceOpener {
  /**
   * Opens the source, from `resume.offset` when given and the source is still the version
   * `resume.validator` names (else from the start: check `start`).
   */
  open(source: ReadableSource, signal: AbortSignal, resume?: ResumeFrom): Promise<SourceData>;
}

/** The compressions a source may arrive in (found by signature, README "Conversion and export"). */
export type Compression = "gzip" | "xz" | "zstd" | "bzip2";

/**
 * The bytes of a source as the image is: decompressed when they start with a compression's
 * signature, unchanged otherwise; fails early on a decompression bomb. `onCompression` hears what
 * was found before the first byte comes out.
 */
export type Decompress = (
  source: Readable,
  label: string,
  onCompression: (compression: Compression | null) => void,
) => Readable;
