import type { CoreDeps } from "../core-deps.js";
import { isReceivingUpload } from "../image-states.js";
import { pendingWriterOf } from "../ports/blob-store.js";

/**
 * Pending blob data whose writer is gone was left by a crash: drop it. An operation's is dropped
 * once the operation is finished (or gone); an upload's is kept while its image still shows it
 * receiving (another process may be streaming it), a resumable upload's while its row exists.
 * Returns the tags removed.
 */
export async function collectAbandonedPendingData(
  deps: Pick<CoreDeps, "catalog" | "blobs">,
): Promise<string[]> {
  const { catalog, blobs } = deps;
  const unfinished = await catalog.operations.unfinishedIds();
  const removed: string[] = [];
  for (const tag of await blobs.listPendingTags()) {
    const writer = pendingWriterOf(tag);
    const alive =
      writer.type === "operation"
        ? unfinished.has(writer.operationId)
        : writer.type === "resumable"
          ? (await catalog.resumableUploads.find(writer.uploadId)) !== null
          : await catalog.images
              .findById(writer.imageId)
              .then((image) => image !== null && isReceivingUpload(image));
    if (!alive) {
      await blobs.discardPending(tag);
      removed.push(tag);
    }
  }
  return removed;
}
