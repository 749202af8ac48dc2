import type { Core } from "../../core/core.js";
import { isVitrineError } from "../../core/errors.js";
import type { ImageFields } from "../../core/image-change.js";
import type { Image } from "../../core/image.js";
import type { UpdatePolicy } from "../../core/images/update-image.js";
import type { Principal } from "../../core/principal.js";

/** Glance names are free text and min_disk is the user's word; changes apply at once. */
const UPDATE_POLICY: UpdatePolicy = {
  apply: "now",
  uniqueName: false,
  minDiskCoversData: false,
  description: "Update image",
};

/** Tries before a change that keeps meeting concurrent changes is given up (409). */
const MAX_ATTEMPTS = 3;

/**
 * Glance's changes are computed from the image as it is (a JSON patch, a tag added): read it,
 * compute the fields to set, and hand the core that change with the version it was computed
 * from. Another writer in between makes the core refuse it; then read and compute again.
 */
export async function modifyImage(
  core: Core,
  principal: Principal,
  uuid: string,
  compute: (current: Image) => Partial<ImageFields>,
): Promise<Image> {
  for (let attempt = 1; ; attempt++) {
    const current = await core.images.get(principal, { uuid }, "update");
    const set = compute(current);
    try {
      const { image } = await core.images.update(
        principal,
        { uuid },
        { set, expectedVersion: current.version },
        UPDATE_POLICY,
      );
      return image;
    } catch (err) {
      if (attempt < MAX_ATTEMPTS && isVitrineError(err) && err.code === "ABORTED") continue;
      throw err;
    }
  }
}
