import type { Image } from "../../core/image.js";
import { omitDefaults, timestamp } from "../yandex/json.js";
import type { ImageService } from "../yandex/image-service.js";
import { BAREMETAL_STATUS } from "./status.js";

export const BAREMETAL_PKG = "yandex.cloud.baremetal.v1alpha";

/** yandex.cloud.baremetal.v1alpha.Image in proto3 JSON; `checksum` is the MD5 of the ISO, in hex. */
export function renderBareMetalImage(image: Image): Record<string, unknown> {
  return omitDefaults({
    id: image.id,
    folderId: image.folderId,
    name: image.name,
    description: image.description,
    checksum: image.checksumMd5 ?? "",
    status: BAREMETAL_STATUS[image.status],
    createdAt: timestamp(image.createdAt),
    labels: image.labels,
  });
}

export const bareMetalService: ImageService = { pkg: BAREMETAL_PKG, renderImage: renderBareMetalImage };
