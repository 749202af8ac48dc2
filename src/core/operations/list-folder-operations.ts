import { authorize } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import type { Page } from "../images/page.js";
import type { Operation } from "../operation.js";
import type { Principal } from "../principal.js";
import { operationsPage } from "./operations-page.js";

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
  return operationsPage(`folder-operations:${folderId}`, pageSize, pageToken, (after) =>
    deps.catalog.operations.listForFolder(folderId, pageSize, after),
  );
}
