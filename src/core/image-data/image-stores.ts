import type { Readable } from "node:stream";
import type { CoreDeps } from "../core-deps.js";
import { invalidArgument, unavailable } from "../errors.js";
import type { Image } from "../image.js";
import { hasData } from "../image-states.js";

/** The stores holding an image's data: the ones it records, or the primary one for older data. */
export function storesOf(image: Pick<Image, "stores">, deps: Pick<CoreDeps, "stores">): string[] {
  return image.stores.length > 0 ? image.stores : [deps.stores.primary];
}

/** The stores that are remote (S3): what the node cache keeps copies of. */
export function remoteStores(deps: Pick<CoreDeps, "stores">): Set<string> {
  return new Set(
    deps.stores
      .list()
      .filter((s) => s.kind === "s3")
      .map((s) => s.id),
  );
}

/** Where each of an image's stores keeps its data (none without data), for operators. */
export function storeLocationsOf(
  image: Image,
  deps: Pick<CoreDeps, "stores">,
): { url: string; store: string }[] {
  if (!hasData(image) || !image.blobKey) return [];
  const key = image.blobKey;
  return storesOf(image, deps).flatMap((store) => {
    const blobs = deps.stores.get(store);
    return blobs ? [{ url: blobs.locationOf(key), store }] : [];
  });
}

/** Refuses a store id the installation does not have. */
export function assertStoreExists(deps: Pick<CoreDeps, "stores">, id: string): void {
  if (!deps.stores.get(id)) {
    const known = deps.stores
      .list()
      .map((s) => s.id)
      .join(", ");
    throw invalidArgument(`Store ${id} does not exist; the stores are ${known}`).because("UNKNOWN_STORE", {
      store: id,
    });
  }
}

/**
 * Reads an image's data (or an inclusive range of it) from the first of its stores that answers:
 * the default store first, then the others in the image's order. A store that is down or lost
 * the blob is passed over (README "Stores, cache and regions"); the cache, when there is one,
 * is asked before any of them.
 */
export async function readImageBlob(
  deps: Pick<CoreDeps, "stores" | "cache">,
  image: Pick<Image, "stores" | "blobKey" | "checksumSha512" | "size">,
  range?: { start: number; end: number },
): Promise<Readable> {
  const key = image.blobKey!;
  const { stores, cache } = deps;
  const remote = remoteStores(deps);
  const ids = storesOf(image, deps).sort((a, b) => rank(a) - rank(b));
  function rank(id: string): number {
    return id === stores.defaultStore ? 0 : 1;
  }
  const cached = cache ? await cache.read(key, range) : null;
  if (cached) return cached;
  let lastError: unknown = null;
  for (const id of ids) {
    const store = stores.get(id);
    if (!store) continue;
    try {
      const stream = await store.read(key, range);
      if (cache && !range && remote.has(id) && image.checksumSha512 && image.size !== null) {
        return cache.fill(key, stream, { sha512: image.checksumSha512, size: image.size });
      }
      return stream;
    } catch (err) {
      lastError = err;
    }
  }
  throw unavailable(
    `The image's data could not be read from its stores (${ids.join(", ")})${lastError instanceof Error ? `: ${lastError.message}` : ""}`,
  ).because("STORE_UNAVAILABLE", { stores: ids.join(",") });
}
