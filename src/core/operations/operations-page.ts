import type { Page } from "../images/page.js";
import type { Operation } from "../operation.js";
import { decodePageToken, pageOf } from "../page-token.js";

/** Where a newest-first page of operations starts: after the operation the token names. */
export type OperationCursor = { createdAt: number; id: string } | undefined;

/**
 * One page of a newest-first operation list, with page tokens bound to `fingerprint` (a token of
 * one list is refused by another). `read` returns up to `pageSize + 1` operations after the cursor.
 */
export async function operationsPage(
  fingerprint: string,
  pageSize: number,
  pageToken: string,
  read: (after: OperationCursor) => Promise<Operation[]>,
): Promise<Page<Operation>> {
  const cursor = pageToken ? decodePageToken(pageToken, fingerprint) : undefined;
  // Operation cursors always carry their (numeric) timestamp: 20-char id + 8 bytes fit.
  const rows = await read(cursor ? { createdAt: Number(cursor.value ?? 0), id: cursor.id } : undefined);
  return pageOf(rows, pageSize, fingerprint, (last) => ({ value: last.createdAt, id: last.id }));
}
