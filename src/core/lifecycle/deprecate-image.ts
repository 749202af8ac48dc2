import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition, invalidArgument } from "../errors.js";
import type { Deprecation, DeprecationState, Image } from "../image.js";
import { type ImageRef, loadImage, refId } from "../images/image-loader.js";
import type { Operation } from "../operation.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";
import { saveLifecycleChange } from "./schedule.js";

/**
 * A deprecation as a caller changes it (GCE's `deprecate`): the state now, the image to use
 * instead, and when the image becomes deprecated, obsolete or deleted later. A field left out
 * keeps the image's; null clears it (Compute's Deprecate gives every field: it replaces the whole).
 */
export interface DeprecationInput {
  state?: DeprecationState;
  replacement?: ImageRef | null;
  deprecateAt?: number | null;
  obsoleteAt?: number | null;
  deleteAt?: number | null;
}

/** Sets an image's deprecation now (its scheduled transitions with it); the operation is done. */
export async function deprecateImage(
  deps: Pick<CoreDeps, "catalog" | "queue">,
  principal: Principal,
  ref: ImageRef,
  input: DeprecationInput,
): Promise<{ operation: Operation; image: Image }> {
  const result = await deps.catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.update", ref);
    const next = await withDeprecation(tx, principal, current, input);
    return saveLifecycleChange(tx, principal, current, next, {
      kind: "image.deprecate",
      description: "Deprecate image",
      label: refId(ref),
    });
  });
  deps.queue.kick();
  return result;
}

/**
 * The image with the deprecation `input` describes, checked: the replacement is an image the
 * caller may see (not the image itself), and an image that is protected cannot be scheduled for
 * deletion. A time for a state the image has reached already stays on record and schedules
 * nothing (as GCE keeps its `deprecated` timestamps: informational once passed). An obsolete
 * image is hidden from default lists (OpenStack's `os_hidden`) and shown again when it leaves
 * that state.
 */
export async function withDeprecation(
  tx: CatalogStores,
  principal: Principal,
  image: Image,
  input: DeprecationInput,
): Promise<Image> {
  const was = image.deprecation;
  const keep = <T>(given: T | undefined, current: T): T => (given === undefined ? current : given);
  const deprecation: Deprecation = {
    state: input.state ?? was.state,
    replacement:
      input.replacement === undefined
        ? was.replacement
        : input.replacement && (await replacementOf(tx, principal, image, input.replacement)),
    deprecateAt: keep(input.deprecateAt, was.deprecateAt),
    obsoleteAt: keep(input.obsoleteAt, was.obsoleteAt),
    deleteAt: keep(input.deleteAt, was.deleteAt),
  };
  if (deprecation.deleteAt !== null && image.protected) {
    throw failedPrecondition(`Image ${image.id} is protected and cannot be scheduled for deletion`).because(
      "PROTECTED",
    );
  }
  const obsolete = deprecation.state === "OBSOLETE";
  const wasObsolete = was.state === "OBSOLETE";
  const osHidden = obsolete ? true : wasObsolete ? false : image.osHidden;
  return { ...image, deprecation, osHidden };
}

async function replacementOf(
  tx: CatalogStores,
  principal: Principal,
  image: Image,
  ref: ImageRef,
): Promise<{ id: string; uuid: string }> {
  const replacement = await loadImage(tx, principal, "images.get", ref).catch((err: unknown) => {
    throw invalidArgument(`replacement: ${(err as Error).message}`, [
      { field: "replacement", description: "no such image" },
    ]);
  });
  if (replacement.id === image.id) {
    throw invalidArgument("replacement: an image cannot replace itself", [
      { field: "replacement", description: "the image itself" },
    ]);
  }
  return { id: replacement.id, uuid: replacement.uuid };
}
