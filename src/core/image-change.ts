import { failedPrecondition, notFound } from "./errors.js";
import { dataSizeOf, defaultMinDiskSize } from "./image-sizes.js";
import type { Image } from "./image.js";
import type { DeprecationInput } from "./lifecycle/deprecate-image.js";

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
  /** The owner (OpenStack `owner`): moving an image to another folder is the service admin's. */
  | "folderId"
>;

/** Fields a change may reset to the default an image would get at creation. */
export type ResettableField = "name" | "description" | "labels" | "minDiskSize";

/**
 * A metadata change, declared as data by a dialect and applied by the core to the image as it is
 * in the same transaction: the fields to set, the fields to reset to their defaults (an update
 * mask naming a field the body leaves out), and single properties and tags to add or remove (a
 * JSON patch, a tag PUT) — so concurrent changes to different properties or tags all land.
 */
export interface ImageChange {
  set: Partial<ImageFields>;
  reset?: ResettableField[];
  properties?: {
    set?: Record<string, string>;
    remove?: string[];
    /** Properties the change replaces or removes: they must exist before it. */
    mustExist?: string[];
  };
  /** Tags to add (present ones stay once) and to remove (they must be there). */
  tags?: { add?: string[]; remove?: string[] };
  /** A new deprecation (core/lifecycle), checked and scheduled with the change. */
  deprecation?: DeprecationInput;
}

/** The rules a dialect holds a change to, beyond the fields' own validation. */
export interface ChangeRules {
  /** Names unique per folder (the Yandex dialects; Glance names are free text). */
  uniqueName: boolean;
  /** A changed minDiskSize must cover the data (the Compute API's rule). */
  minDiskCoversData: boolean;
}

/** The image with `change` applied; defaults of reset fields come from the image itself. */
export function applyChange(image: Image, change: ImageChange): Image {
  const next: Image = { ...image, ...change.set };
  if (change.properties) next.properties = changedProperties(image.properties, change.properties);
  if (change.tags) next.tags = changedTags(image.tags, change.tags);
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

function changedProperties(
  current: Record<string, string>,
  change: NonNullable<ImageChange["properties"]>,
): Record<string, string> {
  for (const name of change.mustExist ?? []) {
    if (!Object.hasOwn(current, name)) {
      throw failedPrecondition(`Image property ${name} does not exist`).because("PROPERTY_MISSING", { name });
    }
  }
  const next = { ...current };
  for (const name of change.remove ?? []) delete next[name];
  return { ...next, ...change.set };
}

function changedTags(current: string[], change: NonNullable<ImageChange["tags"]>): string[] {
  for (const tag of change.remove ?? []) {
    if (!current.includes(tag)) throw notFound(`Image tag ${tag} not found`).because("TAG_MISSING", { tag });
  }
  const removed = new Set(change.remove ?? []);
  return [...new Set([...current.filter((t) => !removed.has(t)), ...(change.add ?? [])])];
}
