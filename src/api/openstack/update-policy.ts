import type { UpdatePolicy } from "../../core/images/update-image.js";

/** Glance names are free text and min_disk is the user's word; changes apply at once. */
export const UPDATE_POLICY: UpdatePolicy = {
  apply: "now",
  uniqueName: false,
  minDiskCoversData: false,
  description: "Update image",
};
