import type { ImageStatus } from "../../core/image.js";

export type BareMetalStatus = "STATUS_UNSPECIFIED" | "CREATING" | "READY" | "ERROR" | "DELETING" | "UPDATING";

/** Core status → BareMetal Image.Status ; unlike Compute it shows UPDATING. */
export const BAREMETAL_STATUS: Record<ImageStatus, BareMetalStatus> = {
  // Metadata only, waiting for data that only the OpenStack API can send (an upload or an
  // import): nothing is creating it, so it is not CREATING; the API has no other word for it.
  queued: "STATUS_UNSPECIFIED",
  importing: "CREATING",
  saving: "CREATING",
  uploading: "CREATING",
  active: "READY",
  updating: "UPDATING",
  deactivated: "READY",
  killed: "ERROR",
  deleting: "DELETING",
  // Only the recycle bin shows it (README "Lifecycle"): for the dialect it is deleted.
  binned: "DELETING",
};
