import type { ImageStatus } from "../../core/image.js";

export type BareMetalStatus = "STATUS_UNSPECIFIED" | "CREATING" | "READY" | "ERROR" | "DELETING" | "UPDATING";

/** Core status → BareMetal Image.Status ; unlike Compute it shows UPDATING. */
export const BAREMETAL_STATUS: Record<ImageStatus, BareMetalStatus> = {
  queued: "CREATING",
  importing: "CREATING",
  saving: "CREATING",
  uploading: "CREATING",
  active: "READY",
  updating: "UPDATING",
  deactivated: "READY",
  killed: "ERROR",
  deleting: "DELETING",
};
