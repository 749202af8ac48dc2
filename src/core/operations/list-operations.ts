import type { CoreDeps } from "../core-deps.js";
import { invalidArgument, permissionDenied } from "../errors.js";
import type { Operation, OperationKind } from "../operation.js";
import type { Principal } from "../principal.js";

export interface ListOperationsInput {
  kind: OperationKind;
  limit: number;
  /** The id of the operation after which the page starts. */
  marker?: string;
}

/**
 * Every operation of one kind across all folders, newest first: the operator's view (OpenStack's
 * task list), so admins only.
 */
export async function listOperations(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  input: ListOperationsInput,
): Promise<{ items: Operation[]; more: boolean }> {
  if (!principal.isAdmin) throw permissionDenied("Only admins may list the operations of every folder.");
  const { operations } = deps.catalog;
  let after: { createdAt: number; id: string } | undefined;
  if (input.marker !== undefined) {
    const marker = await operations.findById(input.marker);
    if (!marker || marker.kind !== input.kind) {
      throw invalidArgument(`marker: no operation ${input.marker}`, [
        { field: "marker", description: "no such operation" },
      ]);
    }
    after = { createdAt: marker.createdAt, id: marker.id };
  }
  const rows = await operations.listByKind(input.kind, input.limit, after);
  return { items: rows.slice(0, input.limit), more: rows.length > input.limit };
}
