import type { CoreDeps } from "../core-deps.js";
import type { Operation } from "../operation.js";
import { operationsPage } from "../operations/operations-page.js";
import type { Principal } from "../principal.js";
import { type ImageRef, loadImage } from "./image-loader.js";
import type { Page } from "./page.js";

/** An image's operations, newest first. */
export async function listImageOperations(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  ref: ImageRef,
  pageSize: number,
  pageToken: string,
): Promise<Page<Operation>> {
  const image = await loadImage(deps.catalog, principal, "images.get", ref);
  return operationsPage(`operations:${image.id}`, pageSize, pageToken, (after) =>
    deps.catalog.operations.listForResource(image.id, pageSize, after),
  );
}
