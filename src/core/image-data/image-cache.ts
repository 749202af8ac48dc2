import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition, invalidArgument, permissionDenied } from "../errors.js";
import { loadImage } from "../images/image-loader.js";
import { isActive } from "../image-states.js";
import type { ImageCache } from "../ports/blob-store.js";
import type { Principal } from "../principal.js";
import type { Image } from "../image.js";
import { remoteStores, storesOf } from "./image-stores.js";

/**
 * The admin's view of this node's cache (Glance's `/v2/cache`, README "Stores, cache and
 * regions"): what it holds and what is queued for pre-fetch, by image; queue, drop, clear.
 */
export interface CachedImage {
  uuid: string;
  size: number;
  lastUsedAt: number;
  hits: number;
}

type CacheDeps = Pick<CoreDeps, "catalog" | "stores" | "cache">;

function cacheOf(deps: CacheDeps, principal: Principal): ImageCache {
  if (!principal.isAdmin) throw permissionDenied("Only admins may manage the image cache.");
  if (!deps.cache) {
    throw failedPrecondition("This node has no image cache (VITRINE_CACHE_SIZE is 0, or no store is remote)");
  }
  return deps.cache;
}

export async function listCache(
  deps: CacheDeps,
  principal: Principal,
): Promise<{ cached: CachedImage[]; queued: string[] }> {
  const cache = cacheOf(deps, principal);
  const cached: CachedImage[] = [];
  for (const entry of await cache.entries()) {
    for (const image of await deps.catalog.images.findByBlobKey(entry.key)) {
      cached.push({ uuid: image.uuid, size: entry.size, lastUsedAt: entry.lastUsedAt, hits: entry.hits });
    }
  }
  const queued: string[] = [];
  for (const key of cache.queued()) {
    for (const image of await deps.catalog.images.findByBlobKey(key)) queued.push(image.uuid);
  }
  return { cached, queued };
}

/** Queues an active image's data to be read into the cache from one of its remote stores. */
export async function queueForCache(deps: CacheDeps, principal: Principal, uuid: string): Promise<void> {
  const cache = cacheOf(deps, principal);
  const image = await loadImage(deps.catalog, principal, "images.get", { uuid });
  if (!isActive(image) || !image.blobKey || image.checksumSha512 === null || image.size === null) {
    throw invalidArgument(`Image ${uuid} is not active: only active images can be cached`);
  }
  if (!prefetch(deps, cache, image)) {
    throw invalidArgument(
      `Image ${uuid}'s data is in no remote store: it is read from local disks, not cached`,
    );
  }
}

/** How many pooled images a node keeps ready at most (the cache's own bound still applies). */
const POOLED_LIMIT = 1000;

/**
 * Queues the data of every active pooled image (Yandex's `pooled`: kept ready for fast disk
 * creation) that this node's cache does not hold, from its S3 store; each node runs it for its
 * own cache. Returns the images queued.
 */
export async function prefetchPooled(deps: CacheDeps): Promise<string[]> {
  const { cache } = deps;
  if (!cache) return [];
  const queued: string[] = [];
  for (const image of await deps.catalog.images.findPooled(POOLED_LIMIT)) {
    if (!image.blobKey || (await cache.has(image.blobKey))) continue;
    if (prefetch(deps, cache, image)) queued.push(image.id);
  }
  return queued;
}

/**
 * Queues the image's data for pre-fetch from one of its remote (S3) stores configured here;
 * false when it is in none (it is read from local disks, not cached).
 */
function prefetch(deps: CacheDeps, cache: ImageCache, image: Image): boolean {
  const remote = remoteStores(deps);
  const from = storesOf(image, deps).find((id) => remote.has(id) && deps.stores.get(id));
  const { blobKey: key, checksumSha512: sha512, size } = image;
  if (!from || !key || sha512 === null || size === null) return false;
  cache.prefetch(key, () => deps.stores.get(from)!.read(key), { sha512, size });
  return true;
}

export async function removeFromCache(deps: CacheDeps, principal: Principal, uuid: string): Promise<void> {
  const cache = cacheOf(deps, principal);
  const image = await loadImage(deps.catalog, principal, "images.get", { uuid });
  if (image.blobKey) await cache.remove(image.blobKey);
}

/** Empties the cache, its pre-fetch queue, or both. */
export async function clearCache(
  deps: CacheDeps,
  principal: Principal,
  target: "cache" | "queue" | "both",
): Promise<void> {
  const cache = cacheOf(deps, principal);
  if (target !== "cache") cache.clearQueue();
  if (target !== "queue") for (const entry of await cache.entries()) await cache.remove(entry.key);
}
