import type { BlobDeleter } from "../ports/blob-store.js";
import type { ImageStore } from "../ports/catalog.js";

/**
 * Deletes the blob under `key` unless an image still names it: images made from one another
 * share a blob, which stays until the last of them goes. The one place that rule is written
 * (image deletes, failed or cancelled creates, abandoned uploads, doctor's repairs).
 */
export async function releaseBlob(
  deps: { catalog: { images: Pick<ImageStore, "countBlobReferences"> }; blobs: Pick<BlobDeleter, "delete"> },
  key: string,
): Promise<void> {
  if ((await deps.catalog.images.countBlobReferences(key)) === 0) await deps.blobs.delete(key);
}
