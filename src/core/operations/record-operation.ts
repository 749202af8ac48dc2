import { newResourceId } from "../ids.js";
import type { Image } from "../image.js";
import type { Operation, OperationTask } from "../operation.js";
import type { CatalogStores, OperationResult } from "../ports/catalog.js";
import type { Principal } from "../principal.js";

export interface ImageOperation {
  kind: Operation["kind"];
  /** The operation's description, in the dialect's words ("Create image"). */
  description: string;
  /** What a worker does; "none" for an operation complete when recorded. */
  task: OperationTask;
  /** The result of an operation complete when recorded. */
  result?: OperationResult;
  idempotencyKey?: string | null;
  /** The API request that started it (shown by OpenStack's image tasks). */
  requestId?: string | null;
  /** Scheduled work: no worker runs it before then (epoch ms). */
  notBefore?: number | null;
}

/** Stores an operation on `image` by `principal`, in the caller's transaction. */
export function recordImageOperation(
  tx: CatalogStores,
  principal: Pick<Principal, "subjectId">,
  image: Image,
  op: ImageOperation,
): Promise<Operation> {
  return tx.operations.insert(
    {
      id: newResourceId(),
      kind: op.kind,
      resourceKind: image.kind,
      resourceId: image.id,
      folderId: image.folderId,
      description: op.description,
      createdBy: principal.subjectId,
      task: op.task,
      idempotencyKey: op.idempotencyKey ?? null,
      requestId: op.requestId ?? null,
      result: op.result,
      notBefore: op.notBefore ?? null,
    },
    Date.now(),
  );
}

/**
 * Records a change saved at once: an operation on `current` (its folder as it was: an owner
 * change stays with the folder that had the image), done when recorded, answering the image saved.
 */
export function recordSavedChange(
  tx: CatalogStores,
  principal: Pick<Principal, "subjectId">,
  current: Image,
  saved: Image,
  kind: Operation["kind"],
  description: string,
): Promise<Operation> {
  return recordImageOperation(tx, principal, current, {
    kind,
    description,
    task: { type: "none" },
    result: { response: { type: "image", image: saved } },
  });
}
