import type { ImageChange } from "../../core/image-change.js";
import type { CreateImageInput } from "../../core/images/create-image.js";
import { Rules, checkLabels, parseUpdateMask, type LabelRules } from "../yandex/validation.js";
import type { CreateImageBody, UpdateImageBody } from "./schemas.js";

/** Field rules of the BareMetal Image API v1alpha (annotated in its protos). */
/**
 * The definition's folder pattern, or a Keystone project id (32 hex digits, often starting with
 * a digit): in Keystone mode a project is a folder, and it may use every dialect.
 */
export const FOLDER_PATTERN = "[a-z][a-z0-9.-]*|[0-9a-f]{32}";
export const NAME_PATTERN = "[a-z]([-a-z0-9]*[a-z0-9])?";
export const IMAGE_ID_PATTERN = "[a-z][a-z0-9]*";
/** Narrower than Compute's: no `.`, `/` or `@`. */
export const BAREMETAL_LABELS: LabelRules = {
  maxCount: 64,
  keyPattern: "[a-z][-_0-9a-z]*",
  valuePattern: "[-_0-9a-z]*",
};

function checkCommon(
  r: Rules,
  body: { name?: string; description?: string; labels?: Record<string, string> },
): void {
  r.lengthBetween("name", body.name, 2, 63).pattern("name", body.name, NAME_PATTERN);
  r.maxLength("description", body.description, 1024);
  checkLabels(r, "labels", body.labels, BAREMETAL_LABELS);
}

export function toCreateInput(body: CreateImageBody): Omit<CreateImageInput, "idempotencyKey"> {
  const r = new Rules();
  r.id("folderId", body.folderId).pattern("folderId", body.folderId, FOLDER_PATTERN);
  r.required("name", body.name);
  checkCommon(r, body);
  r.required("uri", body.uri).maxLength("uri", body.uri, 1024);
  r.check();
  return {
    kind: "baremetal",
    folderId: body.folderId!,
    name: body.name!,
    description: body.description ?? "",
    labels: body.labels ?? {},
    family: "",
    minDiskSize: 0,
    productIds: [],
    osType: "LINUX",
    pooled: false,
    hardwareGeneration: null,
    source: { type: "uri", uri: body.uri! },
    operationDescription: "Create image",
  };
}

const UPDATABLE: Record<string, "name" | "description" | "labels"> = {
  name: "name",
  description: "description",
  labels: "labels",
};

/**
 * With `updateMask`, the listed fields change (a listed field absent from the body is reset; a
 * name cannot be reset, as every bare-metal image has one). Without a mask, the fields present in
 * the body change. `labels` replaces the whole set.
 */
export function toChange(body: UpdateImageBody): ImageChange {
  const r = new Rules();
  const masked = parseUpdateMask(r, body.updateMask, UPDATABLE);
  if (masked?.includes("name")) r.required("name", body.name);
  const fields = masked ?? (["name", "description", "labels"] as const).filter((f) => body[f] !== undefined);
  checkCommon(r, body);
  r.check();
  const set: ImageChange["set"] = {};
  if (fields.includes("name")) set.name = body.name!;
  if (fields.includes("description")) set.description = body.description ?? "";
  if (fields.includes("labels")) set.labels = body.labels ?? {};
  return { set };
}

/** BareMetal image ids are exactly 20 characters `[a-z][a-z0-9]*`. */
export function checkImageId(id: string, field = "imageId"): void {
  const r = new Rules();
  r.lengthBetween(field, id, 20, 20).pattern(field, id, IMAGE_ID_PATTERN);
  r.check();
}
