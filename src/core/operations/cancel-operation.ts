import { authorize } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition } from "../errors.js";
import type { Operation } from "../operation.js";
import type { Principal } from "../principal.js";
import { getOperation } from "./get-operation.js";

/** How long a cancel call waits for the operation to wind down before answering. */
const CANCEL_WAIT_MS = 5_000;

/** Cancels a running operation and returns it, ended with CANCELLED when it stopped in time. */
export async function cancelOperation(
  deps: Pick<CoreDeps, "catalog" | "queue">,
  principal: Principal,
  id: string,
): Promise<Operation> {
  const op = await getOperation(deps, principal, id);
  if (op.createdBy !== principal.subjectId) authorize(principal, "operations.cancel", op.folderId);
  if (op.done) throw failedPrecondition(`Operation ${id} is already done`);
  if (!deps.queue.isCancellable(op)) {
    throw failedPrecondition(`Operation ${id} (${op.description}) cannot be cancelled`);
  }
  await deps.queue.cancel(op);
  const deadline = Date.now() + CANCEL_WAIT_MS;
  for (;;) {
    const current = await getOperation(deps, principal, id);
    if (current.done || Date.now() > deadline) return current;
    await new Promise((r) => setTimeout(r, 50));
  }
}
