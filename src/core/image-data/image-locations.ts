import type { CoreDeps } from "../core-deps.js";
import { permissionDenied } from "../errors.js";
import { loadImage } from "../images/image-loader.js";
import type { Principal } from "../principal.js";
import { storeLocationsOf } from "./image-stores.js";

/**
 * Where an image's bytes live in the blob store, for operators (admins only: a location names
 * the storage behind the service). An image without data has none. These are where the bytes are
 * served from; the URLs a client gave as locations (source-locations.ts) are only read from.
 */
export async function imageLocations(
  deps: Pick<CoreDeps, "catalog" | "stores">,
  principal: Principal,
  uuid: string,
): Promise<{ url: string; store: string }[]> {
  if (!principal.isAdmin) throw permissionDenied("Only admins may see where image data is stored.");
  const image = await loadImage(deps.catalog, principal, "images.get", { uuid });
  return storeLocationsOf(image, deps);
}
