import type { Readable } from "node:stream";
import type { CoreDeps } from "../core-deps.js";
import { type DeclaredFormats, formatsForDeclared } from "../format-policy.js";
import { imageNotFound, loadImage } from "../images/image-loader.js";
import { saveImage } from "../images/save-image.js";
import { isQueued, isReceivingUpload, transition, transitionRefused } from "../image-states.js";
import { type Image, dataFields } from "../image.js";
import { newResourceId } from "../ids.js";
import { pendingTag } from "../ports/blob-store.js";
import type { IngestResult } from "../ports/ingest.js";
import type { Principal } from "../principal.js";

export interface UploadInput {
  source: Readable;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** "file": the data activates the image; "stage": it waits (`uploading`) for an import. */
  mode: "file" | "stage";
  /** The detected formats each declared format accepts (the format policy may relax this). */
  formatsByDeclared: DeclaredFormats;
}

/**
 * Stores the data of a queued image streamed by the caller (OpenStack PUT file and stage),
 * through the same ingest as every other path. Any failure — a refused format, a client gone
 * mid-stream, the size limit — puts the image back to `queued` with no bytes kept.
 */
export async function uploadImageData(
  deps: Pick<CoreDeps, "catalog" | "blobs" | "ingest" | "formats" | "maxImageBytes">,
  principal: Principal,
  uuid: string,
  input: UploadInput,
): Promise<Image> {
  const { catalog, blobs } = deps;
  const receiving = input.mode === "file" ? "saving" : "uploading";
  const { image, allowedFormats } = await catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.update", { uuid });
    if (!isQueued(current)) throw transitionRefused(current.status, receiving);
    const allowed = formatsForDeclared(deps.formats, input.formatsByDeclared, current, "saving");
    return {
      image: await saveImage(tx, current, transition(current, receiving), uuid),
      allowedFormats: allowed,
    };
  });

  const key = newResourceId();
  let stored: IngestResult;
  try {
    stored = await deps.ingest({
      source: input.source,
      key,
      tag: pendingTag({ type: "upload", imageId: image.id }),
      signal: input.signal,
      maxBytes: deps.maxImageBytes,
      allowedFormats,
      maxVirtualSize: deps.formats.maxVirtualSize,
      sourceLabel: `${input.formatsByDeclared.field} ${image.diskFormat}`,
    });
  } catch (err) {
    await requeue(deps, image);
    throw err;
  }

  try {
    return await catalog.transaction(async (tx) => {
      const current = await tx.images.findById(image.id);
      if (!current || !isReceivingUpload(current)) throw imageNotFound({ uuid });
      const to = input.mode === "file" ? "active" : "uploading";
      return saveImage(tx, current, transition(current, to, dataFields(stored)), uuid);
    });
  } catch (err) {
    // Deleted or changed while the bytes streamed in: the blob belongs to nobody.
    await blobs.delete(key);
    throw err;
  }
}

/** After a failed upload: back to queued, unless the image moved on (deleted meanwhile). */
async function requeue(deps: Pick<CoreDeps, "catalog">, receiving: Image): Promise<void> {
  await deps.catalog.transaction(async (tx) => {
    const current = await tx.images.findById(receiving.id);
    if (current && isReceivingUpload(current)) {
      await saveImage(tx, current, transition(current, "queued"));
    }
  });
}
