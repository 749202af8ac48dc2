import { dataSizeOf, defaultMinDiskSize } from "./image-sizes.js";
import type { Image } from "./image.js";

/** The fields a metadata update may change. */
export type ImageFields = Pick<
  Image,
  | "name"
  | "description"
  | "labels"
  | "minDiskSize"
  | "visibility"
  | "protected"
  | "osHidden"
  | "tags"
  | "properties"
  | "diskFormat"
  | "containerFormat"
  | "minRam"
>;

/** Fields a change may reset to the default an image would get at creation. */
export type ResettableField = "name" | "description" | "labels" | "minDiskSize";

/**
 * A metadata change, declared as data by a dialect: the fields to set, the fields to reset to
 * their defaults (an update mask naming a field the body leaves out), and optionally the version
 * it was computed from (a change computed from a read — a JSON patch — applies only if nobody
 * changed the image since; the store refuses it otherwise).
 */
export interface ImageChange {
  set: Partial<ImageFields>;
  reset?: ResettableField[];
  expectedVersion?: number;
}

/** The image with `change` applied; defaults of reset fields come from the image itself. */
export function applyChange(image: Image, change: ImageChange): Image {
  const next: Image = { ...image, ...change.set };
  for (const field of change.reset ?? []) {
    if (field === "name") next.name = "";
    if (field === "description") next.description = "";
    if (field === "labels") next.labels = {};
    if (field === "minDiskSize") {
      next.minDiskSize = image.size === null ? 0 : defaultMinDiskSize(dataSizeOf(image));
    }
  }
  return next;
}
