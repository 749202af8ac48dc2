import type { Deprecation, Image } from "../../core/image.js";
import { dataSizeOf, defaultMinDiskSize } from "../../core/image-sizes.js";
import { int64, omitDefaults, timestamp } from "../yandex/json.js";
import type { ImageService } from "../yandex/image-service.js";
import { COMPUTE_STATUS } from "./status.js";

export const COMPUTE_PKG = "yandex.cloud.compute.v1";

/** Images made without a hardware generation get the first (legacy) one, as Compute does. */
const DEFAULT_HARDWARE_GENERATION = { legacyFeatures: { pciTopology: "PCI_TOPOLOGY_V1" } };

/** yandex.cloud.compute.v1.Image in proto3 JSON (default values omitted). */
export function renderComputeImage(image: Image): Record<string, unknown> {
  return omitDefaults({
    id: image.id,
    folderId: image.folderId,
    createdAt: timestamp(image.createdAt),
    name: image.name,
    description: image.description,
    labels: image.labels,
    family: image.family,
    storageSize: int64(image.size ?? 0),
    size: int64(image.size ?? 0),
    // Images registered through OpenStack may have none; Compute always shows one.
    minDiskSize: int64(
      image.minDiskSize || (image.size === null ? 0 : defaultMinDiskSize(dataSizeOf(image))),
    ),
    productIds: image.productIds,
    status: COMPUTE_STATUS[image.status],
    os: { type: image.osType },
    pooled: image.pooled,
    hardwareGeneration: image.hardwareGeneration ?? DEFAULT_HARDWARE_GENERATION,
    deprecated: renderDeprecation(image.deprecation),
    lastUsedAt: image.lastUsedAt === null ? undefined : timestamp(image.lastUsedAt),
    useCount: int64(image.useCount),
  });
}

/** Vitrine's `deprecated` extension; left out for an image that is active with nothing scheduled. */
function renderDeprecation(d: Deprecation): Record<string, unknown> {
  const at = (ms: number | null) => (ms === null ? undefined : timestamp(ms));
  const plain = d.state === "ACTIVE" && !d.replacement && !d.deprecateAt && !d.obsoleteAt && !d.deleteAt;
  if (plain) return {};
  return omitDefaults({
    state: d.state,
    replacement: d.replacement?.id,
    deprecateAt: at(d.deprecateAt),
    obsoleteAt: at(d.obsoleteAt),
    deleteAt: at(d.deleteAt),
  });
}

export const computeService: ImageService = { pkg: COMPUTE_PKG, renderImage: renderComputeImage };
