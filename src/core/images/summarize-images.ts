import { authorize } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { permissionDenied } from "../errors.js";
import type { FolderSummary } from "../ports/catalog.js";
import type { Principal } from "../principal.js";

/** How many folders an admin's overview names at most (those holding the most bytes). */
const MAX_FOLDERS = 100;

/**
 * What folders hold: images and bytes, and the bytes saved because images share their data (an
 * image made from another costs no copy). One folder for whoever may list its images; with no
 * folder, the folders holding the most bytes, for admins (Vitrine's extension).
 */
export async function summarizeImages(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  folderId: string | null,
): Promise<FolderSummary[]> {
  if (folderId !== null) authorize(principal, "images.list", folderId);
  else if (!principal.isAdmin)
    throw permissionDenied("Only admins may see every folder's figures; name a folder");
  const rows = await deps.catalog.imageViews.summarize(folderId, MAX_FOLDERS);
  return folderId !== null && rows.length === 0
    ? [{ folderId, images: 0, withData: 0, referencedBytes: 0, storedBytes: 0 }]
    : rows;
}
