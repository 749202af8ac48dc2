import { assertWithinLimits, limitsOfImage } from "../quotas/quota-guard.js";
import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition, invalidArgument, isVitrineError } from "../errors.js";
import { type DeclaredFormats, formatsForDeclared } from "../format-policy.js";
import { loadImage } from "../images/image-loader.js";
import { saveImage } from "../images/save-image.js";
import { hasStagedData, isQueued, transition, transitionRefused } from "../image-states.js";
import type { Operation, StoreMarkers } from "../operation.js";
import { assertStoreExists, storesOf } from "./image-stores.js";
import { recordImageOperation } from "../operations/record-operation.js";
import type { Principal } from "../principal.js";

export interface ImportInput {
  /**
   * Where the data comes from: a URL to fetch, the data staged before, or an image of another
   * region's image service read with the caller's credential (glance-download).
   */
  source:
    | { type: "uri"; uri: string }
    | { type: "staged" }
    | { type: "remote"; imageId: string; region: string; interface: string; credential: string };
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
  /**
   * The stores to import into (README "Stores, cache and regions"): named ones, all of them, or
   * the default store when absent. The data goes to
   * one, then is copied to the others; `allStoresMustSucceed`: one failed copy fails the import.
   */
  stores?: { named: string[] | null; all: boolean; allMustSucceed: boolean };
  /** The properties showing the stores being imported to, and those that failed. */
  storeMarkers?: StoreMarkers | null;
}

/**
 * Starts an import into a registered image: staged data is activated, or a URL is fetched (same
 * allow-list as create-from-URI). A worker runs it; the image shows `importing`, and a failure
 * puts it back to `queued` so that it can be tried again.
 */
export async function importImageData(
  deps: Pick<CoreDeps, "catalog" | "queue" | "urls" | "formats" | "limits" | "stores" | "remoteImports">,
  principal: Principal,
  uuid: string,
  input: ImportInput,
): Promise<Operation> {
  const { source } = input;
  if (source.type === "uri") checkUri(deps, source.uri);
  if (source.type === "remote") checkRemote(deps, source);
  for (const store of input.stores?.named ?? []) assertStoreExists(deps, store);
  const limits = await limitsOfImage(deps, principal, uuid);
  const op = await deps.catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.update", { uuid });
    if (source.type === "staged" && !hasStagedData(current)) {
      throw failedPrecondition(`Image ${uuid} has no staged data to import`).because("NO_STAGED_DATA", {
        id: uuid,
      });
    }
    if (source.type !== "staged" && !isQueued(current)) throw transitionRefused(current.status, "importing");
    const allowedFormats = formatsForDeclared(deps.formats, input.formatsByDeclared, current, "importing");
    // Staged data becomes stored data (its bytes move from the stage total to the size total); a
    // URL makes one more image receiving data (its bytes are held by the worker as it reads).
    await assertWithinLimits(
      tx,
      limits,
      current.folderId,
      source.type === "staged" ? { image_size_total: current.size ?? 0 } : { image_count_uploading: 1 },
    );
    const targets = importTargets(deps, input.stores);
    // The data arrives in one store (staged data is in its stage's), then is copied to the others.
    const first =
      source.type === "staged"
        ? storesOf(current, deps)[0]!
        : targets.includes(deps.stores.defaultStore)
          ? deps.stores.defaultStore
          : targets[0]!;
    const copyTo = targets.filter((t) => t !== first);
    const m = input.storeMarkers ?? null;
    const marked = (set: Record<string, string>, importing: string[], failed: string[]) =>
      m ? { ...set, [m.importing]: importing.join(","), [m.failed]: failed.join(",") } : set;
    const importing = transition(current, "importing", {
      properties: { ...current.properties, ...marked(input.properties.importing, targets, []) },
    });
    const saved = await saveImage(tx, current, importing, uuid);
    const op = await recordImageOperation(tx, principal, saved, {
      kind: "image.create",
      description: input.description,
      requestId: input.requestId ?? null,
      task: {
        type: "create",
        source:
          source.type === "uri"
            ? source
            : source.type === "remote"
              ? {
                  type: "remote",
                  remoteImageId: source.imageId,
                  region: source.region,
                  interface: source.interface,
                }
              : { type: "staged", blobKey: current.blobKey! },
        // A remote image declares its formats itself: checked when they are known.
        ...(source.type === "remote" ? { declared: input.formatsByDeclared } : {}),
        allowedFormats,
        inherit: { osType: false, productIds: false, minDiskSize: false },
        formats: "declared",
        onFailure: "requeue",
        properties: {
          done: marked(input.properties.done, copyTo, []),
          failed: marked(input.properties.failed, [], targets),
        },
        ...(source.type !== "staged" ? { store: first } : {}),
        ...(copyTo.length > 0
          ? { copyTo: { stores: copyTo, mustSucceed: input.stores?.allMustSucceed ?? false, markers: m } }
          : {}),
      },
    });
    // The caller's credential, for the worker to read the other region as the caller (removed
    // once the data is read, or the import ends).
    if (source.type === "remote") await tx.operationCredentials.save(op.id, source.credential);
    return op;
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

/** The stores an import goes to: those named, all of them, or the default one (see ImportInput). */
function importTargets(deps: Pick<CoreDeps, "stores">, stores: ImportInput["stores"]): string[] {
  if (stores?.named && stores.named.length > 0) return [...new Set(stores.named)];
  if (stores?.all) {
    const all = deps.stores.list().map((s) => s.id);
    // The default store first: the data arrives there.
    return [deps.stores.defaultStore, ...all.filter((id) => id !== deps.stores.defaultStore)];
  }
  return [deps.stores.defaultStore];
}

/** A glance-download's request as Glance checks it before anything is queued. */
function checkRemote(deps: Pick<CoreDeps, "remoteImports">, source: { imageId: string }): void {
  if (!deps.remoteImports) {
    throw invalidArgument(
      "glance-download needs the identity service: this installation has none (Keystone mode)",
    );
  }
  if (!/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(source.imageId)) {
    throw invalidArgument(`Requested image id does not look like a UUID: ${source.imageId}`);
  }
}
