import type { Db } from "../../storage/meta/database.js";
import type { NewOperation, OperationsRepo } from "../../storage/meta/operations-repo.js";
import { newResourceId } from "../ids.js";
import type { Image } from "../image.js";
import type { Operation } from "../operation.js";
import type { Principal } from "../principal.js";

/** Stores an operation on `image` by `principal`, in the caller's transaction (every image service's). */
export function recordImageOperation(
  operations: OperationsRepo,
  trx: Db,
  principal: Principal,
  image: Image,
  kind: Operation["kind"],
  description: string,
  payload: Record<string, unknown>,
  extra: Pick<NewOperation, "result"> & { idempotencyKey?: string | null } = {},
): Promise<Operation> {
  return operations.insert(
    trx,
    {
      id: newResourceId(),
      kind,
      resourceKind: image.kind,
      resourceId: image.id,
      folderId: image.folderId,
      description,
      createdBy: principal.subjectId,
      payload,
      idempotencyKey: extra.idempotencyKey ?? null,
      result: extra.result,
    },
    Date.now(),
  );
}
