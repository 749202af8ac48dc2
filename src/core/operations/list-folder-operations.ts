import { authorize } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import type { Page } from "../images/page.js";
import type { Operation } from "../operation.js";
import { decodePageToken, encodePageToken } from "../page-token.js";
import type { Principal } from "../principal.js";

/**
 * A folder's operations, newest first, for whoever may read the folder: running work to watch or
 * cancel and failures to read (Vitrine's extension; the public API lists them per image only).
 */
export async function listFolderOperations(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  folderId: string,
  pageSize: number,
  pageToken: string,
): Promise<Page<Operation>> {
  authorize(principal, "operations.get", folderId);
  const fingerprint = `folder-operations:${folderId}`;
  const cursor = pageToken ? decodePageToken(pageToken, fingerprint) : undefined;
  const after = cursor ? { createdAt: Number(cursor.value ?? 0), id: cursor.id } : undefined;
  const rows = await deps.catalog.operations.listForFolder(folderId, pageSize, after);
  const items = rows.slice(0, pageSize);
  const last = items[items.length - 1];
  const nextPageToken =
    rows.length > pageSize && last
      ? encodePageToken(fingerprint, { value: last.createdAt, id: last.id })
      : "";
  return { items, nextPageToken };
}
