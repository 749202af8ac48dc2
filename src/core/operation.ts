import type { AccessBindingDelta } from "./access-binding.js";
import type { DiskFormat } from "./disk-format.js";
import type { DeclaredFormats } from "./format-policy.js";
import type { ErrorArgs, ErrorCode, ErrorReason, FieldViolation } from "./errors.js";
import type { ChangeRules, ImageChange } from "./image-change.js";
import type { Image, ImageStatus } from "./image.js";
import type { TransitionTarget } from "./lifecycle/lifecycle.js";

/** What an operation acts on and does; dialects turn it into their own metadata/response types. */
export type OperationKind =
  | "image.create"
  | "image.update"
  | "image.delete"
  | "image.setAccessBindings"
  | "image.updateAccessBindings"
  /** A deprecation set now (recorded done). */
  | "image.deprecate"
  /** A scheduled lifecycle transition (deprecated, obsolete, deleted), run at its time. */
  | "image.transition"
  /** An image given back from the recycle bin (recorded done). */
  | "image.restore"
  /** An image in the recycle bin removed for good, at the end of its retention or on request. */
  | "image.purge"
  /** An active image's data copied to more stores (README "Stores, cache and regions"). */
  | "image.copy";

export interface OperationError {
  code: ErrorCode;
  message: string;
  violations?: FieldViolation[];
  /** The finer cause, with what a dialect needs to word or detail it (a quota's name, ...). */
  reason?: ErrorReason;
  args?: ErrorArgs;
}

/** The response of a finished operation, in core terms: the image as it was when the operation ended. */
export type OperationResponse =
  | { type: "image"; image: Image }
  | { type: "empty" }
  | { type: "accessBindings"; effectiveDeltas: AccessBindingDelta[] };

/** Where the data of an image being created comes from. */
export type ImageSource =
  | { type: "uri"; uri: string }
  | { type: "image"; imageId: string }
  | { type: "disk"; id: string }
  | { type: "snapshot"; id: string }
  /** Data already stored and inspected by a stage, waiting under `blobKey`. */
  | { type: "staged"; blobKey: string }
  /** An image of another region's image service (glance-download); read as the caller. */
  | RemoteImageSource;

/** An image of another region's image service, found through the identity service's catalog. */
export interface RemoteImageSource {
  type: "remote";
  /** Its id there. */
  remoteImageId: string;
  region: string;
  /** Which of the catalog's endpoints: public, internal or admin. */
  interface: string;
}

/**
 * What a worker does for an `image.create` operation: bring the data in from `source`, accept
 * only `allowedFormats`, and end the image one of two ways.
 */
export interface CreateImageTask {
  type: "create";
  source: ImageSource;
  allowedFormats: DiskFormat[];
  /** Fields the request left unset, to be inherited from a source image or derived from the data. */
  inherit: { osType: boolean; productIds: boolean; minDiskSize: boolean };
  /**
   * What the data decides: "detected" sets the image's disk format (and a default minimum disk
   * size) from what was found; "declared" keeps the formats and sizes the user declared.
   */
  formats: "detected" | "declared";
  /** A failed attempt kills the image, or puts it back to queued with no data (to try again). */
  onFailure: "kill" | "requeue";
  /** Properties set when the data is in, and when it failed (a dialect's progress markers). */
  properties?: { done: Record<string, string>; failed: Record<string, string> };
  /** An export: the source image's data converted to this format (source `image` only). */
  convertTo?: DiskFormat;
  /** The store the data goes to (the default one when absent). */
  store?: string;
  /**
   * The formats each declared format accepts, when the declared format is only known once the
   * source is read (a remote image brings its own disk format).
   */
  declared?: DeclaredFormats;
  /** More stores the data is copied to once the image is active (an `image.copy` operation). */
  copyTo?: Omit<CopyImageTask, "type">;
}

/** Copying an active image's data to more stores, each copy checked against its SHA-512. */
export interface CopyImageTask {
  type: "copy";
  stores: string[];
  /** One store failing fails the copy (Glance's all_stores_must_succeed); else it is listed as failed. */
  mustSucceed: boolean;
  /** The image properties a dialect's clients poll: the stores still to copy to, and those that failed. */
  markers: StoreMarkers | null;
}

/** The names of the properties that show an import's or a copy's stores (Glance's os_glance_*). */
export interface StoreMarkers {
  importing: string;
  failed: string;
}

/** A metadata change a worker applies later (the image shows `updating` meanwhile). */
export interface UpdateImageTask {
  type: "update";
  change: ImageChange;
  /** Checked again when the change is applied: what else is stored may have changed meanwhile. */
  rules: ChangeRules;
}

/** Removing an image: the blob it held, known before the row goes. */
export interface DeleteImageTask {
  type: "delete";
  blobKey: string | null;
  /** Into the recycle bin for this long (decided when the delete was asked), giving back `restoreStatus`. */
  bin?: { seconds: number; restoreStatus: ImageStatus };
}

/** A lifecycle transition due at `at` (the time the image's deprecation names for it). */
export interface TransitionTask {
  type: "transition";
  target: TransitionTarget;
  at: number;
}

/** Removing an image from the recycle bin for good. */
export interface PurgeImageTask {
  type: "purge";
  blobKey: string | null;
}

/** Operations that are complete when recorded carry no task. */
export interface NoTask {
  type: "none";
}

/** What a worker needs to run an operation, typed by what it does. */
export type OperationTask =
  | CreateImageTask
  | UpdateImageTask
  | DeleteImageTask
  | TransitionTask
  | PurgeImageTask
  | CopyImageTask
  | NoTask;

export interface Operation {
  id: string;
  kind: OperationKind;
  /** The image's kind, so a dialect can name the right metadata type. */
  resourceKind: Image["kind"];
  resourceId: string;
  /** The folder of the resource, for access checks after the resource is gone. */
  folderId: string;
  description: string;
  createdBy: string;
  createdAt: number;
  modifiedAt: number;
  done: boolean;
  error: OperationError | null;
  response: OperationResponse | null;
  /** The task's input, read by the worker that runs it. */
  task: OperationTask;
  cancelRequested: boolean;
  attempts: number;
  /** The API request that started it, when the dialect recorded one (OpenStack tasks show it). */
  requestId: string | null;
  /** How much data a running import has read, as its worker last recorded it (null before any). */
  progress: OperationProgress | null;
  /** Scheduled work (a lifecycle transition, a purge) waits until then; null: runs when queued. */
  notBefore: number | null;
}

/** Bytes an import has read so far, of `bytesTotal` when its source announced a length. */
export interface OperationProgress {
  bytesDone: number;
  bytesTotal: number | null;
  /**
   * What the bytes count (README "Conversion and export"): absent while the source is read;
   * `converting`: of the guest's disk qemu-img has converted; `verifying`: of the converted data
   * hashed and inspected before it is stored.
   */
  stage?: "converting" | "verifying";
}
