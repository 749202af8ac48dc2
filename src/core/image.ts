import { newResourceId, newUuid } from "./ids.js";

/** Which API family owns an image: Compute (and OpenStack) disk images, or BareMetal ISO images. */
export type ImageKind = "compute" | "baremetal";

/**
 * The core lifecycle. Each dialect maps it to its own statuses (ARCHITECTURE.md, "Statuses").
 * - queued: metadata only, no data yet
 * - importing: a worker is bringing data in (create from URI/image/disk, OpenStack import)
 * - saving: data is being uploaded directly (OpenStack PUT file)
 * - uploading: data staged, waiting for import (OpenStack stage)
 * - active: data committed and usable
 * - updating: a metadata change is being applied (BareMetal shows UPDATING)
 * - deactivated: refuses downloads and new disks
 * - killed: an ingest failed; the image keeps its metadata so the user sees what happened
 * - deleting: being removed; gone once its delete operation finishes
 * - binned: deleted into the recycle bin: gone for every dialect, restorable by its owner until
 *   its retention ends (core/lifecycle)
 */
export type ImageStatus =
  | "queued"
  | "importing"
  | "saving"
  | "uploading"
  | "active"
  | "updating"
  | "deactivated"
  | "killed"
  | "deleting"
  | "binned";

export type OsType = "LINUX" | "WINDOWS";

/**
 * Where an image is in its useful life (core/lifecycle): ACTIVE; DEPRECATED (still usable, warned
 * about, skipped by a family's latest); OBSOLETE (kept, but no new use: no create from it, no
 * download for non-admins).
 */
export type DeprecationState = "ACTIVE" | "DEPRECATED" | "OBSOLETE";

/** An image's deprecation: its state, the image to use instead, and the transitions due later. */
export interface Deprecation {
  state: DeprecationState;
  /** The replacement, by both its ids (each dialect names it by its own). */
  replacement: { id: string; uuid: string } | null;
  deprecateAt: number | null;
  obsoleteAt: number | null;
  /** When the image is deleted (into the recycle bin, when the folder keeps one). */
  deleteAt: number | null;
}

export const NOT_DEPRECATED: Deprecation = {
  state: "ACTIVE",
  replacement: null,
  deprecateAt: null,
  obsoleteAt: null,
  deleteAt: null,
};

/** An image's stay in the recycle bin. */
export interface BinStay {
  binnedAt: number;
  /** When it is purged for good. */
  purgeAt: number;
  /** The status a restore gives back. */
  restoreStatus: ImageStatus;
}

export interface HardwareGeneration {
  legacyFeatures?: { pciTopology: "PCI_TOPOLOGY_UNSPECIFIED" | "PCI_TOPOLOGY_V1" | "PCI_TOPOLOGY_V2" };
  generation2Features?: Record<string, never>;
}

/** The catalog record: the superset of what every dialect needs (ARCHITECTURE.md, "The catalog"). */
export interface Image {
  id: string;
  uuid: string;
  kind: ImageKind;
  folderId: string;
  name: string;
  description: string;
  labels: Record<string, string>;
  family: string;
  minDiskSize: number;
  productIds: string[];
  osType: OsType;
  pooled: boolean;
  hardwareGeneration: HardwareGeneration | null;
  status: ImageStatus;
  visibility: "private" | "shared" | "community" | "public";
  protected: boolean;
  osHidden: boolean;
  tags: string[];
  properties: Record<string, string>;
  diskFormat: string | null;
  containerFormat: string | null;
  minRam: number;
  /** Stored byte count, once data is committed. */
  size: number | null;
  virtualSize: number | null;
  checksumMd5: string | null;
  checksumSha512: string | null;
  blobKey: string | null;
  /**
   * The named stores holding the data (README "Stores, cache and regions"); empty for data
   * stored before there were several — it is in the installation's primary store.
   */
  stores: string[];
  /**
   * URLs the data was read from and found identical to it (Glance's writable locations, README
   * "Stores, cache and regions"), with the metadata the client gave each; the bytes served are
   * always the stored copy.
   */
  sourceLocations: SourceLocation[];
  createdAt: number;
  updatedAt: number;
  version: number;
  deprecation: Deprecation;
  /** Set while the image is in the recycle bin. */
  bin: BinStay | null;
  /** When the image was last used (downloaded, or read as the source of a new image), and how often. */
  lastUsedAt: number | null;
  useCount: number;
}

/** The data fields of an image that holds no data (yet, or any more). */
export const NO_DATA = {
  blobKey: null,
  stores: [],
  sourceLocations: [],
  size: null,
  virtualSize: null,
  checksumMd5: null,
  checksumSha512: null,
} as const satisfies Partial<Image>;

/** A URL an image's data was read from and found identical to it. */
export interface SourceLocation {
  url: string;
  metadata: Record<string, unknown>;
}

/** What the ingest pipeline measured about stored bytes. */
export interface StoredData {
  key: string;
  /** The store it was committed to (the default store when not said). */
  store?: string;
  size: number;
  virtualSize: number;
  md5: string;
  sha512: string;
}

/** The data fields of an image holding `stored`. */
export function dataFields(stored: StoredData): Pick<Image, keyof typeof NO_DATA> {
  return {
    blobKey: stored.key,
    stores: stored.store ? [stored.store] : [],
    sourceLocations: [],
    size: stored.size,
    virtualSize: stored.virtualSize,
    checksumMd5: stored.md5,
    checksumSha512: stored.sha512,
  };
}

/**
 * A new image in `queued` with fresh ids (a caller-chosen UUID is kept), no data, and the empty
 * default for every field not given.
 */
export function newQueuedImage(
  fields: Pick<Image, "kind" | "folderId"> &
    Partial<Omit<Image, "id" | "status" | keyof typeof NO_DATA | "createdAt" | "updatedAt" | "version">>,
  now: number,
): Image {
  return {
    uuid: newUuid(),
    name: "",
    description: "",
    labels: {},
    family: "",
    minDiskSize: 0,
    productIds: [],
    osType: "LINUX",
    pooled: false,
    hardwareGeneration: null,
    visibility: "private",
    protected: false,
    osHidden: false,
    tags: [],
    properties: {},
    diskFormat: null,
    containerFormat: null,
    minRam: 0,
    ...fields,
    id: newResourceId(),
    status: "queued",
    ...NO_DATA,
    createdAt: now,
    updatedAt: now,
    version: 1,
    deprecation: NOT_DEPRECATED,
    bin: null,
    lastUsedAt: null,
    useCount: 0,
  };
}
