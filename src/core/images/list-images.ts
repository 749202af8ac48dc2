import { authorize } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { invalidArgument } from "../errors.js";
import type { ImageCondition, ImageOrderField } from "../image-query.js";
import { BINNED_STATUSES } from "../image-states.js";
import type { Image, ImageKind } from "../image.js";
import { type Cursor, decodePageToken, pageOf } from "../page-token.js";
import type { Principal } from "../principal.js";
import type { Page } from "./page.js";

export interface ListImagesInput {
  kind: ImageKind;
  folderId: string;
  conditions: ImageCondition[];
  order: { field: ImageOrderField; dir: "asc" | "desc" };
  pageSize: number;
  pageToken: string;
}

/** One page of a folder's images of one kind (the Yandex dialects' list), in keyset order. */
export async function listImages(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  input: ListImagesInput,
): Promise<Page<Image>> {
  const { catalog } = deps;
  authorize(principal, "images.list", input.folderId);
  const fingerprint = JSON.stringify([input.kind, input.folderId, input.conditions, input.order]);
  const after = input.pageToken
    ? await resolveCursor(deps, decodePageToken(input.pageToken, fingerprint), input.order.field)
    : undefined;
  const rows = await catalog.imageViews.list({
    kind: input.kind,
    folderId: input.folderId,
    // Images in the recycle bin are deleted for the dialects: the bin lists them on its own.
    conditions: [...input.conditions, { field: "status", op: "not in", values: [...BINNED_STATUSES] }],
    order: input.order,
    after,
    limit: input.pageSize,
  });
  return pageOf(rows, input.pageSize, fingerprint, (last) => ({
    value: sortValue(last, input.order.field),
    id: last.id,
  }));
}

/** A cursor whose sort value did not fit in the token takes it from the row it names. */
async function resolveCursor(
  deps: Pick<CoreDeps, "catalog">,
  cursor: Cursor,
  field: ImageOrderField,
): Promise<{ value: string | number; id: string }> {
  if (cursor.value !== undefined) return { value: cursor.value, id: cursor.id };
  const row = await deps.catalog.images.findById(cursor.id);
  if (!row) {
    throw invalidArgument(
      "pageToken: the page token's position no longer exists; list again from the first page",
      [{ field: "pageToken", description: "expired page token" }],
    );
  }
  return { value: sortValue(row, field), id: row.id };
}

function sortValue(image: Image, field: ImageOrderField): string | number {
  if (field === "created_at") return image.createdAt;
  if (field === "name") return image.name;
  return image.id;
}
