import { authorize, can } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { notFound, permissionDenied } from "../errors.js";
import { looksLikeUuid } from "../ids.js";
import { isInBin, transition } from "../image-states.js";
import type { Image } from "../image.js";
import type { Page } from "../images/page.js";
import { assertNameFree } from "../images/save-image.js";
import type { Operation } from "../operation.js";
import { recordImageOperation } from "../operations/record-operation.js";
import { decodePageToken, pageOf } from "../page-token.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";
import { assertWithinLimits } from "../quotas/quota-guard.js";
import { checkSeconds, wholeSeconds } from "./lifecycle.js";
import { endScheduled, saveLifecycleChange } from "./schedule.js";

/**
 * The recycle bin (README "Lifecycle"): a deleted image of a folder that keeps one stays there,
 * with its ids, bytes, tags, properties, members and bindings, until its retention ends; its
 * owner may restore it or purge it sooner. Every dialect sees it deleted meanwhile.
 */

/** How long the folder keeps deleted images: its own setting, else the installation's. */
export async function binRetentionOf(
  tx: CatalogStores,
  deps: Pick<CoreDeps, "binRetentionSeconds">,
  folderId: string,
): Promise<number> {
  return (await tx.lifecycle.binRetention(folderId)) ?? deps.binRetentionSeconds;
}

/** A folder's recycle-bin setting as reports show it. */
export interface BinSettings {
  folderId: string;
  /** What applies (the folder's own, or the installation's). */
  retentionSeconds: number;
  /** The folder's own setting, null when it follows the installation's. */
  folderRetentionSeconds: number | null;
  installationRetentionSeconds: number;
}

export async function getBinSettings(
  deps: Pick<CoreDeps, "catalog" | "binRetentionSeconds">,
  principal: Principal,
  folderId: string,
): Promise<BinSettings> {
  authorize(principal, "images.list", folderId);
  const own = await deps.catalog.lifecycle.binRetention(folderId);
  return {
    folderId,
    retentionSeconds: own ?? deps.binRetentionSeconds,
    folderRetentionSeconds: own,
    installationRetentionSeconds: deps.binRetentionSeconds,
  };
}

/** Sets (or, null, removes) a folder's own retention: the service admin's, as the installation's is. */
export async function setBinRetention(
  deps: Pick<CoreDeps, "catalog" | "binRetentionSeconds">,
  principal: Principal,
  folderId: string,
  seconds: number | null,
): Promise<BinSettings> {
  if (!principal.isAdmin)
    throw permissionDenied("Only the service admin may set a folder's recycle-bin retention");
  await deps.catalog.lifecycle.setBinRetention(
    folderId,
    seconds === null ? null : checkSeconds("retentionSeconds", seconds),
  );
  return getBinSettings(deps, principal, folderId);
}

/** One page of a folder's recycle bin, the most recently deleted first. */
export async function listBin(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  folderId: string,
  pageSize: number,
  pageToken: string,
): Promise<Page<Image>> {
  authorize(principal, "images.list", folderId);
  const fingerprint = `bin/${folderId}`;
  const cursor = pageToken ? decodePageToken(pageToken, fingerprint) : undefined;
  const rows = await deps.catalog.lifecycle.binned(
    folderId,
    pageSize,
    cursor ? { binnedAt: Number(cursor.value), id: cursor.id } : undefined,
  );
  return pageOf(rows, pageSize, fingerprint, (last) => ({ value: last.bin?.binnedAt ?? 0, id: last.id }));
}

/**
 * Gives an image back from the bin with its ids, bytes and everything attached: it counts again
 * against its project's image count (its bytes never stopped counting), takes its name back
 * (refused if another image took it meanwhile), and its scheduled transitions resume.
 */
export async function restoreImage(
  deps: Pick<CoreDeps, "catalog" | "queue" | "limits">,
  principal: Principal,
  id: string,
): Promise<{ operation: Operation; image: Image }> {
  const folderId = (await findBinned(deps.catalog, principal, id)).folderId;
  const limits = await deps.limits.limitsFor(folderId);
  const result = await deps.catalog.transaction(async (tx) => {
    const current = await findBinned(tx, principal, id);
    await assertWithinLimits(tx, limits, current.folderId, { image_count_total: 1 });
    const next = transition(current, current.bin!.restoreStatus, { bin: null });
    await assertNameFree(tx, next);
    await endScheduled(tx, current.id, "image.purge", "the image was restored");
    return saveLifecycleChange(tx, principal, current, next, {
      kind: "image.restore",
      description: "Restore image",
    });
  });
  deps.queue.kick();
  return result;
}

/** Purges an image from the bin now instead of at the end of its retention. */
export async function purgeImage(
  deps: Pick<CoreDeps, "catalog" | "queue">,
  principal: Principal,
  id: string,
): Promise<Operation> {
  const op = await deps.catalog.transaction(async (tx) => {
    const current = await findBinned(tx, principal, id);
    await endScheduled(tx, current.id, "image.purge", "purged on request");
    return schedulePurge(tx, principal, current, null);
  });
  deps.queue.kick();
  return op;
}

/** Queues the purge of a binned image, at `at` (null: now). */
export function schedulePurge(
  tx: CatalogStores,
  by: Pick<Principal, "subjectId">,
  image: Image,
  at: number | null,
): Promise<Operation> {
  return recordImageOperation(tx, by, image, {
    kind: "image.purge",
    description: at === null ? "Purge image" : `Purge image at ${wholeSeconds(at)}`,
    task: { type: "purge", blobKey: image.blobKey },
    notBefore: at,
  });
}

/**
 * An image in the bin, by either of its ids, for a caller who may delete images of its folder
 * (its owner's editors and admins); anyone else finds nothing.
 */
async function findBinned(tx: CatalogStores, principal: Principal, id: string): Promise<Image> {
  const image = looksLikeUuid(id) ? await tx.images.findByUuid(id) : await tx.images.findById(id);
  if (!image || !isInBin(image) || !can(principal, "images.list", image.folderId)) {
    throw notFound(`Image ${id} is not in the recycle bin`).because("IMAGE_NOT_FOUND", { id });
  }
  authorize(principal, "images.delete", image.folderId);
  return image;
}
