import type { CoreDeps } from "../core-deps.js";
import { permissionDenied } from "../errors.js";
import { loadImage } from "../images/image-loader.js";
import { hasData } from "../image-states.js";
import type { Principal } from "../principal.js";
import { storesOf } from "./image-stores.js";

/**
 * Where an image's bytes live in the blob store, for operators (admins only: a location names
 * the storage behind the service). An image without data has none. Locations are read-only: the
 * service keeps only bytes it received, hashed and inspected itself, so nobody points an image
 * at bytes elsewhere.
 */
export async function imageLocations(
  deps: Pick<CoreDeps, "catalog" | "stores">,
  principal: Principal,
  uuid: string,
): Promise<{ url: string; store: string }[]> {
  if (!principal.isAdmin) throw permissionDenied("Only admins may see where image data is stored.");
  const image = await loadImage(deps.catalog, principal, "images.get", { uuid });
  if (!hasData(image) || !image.blobKey) return [];
  const key = image.blobKey;
  return storesOf(image, deps).flatMap((store) => {
    const blobs = deps.stores.get(store);
    return blobs ? [{ url: blobs.locationOf(key), store }] : [];
  });
}
