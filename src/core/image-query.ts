import type { Image, ImageKind, ImageStatus } from "./image.js";

/**
 * The vocabulary of image lists, in core terms: dialects translate their filter and sort syntax
 * into these, the core adds who may see what, and the catalog's read model says it in SQL.
 */

/** A folder list condition (the Yandex dialects' `filter`). */
export type ImageCondition =
  | {
      field: "id" | "name" | "family" | "status";
      /** "contains": the field contains the (single) value as a substring. */
      op: "in" | "not in" | "contains";
      values: string[];
    }
  /** Last use before or after a time (epoch ms); an image never used counts from its creation. */
  | { field: "last_used"; op: "<" | ">="; values: [number] };

export type ImageOrderField = "id" | "created_at" | "name";

/** One page of one folder's images of one kind, in keyset order. */
export interface ImageListQuery {
  kind: ImageKind;
  folderId: string;
  conditions: ImageCondition[];
  order: { field: ImageOrderField; dir: "asc" | "desc" };
  /** Keyset cursor: the sort value and id of the last row of the previous page. */
  after?: { value: string | number; id: string };
  limit: number;
}

/** A column the cross-folder search can filter on, with its comparison. */
export interface ColumnCondition {
  column:
    | "uuid"
    | "name"
    | "kind"
    | "family"
    /** The labels as stored (JSON); only "contains" of one `"key":"value"` pair. */
    | "labels"
    | "status"
    | "visibility"
    | "folder_id"
    | "disk_format"
    | "container_format"
    | "protected"
    | "os_hidden"
    | "size"
    | "virtual_size"
    | "checksum_md5"
    | "checksum_sha512"
    | "min_ram"
    | "min_disk_size"
    | "created_at"
    | "updated_at"
    /** When the image was last used, or created when it never was (core/lifecycle). */
    | "last_used"
    | "deprecation_state";
  /** "contains": the column holds the (single) value as a substring, in any case. */
  op: "in" | "=" | "!=" | ">" | ">=" | "<" | "<=" | "contains";
  values: (string | number)[];
}

export type SearchSortKey =
  "name" | "status" | "container_format" | "disk_format" | "size" | "uuid" | "created_at" | "updated_at";

/**
 * Which images a caller may see in a cross-folder search (core/access.ts decides; the read model
 * only says it in SQL): everything, or images of `owners`, plus public/community ones, plus
 * shared images whose membership for one of `sharedWith.projects` is in one of
 * `sharedWith.statuses`.
 */
export interface SearchScope {
  all: boolean;
  owners: string[];
  public: boolean;
  community: boolean;
  sharedWith: { projects: string[]; statuses: string[] } | null;
}

/** One page of a cross-folder search (the OpenStack list), in keyset order. */
export interface ImageSearch {
  scope: SearchScope;
  /** Images in these statuses are left out. */
  hiddenStatuses: readonly ImageStatus[];
  conditions: ColumnCondition[];
  /** Every tag must be present. */
  tags: string[];
  /** Every property must have the value. */
  properties: { name: string; value: string }[];
  sort: { key: SearchSortKey; dir: "asc" | "desc" }[];
  /** The image the previous page ended with. */
  after?: Image;
  limit: number;
}
