import type { CoreDeps } from "../core-deps.js";
import { pendingTag } from "../ports/blob-store.js";
import { releaseBlob } from "./release-blob.js";
import { requeueUpload } from "./upload-image-data.js";

/**
 * Uploads whose node is gone (killed mid-stream: its record stopped being refreshed) would leave
 * their images `saving`/`uploading` for ever. Each goes back to `queued`, as Glance does, and what
 * the upload left is removed: its pending data, and the blob it may have committed just before
 * dying (never one an image names). Returns the images put back. The quota their data held comes back
 * with them, and so does the quota held by imports whose worker's node is gone.
 */
export async function recoverAbandonedUploads(
  deps: Pick<CoreDeps, "catalog" | "blobs">,
  liveSince: number,
): Promise<string[]> {
  const { catalog, blobs } = deps;
  const recovered: string[] = [];
  for (const upload of await catalog.uploads.abandoned(liveSince)) {
    await requeueUpload(deps, upload);
    await blobs.discardPending(pendingTag({ type: "upload", imageId: upload.imageId }));
    await releaseBlob(deps, upload.blobKey);
    recovered.push(upload.imageId);
  }
  // Bytes held by imports whose worker died: held again by the worker that resumes them.
  for (const reservation of await catalog.quotas.abandoned(liveSince)) {
    await catalog.quotas.release(reservation.imageId, reservation.nodeId);
  }
  return recovered;
}
