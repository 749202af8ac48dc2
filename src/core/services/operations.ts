import type { OperationEngine } from "../../operations/engine.js";
import type { Db } from "../../storage/meta/database.js";
import type { OperationsRepo } from "../../storage/meta/operations-repo.js";
import { authorize } from "../access.js";
import { failedPrecondition, notFound } from "../errors.js";
import type { Operation } from "../operation.js";
import type { Principal } from "../principal.js";

/** How long a cancel call waits for the operation to wind down before answering. */
const CANCEL_WAIT_MS = 5_000;

export class OperationService {
  constructor(private readonly deps: { db: Db; operations: OperationsRepo; engine: OperationEngine }) {}

  async get(principal: Principal, id: string): Promise<Operation> {
    const op = await this.deps.operations.findById(this.deps.db, id);
    if (!op) throw notFound(`Operation ${id} not found`);
    // Whoever started an operation may follow it (an image-level editor has no folder role).
    if (op.createdBy !== principal.subjectId || principal.anonymous) {
      authorize(principal, "operations.get", op.folderId);
    }
    return op;
  }

  /** Cancels a running operation and returns it, ended with CANCELLED when it stopped in time. */
  async cancel(principal: Principal, id: string): Promise<Operation> {
    const op = await this.get(principal, id);
    if (op.createdBy !== principal.subjectId) authorize(principal, "operations.cancel", op.folderId);
    if (op.done) throw failedPrecondition(`Operation ${id} is already done`);
    if (!this.deps.engine.handlerFor(op).cancellable) {
      throw failedPrecondition(`Operation ${id} (${op.description}) cannot be cancelled`);
    }
    await this.deps.engine.cancel(op);
    const deadline = Date.now() + CANCEL_WAIT_MS;
    for (;;) {
      const current = await this.get(principal, id);
      if (current.done || Date.now() > deadline) return current;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
