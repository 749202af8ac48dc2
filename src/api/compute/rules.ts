import type { ImageChange, ResettableField } from "../../core/image-change.js";
import { MIN_DISK_SIZE_LOWER, MIN_DISK_SIZE_UPPER } from "../../core/image-sizes.js";
import type { HardwareGeneration, OsType } from "../../core/image.js";
import type { CreateImageInput } from "../../core/images/create-image.js";
import {
  ID_MAX_LENGTH,
  Rules,
  checkLabels,
  parseInt64,
  parseUpdateMask,
  type LabelRules,
} from "../yandex/validation.js";
import type { CreateImageBody, UpdateImageBody } from "./schemas.js";

/** Field rules of the Compute Image API v1, as the API reference documents them. */
export const NAME_PATTERN = "|[a-z]([-a-z0-9]{0,61}[a-z0-9])?";
export const FAMILY_PATTERN = "|[a-z][-a-z0-9]{1,61}[a-z0-9]";
export const COMPUTE_LABELS: LabelRules = {
  maxCount: 64,
  keyPattern: "[a-z][-_./\\@0-9a-z]*",
  valuePattern: "[-_./\\@0-9a-z]*",
};

/** Formats a Compute image may hold, per source: object-storage uploads, and volumes. */

const OS_TYPES: Record<string, OsType | null> = {
  LINUX: "LINUX",
  WINDOWS: "WINDOWS",
  "1": "LINUX",
  "2": "WINDOWS",
  TYPE_UNSPECIFIED: null,
  "0": null,
};
const PCI_TOPOLOGIES: Record<string, "PCI_TOPOLOGY_UNSPECIFIED" | "PCI_TOPOLOGY_V1" | "PCI_TOPOLOGY_V2"> = {
  PCI_TOPOLOGY_UNSPECIFIED: "PCI_TOPOLOGY_UNSPECIFIED",
  PCI_TOPOLOGY_V1: "PCI_TOPOLOGY_V1",
  PCI_TOPOLOGY_V2: "PCI_TOPOLOGY_V2",
  "0": "PCI_TOPOLOGY_UNSPECIFIED",
  "1": "PCI_TOPOLOGY_V1",
  "2": "PCI_TOPOLOGY_V2",
};

/** Validates a CreateImageRequest and turns it into the core's input; throws with every violation. */
export function toCreateInput(body: CreateImageBody): Omit<CreateImageInput, "idempotencyKey"> {
  const r = new Rules();
  r.id("folderId", body.folderId);
  r.pattern("name", body.name, NAME_PATTERN);
  r.maxLength("description", body.description, 256);
  checkLabels(r, "labels", body.labels, COMPUTE_LABELS);
  r.pattern("family", body.family, FAMILY_PATTERN);
  const minDiskSize = parseInt64(r, "minDiskSize", body.minDiskSize);
  if (minDiskSize !== null && minDiskSize !== 0)
    r.range("minDiskSize", minDiskSize, MIN_DISK_SIZE_LOWER, MIN_DISK_SIZE_UPPER);
  body.productIds?.forEach((p, i) => r.maxLength(`productIds[${i}]`, p, ID_MAX_LENGTH));
  let osType: OsType | null = null;
  if (body.os?.type !== undefined) {
    const mapped = OS_TYPES[String(body.os.type)];
    if (mapped === undefined) r.fail("os.type", "must be LINUX or WINDOWS");
    else osType = mapped;
  }
  const hardwareGeneration = toHardwareGeneration(r, body.hardwareGeneration);

  const sources = (["imageId", "diskId", "snapshotId", "uri"] as const).filter(
    (k) => body[k] !== undefined && body[k] !== "",
  );
  if (sources.length !== 1) {
    r.fail(
      "source",
      sources.length === 0
        ? "exactly one of imageId, diskId, snapshotId, uri is required"
        : `exactly one of imageId, diskId, snapshotId, uri may be set, not ${sources.join(" and ")}`,
    );
  }
  for (const k of ["imageId", "diskId", "snapshotId"] as const) r.maxLength(k, body[k], ID_MAX_LENGTH);
  r.check();

  const which = sources[0]!;
  const source: CreateImageInput["source"] =
    which === "uri"
      ? { type: "uri", uri: body.uri! }
      : which === "imageId"
        ? { type: "image", imageId: body.imageId! }
        : { type: which === "diskId" ? "disk" : "snapshot", id: body[which]! };
  return {
    kind: "compute",
    folderId: body.folderId!,
    name: body.name ?? "",
    description: body.description ?? "",
    labels: body.labels ?? {},
    family: body.family ?? "",
    minDiskSize: minDiskSize ?? 0,
    productIds: body.productIds ?? null,
    osType,
    pooled: body.pooled ?? false,
    hardwareGeneration,
    source,
    operationDescription: "Create image",
  };
}

function toHardwareGeneration(
  r: Rules,
  hw: CreateImageBody["hardwareGeneration"],
): HardwareGeneration | null {
  if (!hw) return null;
  if (hw.legacyFeatures && hw.generation2Features) {
    r.fail("hardwareGeneration", "only one of legacyFeatures and generation2Features may be set");
    return null;
  }
  if (hw.generation2Features) return { generation2Features: {} };
  if (hw.legacyFeatures) {
    const topology = PCI_TOPOLOGIES[String(hw.legacyFeatures.pciTopology ?? "PCI_TOPOLOGY_UNSPECIFIED")];
    if (!topology) {
      r.fail("hardwareGeneration.legacyFeatures.pciTopology", "must be PCI_TOPOLOGY_V1 or PCI_TOPOLOGY_V2");
      return null;
    }
    return { legacyFeatures: { pciTopology: topology } };
  }
  return null;
}

/** The fields UpdateImageRequest may change, by their JSON (and proto) names. */
const UPDATABLE: Record<string, ResettableField> = {
  name: "name",
  description: "description",
  labels: "labels",
  minDiskSize: "minDiskSize",
  min_disk_size: "minDiskSize",
};

/**
 * Reads an UpdateImageRequest as a change, as the API reference defines it: with `updateMask`, only
 * the listed fields change, and a listed field absent from the body is reset to its default;
 * without a mask every updatable field takes the body's value or its default. `labels` replaces
 * the whole set. The default minDiskSize is the one the image would get at creation.
 */
export function toChange(body: UpdateImageBody): ImageChange {
  const r = new Rules();
  const fields = parseUpdateMask(r, body.updateMask, UPDATABLE) ?? [
    "name",
    "description",
    "labels",
    "minDiskSize",
  ];
  r.pattern("name", body.name, NAME_PATTERN);
  r.maxLength("description", body.description, 256);
  checkLabels(r, "labels", body.labels, COMPUTE_LABELS);
  const minDiskSize = parseInt64(r, "minDiskSize", body.minDiskSize);
  if (minDiskSize !== null && minDiskSize !== 0)
    r.range("minDiskSize", minDiskSize, MIN_DISK_SIZE_LOWER, MIN_DISK_SIZE_UPPER);
  r.check();

  const set: ImageChange["set"] = {};
  const reset: ResettableField[] = [];
  for (const field of fields) {
    if (field === "name") set.name = body.name ?? "";
    if (field === "description") set.description = body.description ?? "";
    if (field === "labels") set.labels = body.labels ?? {};
    if (field === "minDiskSize") {
      if (minDiskSize) set.minDiskSize = minDiskSize;
      else reset.push("minDiskSize");
    }
  }
  return { set, reset };
}
