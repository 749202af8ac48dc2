import { Type, type Static } from "@sinclair/typebox";
import type { ImageOrderField } from "../../core/image-query.js";

/**
 * Query shapes shared by the Yandex-style list calls. Query values arrive as strings; the
 * handlers parse numbers. Both the JSON (camelCase) and proto (snake_case) names are accepted,
 * as grpc-gateway does.
 */
export const ListImagesQuery = Type.Object({
  folderId: Type.Optional(Type.String()),
  folder_id: Type.Optional(Type.String()),
  pageSize: Type.Optional(Type.String()),
  page_size: Type.Optional(Type.String()),
  pageToken: Type.Optional(Type.String()),
  page_token: Type.Optional(Type.String()),
  filter: Type.Optional(Type.String()),
  orderBy: Type.Optional(Type.String()),
  order_by: Type.Optional(Type.String()),
});
export type ListImagesQuery = Static<typeof ListImagesQuery>;

export const PageQuery = Type.Object({
  pageSize: Type.Optional(Type.String()),
  page_size: Type.Optional(Type.String()),
  pageToken: Type.Optional(Type.String()),
  page_token: Type.Optional(Type.String()),
});
export type PageQuery = Static<typeof PageQuery>;

/** `orderBy` field names (camelCase and snake_case) → catalog columns. */
export const IMAGE_ORDER_FIELDS: Record<string, ImageOrderField> = {
  id: "id",
  name: "name",
  createdAt: "created_at",
  created_at: "created_at",
};

/** yandex.cloud.access shapes, shared by every service that binds roles on its resources. */
const Subject = Type.Object({ id: Type.String(), type: Type.String() }, { additionalProperties: false });
const AccessBinding = Type.Object(
  { roleId: Type.String(), subject: Subject },
  { additionalProperties: false },
);

/** Body of `:setAccessBindings` and `:updateAccessBindings` (one route, told apart by the verb). */
export const AccessBindingsBody = Type.Object(
  {
    resourceId: Type.Optional(Type.String()),
    accessBindings: Type.Optional(Type.Array(AccessBinding)),
    accessBindingDeltas: Type.Optional(
      Type.Array(
        Type.Object(
          { action: Type.Union([Type.String(), Type.Integer()]), accessBinding: AccessBinding },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export type AccessBindingsBody = Static<typeof AccessBindingsBody>;
