import { aborted, alreadyExists } from "../errors.js";
import type { Image } from "../image.js";
import type { CatalogStores } from "../ports/catalog.js";

/**
 * Saves `next` over `current`, failing with ABORTED when the stored image is no longer what was
 * read (another request or worker changed it first). `label` names the image as the caller did.
 */
export async function saveImage(
  tx: CatalogStores,
  current: Image,
  next: Image,
  label: string = current.id,
): Promise<Image> {
  const saved = await tx.images.save(current, next, Date.now());
  if (!saved) throw aborted(`Image ${label} was changed concurrently; retry`);
  return saved;
}

/**
 * Whether another image of the folder (and kind) has `image`'s name; the empty name is not a
 * name. Holds the name for the rest of the transaction (see ImageStore.isNameTaken).
 */
export function isNameTaken(tx: CatalogStores, image: Image): Promise<boolean> {
  if (image.name === "") return Promise.resolve(false);
  return tx.images.isNameTaken(image.kind, image.folderId, image.name, image.id);
}

export function nameTaken(image: Image) {
  return alreadyExists(`Image with name ${image.name} already exists in folder ${image.folderId}`);
}

/** Names are unique per folder (and kind) where a dialect asks for it. */
export async function assertNameFree(tx: CatalogStores, image: Image): Promise<void> {
  if (await isNameTaken(tx, image)) throw nameTaken(image);
}
