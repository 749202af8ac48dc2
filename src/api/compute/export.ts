import { Type, type Static } from "@sinclair/typebox";
import type { ExportImageInput } from "../../core/conversion/export-image.js";
import { Rules } from "../yandex/validation.js";
import { NAME_PATTERN } from "./rules.js";

/** ExportImageRequest's body over REST (`POST /images/{imageId}:export`), in proto3 JSON. */
export const ExportImageFields = {
  format: Type.Optional(Type.String()),
  folderId: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
};
export type ExportImageBody = Static<ReturnType<typeof Type.Object<typeof ExportImageFields>>>;

/** The request message as the core's export: the new image named and described as a create's would be. */
export function toExportInput(req: ExportImageBody): ExportImageInput {
  const r = new Rules();
  if (!req.format) r.fail("format", "is required: one of raw, qcow2, vmdk, vhd, vhdx");
  if (req.folderId) r.id("folderId", req.folderId);
  r.pattern("name", req.name, NAME_PATTERN);
  r.maxLength("description", req.description, 256);
  r.check();
  return {
    format: req.format ?? "",
    folderId: req.folderId || null,
    name: req.name ?? "",
    description: req.description ?? "",
    operationDescription: "Export image",
  };
}
