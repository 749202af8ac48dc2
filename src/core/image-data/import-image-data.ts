import { assertWithinLimits, limitsOfImage } from "../quotas/quota-guard.js";
import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition, isVitrineError } from "../errors.js";
import { type DeclaredFormats, formatsForDeclared } from "../format-policy.js";
import { loadImage } from "../images/image-loader.js";
import { saveImage } from "../images/save-image.js";
import { hasStagedData, isQueued, transition, transitionRefused } from "../image-states.js";
import type { Operation } from "../operation.js";
import { recordImageOperation } from "../operations/record-operation.js";
import type { Principal } from "../principal.js";

export interface ImportInput {
  /** Where the data comes from: a URL to fetch, or the data staged before. */
  source: { type: "uri"; uri: string } | { type: "staged" };
  /** The detected formats each declared format accepts (the format policy may relax this). */
  formatsByDeclared: DeclaredFormats;
  /** The operation's description, in the dialect's words. */
  description: string;
  /** Properties the image carries while importing, once imported, and after a failed import. */
  properties: {
    importing: Record<string, string>;
    done: Record<string, string>;
    failed: Record<string, string>;
  };
  /** The API request asking for it, kept on the operation. */
  requestId?: string;
}

/**
 * Starts an import into a registered image: staged data is activated, or a URL is fetched (same
 * allow-list as create-from-URI). A worker runs it; the image shows `importing`, and a failure
 * puts it back to `queued` so that it can be tried again.
 */
export async function importImageData(
  deps: Pick<CoreDeps, "catalog" | "queue" | "urls" | "formats" | "limits">,
  principal: Principal,
  uuid: string,
  input: ImportInput,
): Promise<Operation> {
  const { source } = input;
  if (source.type === "uri") checkUri(deps, source.uri);
  const limits = await limitsOfImage(deps, principal, uuid);
  const op = await deps.catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.update", { uuid });
    if (source.type === "staged" && !hasStagedData(current)) {
      throw failedPrecondition(`Image ${uuid} has no staged data to import`).because("NO_STAGED_DATA", {
        id: uuid,
      });
    }
    if (source.type === "uri" && !isQueued(current)) throw transitionRefused(current.status, "importing");
    const allowedFormats = formatsForDeclared(deps.formats, input.formatsByDeclared, current, "importing");
    // Staged data becomes stored data (its bytes move from the stage total to the size total); a
    // URL makes one more image receiving data (its bytes are held by the worker as it reads).
    await assertWithinLimits(
      tx,
      limits,
      current.folderId,
      source.type === "staged" ? { image_size_total: current.size ?? 0 } : { image_count_uploading: 1 },
    );
    const importing = transition(current, "importing", {
      properties: { ...current.properties, ...input.properties.importing },
    });
    const saved = await saveImage(tx, current, importing, uuid);
    return recordImageOperation(tx, principal, saved, {
      kind: "image.create",
      description: input.description,
      requestId: input.requestId ?? null,
      task: {
        type: "create",
        source: source.type === "uri" ? source : { type: "staged", blobKey: current.blobKey! },
        allowedFormats,
        inherit: { osType: false, productIds: false, minDiskSize: false },
        formats: "declared",
        onFailure: "requeue",
        properties: { done: input.properties.done, failed: input.properties.failed },
      },
    });
  });
  deps.queue.kick();
  return op;
}

function checkUri(deps: Pick<CoreDeps, "urls">, uri: string): void {
  try {
    deps.urls.check(uri);
  } catch (err) {
    if (isVitrineError(err)) throw err.because("URI_REFUSED", { uri });
    throw err;
  }
}
