import { statusesShownAs } from "../../core/image-states.js";
import type { ImageStatus } from "../../core/image.js";

/** Core statuses in Glance's words (ARCHITECTURE.md, "Statuses"). */
export const GLANCE_STATUS: Record<ImageStatus, string> = {
  queued: "queued",
  importing: "importing",
  saving: "saving",
  uploading: "uploading",
  active: "active",
  updating: "active",
  deactivated: "deactivated",
  killed: "killed",
  deleting: "pending_delete",
  // Only the recycle bin shows it (README "Lifecycle"): for the dialect it is deleted.
  binned: "deleted",
};

/** The core statuses a Glance status stands for (for list filters; `deleted` stands for none). */
export function coreStatusesFor(glanceStatus: string): ImageStatus[] {
  return statusesShownAs(GLANCE_STATUS, glanceStatus);
}
