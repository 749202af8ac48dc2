import { failedPrecondition } from "../errors.js";
import type { Image } from "../image.js";
import { isObsolete } from "./lifecycle.js";

/**
 * An obsolete image is kept but refuses new use: nothing is created from it. The refusal names
 * the replacement when there is one.
 */
export function assertNotObsolete(image: Image): void {
  if (!isObsolete(image)) return;
  const replacement = image.deprecation.replacement;
  throw failedPrecondition(
    `Image ${image.id} is obsolete${replacement ? `; use its replacement ${replacement.id}` : ""}`,
  ).because("IMAGE_OBSOLETE", { id: image.id, replacement: replacement?.id ?? "" });
}
