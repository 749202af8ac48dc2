import { failedPrecondition } from "./errors.js";
import type { Image, ImageStatus } from "./image.js";

/**
 * The image state machine: the only door through which a status changes. Use
 * cases and workers ask the named predicates below instead of comparing statuses, and move an
 * image with `transition`, which refuses what the table does not allow. Stores save conditionally
 * on the status and version that were read, so a change made on a stale read cannot land.
 */
const TRANSITIONS: Record<ImageStatus, readonly ImageStatus[]> = {
  queued: ["importing", "saving", "uploading", "active", "killed", "deleting"],
  importing: ["active", "killed", "queued", "deleting"],
  saving: ["active", "killed", "queued", "deleting"],
  uploading: ["importing", "queued", "killed", "deleting"],
  active: ["updating", "deactivated", "deleting"],
  updating: ["active", "deleting"],
  deactivated: ["active", "deleting"],
  killed: ["deleting"],
  // A delete that could not finish leaves the image failed rather than deleting forever; one
  // whose folder keeps a recycle bin ends there.
  deleting: ["killed", "binned"],
  // Restored to what it was, or purged.
  binned: ["active", "deactivated", "deleting"],
};

export function canTransition(from: ImageStatus, to: ImageStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/** The refusal of a status change, with the statuses for dialects that word it themselves. */
export function transitionRefused(from: ImageStatus, to: ImageStatus) {
  return failedPrecondition(`The image is ${from} and cannot become ${to}`).because(
    "TRANSITION_NOT_ALLOWED",
    {
      from,
      to,
    },
  );
}

/** `image` moved to `to` (with any other field changes in `changes`), or a refusal. */
export function transition(image: Image, to: ImageStatus, changes: Partial<Image> = {}): Image {
  if (!canTransition(image.status, to)) throw transitionRefused(image.status, to);
  return { ...image, ...changes, status: to };
}

/** Waiting for data: nothing uploaded, imported or staged yet. */
export const isQueued = (image: Image): boolean => image.status === "queued";

/** Data is flowing in right now (a worker's import, or a direct upload). */
export const isReceiving = (image: Image): boolean =>
  image.status === "importing" || image.status === "saving";

/** Data is coming in through a direct upload or stage, which its own request process streams. */
export const isReceivingUpload = (image: Image): boolean =>
  image.status === "saving" || image.status === "uploading";

/** Holds no usable data yet: a create or import may still be running for it. */
export const awaitsData = (image: Image): boolean =>
  image.status === "queued" || isReceiving(image) || image.status === "uploading";

/** Staged data (an OpenStack stage) waits for its import. */
export const hasStagedData = (image: Image): boolean =>
  image.status === "uploading" && image.blobKey !== null;

/** Holds committed data (a metadata update in flight does not change that). */
export const hasData = (image: Image): boolean =>
  image.status === "active" || image.status === "updating" || image.status === "deactivated";

/** Ready: its data may be read and used as a source. */
export const isActive = (image: Image): boolean => image.status === "active";

export const isDeactivated = (image: Image): boolean => image.status === "deactivated";

/** A deferred metadata change is being applied. */
export const isUpdating = (image: Image): boolean => image.status === "updating";

/** Being removed: gone for every caller, its row lives on until the delete finishes. */
export const isBeingDeleted = (image: Image): boolean => image.status === "deleting";

/** The core statuses a dialect's status table shows as `shown` (for its list filters). */
export function statusesShownAs<T>(table: Record<ImageStatus, T>, shown: T): ImageStatus[] {
  return (Object.keys(table) as ImageStatus[]).filter((s) => table[s] === shown);
}

/** In the recycle bin: deleted for every dialect, restorable by its owner (core/lifecycle). */
export const isInBin = (image: Image): boolean => image.status === "binned";

/** Statuses in which an image is no longer listed. */
export const GONE_STATUSES: readonly ImageStatus[] = ["deleting", "binned"];

/** Statuses no dialect shows at all: the recycle bin lists them on its own. */
export const BINNED_STATUSES: readonly ImageStatus[] = ["binned"];

/** Statuses whose image a family's "latest" may name: holding data, not being changed. */
export const LATEST_CANDIDATE_STATUSES: readonly ImageStatus[] = ["active", "deactivated"];

/** Deactivation toggles between these two: only an image holding data and not being changed. */
export const canToggleDeactivation = (image: Image): boolean => isActive(image) || isDeactivated(image);
