import { statusesShownAs } from "../../core/image-states.js";
import type { ImageStatus } from "../../core/image.js";

export type ComputeStatus = "STATUS_UNSPECIFIED" | "CREATING" | "READY" | "ERROR" | "DELETING";

/** Core status → Compute Image.Status (ARCHITECTURE.md, "Statuses"). */
export const COMPUTE_STATUS: Record<ImageStatus, ComputeStatus> = {
  // Metadata only, waiting for data that only the OpenStack API can send (an upload or an
  // import): nothing is creating it, so it is not CREATING; the API has no other word for it.
  queued: "STATUS_UNSPECIFIED",
  importing: "CREATING",
  saving: "CREATING",
  uploading: "CREATING",
  active: "READY",
  updating: "READY",
  // Yandex dialects show a deactivated image READY; it refuses downloads and new disks.
  deactivated: "READY",
  killed: "ERROR",
  deleting: "DELETING",
  // Only the recycle bin shows it (README "Lifecycle"): for the dialect it is deleted.
  binned: "DELETING",
};

/** The core statuses a Compute status stands for (for list filters). */
export function coreStatusesFor(status: string): ImageStatus[] {
  return statusesShownAs<string>(COMPUTE_STATUS, status);
}
