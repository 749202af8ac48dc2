import type { OpenStackProfile } from "../../config.js";
import type { UpdatePolicy } from "../../core/images/update-image.js";

/**
 * Changes apply at once and min_disk is the user's word. Names: unique in the folder across
 * dialects in the ims profile (one name, one image, as the Compute API promises); free text, as
 * in Glance, in the glance profile.
 */
export function updatePolicy(profile: OpenStackProfile): UpdatePolicy {
  return {
    apply: "now",
    uniqueName: uniqueNames(profile),
    minDiskCoversData: false,
    description: "Update image",
  };
}

/** Whether the OpenStack dialect keeps a name to one image per folder. */
export const uniqueNames = (profile: OpenStackProfile): boolean => profile === "ims";
