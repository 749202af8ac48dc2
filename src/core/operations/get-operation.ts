import { authorize } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { notFound } from "../errors.js";
import type { Operation } from "../operation.js";
import type { Principal } from "../principal.js";

export async function getOperation(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  id: string,
): Promise<Operation> {
  const op = await deps.catalog.operations.findById(id);
  if (!op) throw notFound(`Operation ${id} not found`);
  // Whoever started an operation may follow it (an image-level editor has no folder role).
  if (op.createdBy !== principal.subjectId || principal.anonymous) {
    authorize(principal, "operations.get", op.folderId);
  }
  return op;
}
