import type { CoreDeps } from "../core-deps.js";
import type { Operation } from "../operation.js";
import { decodePageToken, encodePageToken } from "../page-token.js";
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
  const fingerprint = `operations:${image.id}`;
  const cursor = pageToken ? decodePageToken(pageToken, fingerprint) : undefined;
  // Operation cursors always carry their (numeric) timestamp: 20-char id + 8 bytes fit.
  const after = cursor ? { createdAt: Number(cursor.value ?? 0), id: cursor.id } : undefined;
  const rows = await deps.catalog.operations.listForResource(image.id, pageSize, after);
  const items = rows.slice(0, pageSize);
  const last = items[items.length - 1];
  const nextPageToken =
    rows.length > pageSize && last
      ? encodePageToken(fingerprint, { value: last.createdAt, id: last.id })
      : "";
  return { items, nextPageToken };
}
