import type { Authenticator } from "../../auth/authenticator.js";
import type { Image, ImageKind } from "../../core/image.js";
import type { ImageService } from "../../core/services/images.js";
import type { Operation } from "../../core/operation.js";
import { renderStatus } from "./errors.js";
import { EMPTY_RESPONSE, any, timestamp } from "./json.js";

/** How one Yandex-style image service names its types and renders its Image. */
export interface ImageDialect {
  /** Proto package, e.g. "yandex.cloud.compute.v1". */
  pkg: string;
  renderImage(image: Image): Record<string, unknown>;
}

/** What a Yandex-style images plugin is given: the image use cases, authentication, and the dialects. */
export interface ImageRoutesOptions {
  images: ImageService;
  auth: Authenticator;
  dialects: Record<ImageKind, ImageDialect>;
}

const METADATA_TYPE: Record<Operation["kind"], string> = {
  "image.create": "CreateImageMetadata",
  "image.update": "UpdateImageMetadata",
  "image.delete": "DeleteImageMetadata",
};

/** The Operation resource, with metadata and response typed for the service that owns the image. */
export function renderOperation(
  op: Operation,
  dialects: Record<ImageKind, ImageDialect>,
): Record<string, unknown> {
  const dialect = dialects[op.resourceKind];
  const out: Record<string, unknown> = {
    id: op.id,
    description: op.description,
    createdAt: timestamp(op.createdAt),
    createdBy: op.createdBy,
    modifiedAt: timestamp(op.modifiedAt),
    done: op.done,
    metadata: any(`${dialect.pkg}.${METADATA_TYPE[op.kind]}`, { imageId: op.resourceId }),
  };
  if (op.error) {
    const { details } = renderStatus(op.error.code, op.error.message, op.error.violations ?? []);
    out.error = { code: renderStatus(op.error.code, "").code, message: op.error.message, details };
  } else if (op.response) {
    out.response =
      op.response.type === "image"
        ? any(`${dialect.pkg}.Image`, dialect.renderImage(op.response.image))
        : EMPTY_RESPONSE;
  }
  return out;
}
