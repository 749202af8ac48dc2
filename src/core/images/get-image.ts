import { authorize } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { notFound } from "../errors.js";
import { LATEST_CANDIDATE_STATUSES } from "../image-states.js";
import type { Image, ImageKind } from "../image.js";
import type { Principal } from "../principal.js";
import { type ImageRef, loadImage } from "./image-loader.js";

/** One image as the caller may see it. */
export function getImage(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  ref: ImageRef,
): Promise<Image> {
  return loadImage(deps.catalog, principal, "images.get", ref);
}

/** The newest image of a family in a folder that holds data. */
export async function getLatestOfFamily(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  kind: ImageKind,
  folderId: string,
  family: string,
): Promise<Image> {
  authorize(principal, "images.get", folderId);
  const image = await deps.catalog.imageViews.latestByFamily(
    kind,
    folderId,
    family,
    LATEST_CANDIDATE_STATUSES,
  );
  if (!image) throw notFound(`Image "${family}" not found`);
  return image;
}
